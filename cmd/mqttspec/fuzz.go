package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"mqttspec/fuzz"
)

func init() {
	register(command{"fuzz", "fuzz a broker with mutated client sessions; 'fuzz repro FINDING' replays a finding", fuzzCmd})
}

const fuzzUsage = `usage: mqttspec fuzz [--target URL] [--seeds FILE.pcap]... [--port N] [--duration D] [--max-execs N]
                    [--exec "CMD"] [--oracle reference|none] [--findings DIR] [--seed N] [--parallel N] [--json F]
       mqttspec fuzz repro FINDING [--target URL] [--exec "CMD"]

Sends mutated MQTT client sessions to a broker, one connection per session,
and reports crashes, hangs, invalid packets the broker accepted, invalid
packets it sent, and (with --oracle reference) answers that differ from the
reference broker's. Each finding is minimized and saved in DIR as a
conformance script (mqttspec run --suite-dir DIR replays them all), raw hex,
a pcap and a JSON record. Without --target the embedded reference broker is
fuzzed. The n-th session of a run depends only on --seed, n and the seeds.

Exit status: 0 no finding (repro: it no longer happens); 1 findings (repro:
it still happens); 2 bad arguments or the broker could not be reached.

flags:
`

func fuzzCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "repro" {
		return fuzzRepro(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("fuzz", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, fuzzUsage); fs.PrintDefaults() }
	target := fs.String("target", "", "broker URL: tcp://, mqtt://, tls://, ws://, wss:// (default: the embedded reference broker)")
	var seedFiles []string
	fs.Func("seeds", "a pcap or pcapng capture whose client sessions seed the mutations (repeatable; default: built-in sessions)",
		func(s string) error { seedFiles = append(seedFiles, s); return nil })
	var ports pcapPorts
	fs.Var(&ports, "port", "TCP port that carries MQTT in the captures, besides those found by content (repeatable)")
	duration := fs.Duration("duration", 0, "how long to fuzz (default 60s when --max-execs is not given either)")
	maxExecs := fs.Int64("max-execs", 0, "how many sessions to run")
	execCmd := fs.String("exec", "", "shell command that starts the broker; it is restarted after each crash")
	oracle := fs.String("oracle", "none", "reference: compare every answer with the reference broker's; none")
	findings := fs.String("findings", "fuzz-findings", "directory for the findings")
	seed := fs.Int64("seed", time.Now().UnixNano()%1_000_000, "selects the sessions (printed in the summary, to replay a run)")
	parallel := fs.Int("parallel", 0, "sessions at once (default 8 per CPU)")
	jsonOut := fs.String("json", "", "write the statistics and findings as JSON to this file")
	answerWait := fs.Duration("answer-wait", 2*time.Second, "how long one session waits for the broker to answer and close")
	probeTimeout := fs.Duration("probe-timeout", 2*time.Second, "how long the liveness probe waits")
	minimize := fs.Int("minimize-checks", 400, "re-executions spent minimizing one finding")
	quiet := fs.Bool("quiet", false, "no live status line")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mqttspec fuzz: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *execCmd != "" && *target == "" {
		fmt.Fprintln(stderr, "mqttspec fuzz: --exec needs --target, the address the started broker listens on")
		return 2
	}
	o := fuzz.Options{Target: *target, Exec: *execCmd, Duration: *duration, MaxExecs: *maxExecs, Oracle: *oracle,
		FindingsDir: *findings, Seed: *seed, Parallel: *parallel, AnswerWait: *answerWait, ProbeTimeout: *probeTimeout,
		MinimizeChecks: *minimize, Log: stderr}
	for _, path := range seedFiles {
		s, err := fuzz.SeedsFromCapture(path, ports)
		if err != nil {
			fmt.Fprintln(stderr, "mqttspec fuzz: --seeds:", err)
			return 2
		}
		if len(s) == 0 {
			fmt.Fprintf(stderr, "mqttspec fuzz: --seeds %s: no MQTT client session found (try --port)\n", path)
			return 2
		}
		o.Seeds = append(o.Seeds, s...)
	}
	if o.Target == "" {
		ref, err := startReference()
		if err != nil {
			fmt.Fprintln(stderr, "mqttspec fuzz: starting the reference broker:", err)
			return 2
		}
		defer ref.stop()
		o.Target = ref.url
	}
	if !*quiet && isTerminal(stderr) {
		o.Status = stderr
	}
	f, err := fuzz.New(o)
	if err != nil {
		fmt.Fprintln(stderr, "mqttspec fuzz:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	st, err := f.Run(ctx)
	if st != nil {
		st.WriteSummary(stdout)
		if *jsonOut != "" {
			b, jerr := json.MarshalIndent(st, "", "  ")
			if jerr == nil {
				jerr = os.WriteFile(*jsonOut, append(b, '\n'), 0o644)
			}
			if jerr != nil {
				fmt.Fprintln(stderr, "mqttspec fuzz: --json:", jerr)
				return 2
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "mqttspec fuzz:", err)
		return 2
	}
	if len(st.Findings) > 0 {
		fmt.Fprintf(stdout, "findings saved in %s (replay: mqttspec run --target URL --suite-dir %s)\n", *findings, *findings)
		return 1
	}
	return 0
}

func fuzzRepro(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fuzz repro", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, fuzzUsage); fs.PrintDefaults() }
	target := fs.String("target", "", "broker URL (default: the embedded reference broker)")
	execCmd := fs.String("exec", "", "shell command that starts the broker")
	answerWait := fs.Duration("answer-wait", 2*time.Second, "how long the session waits for the broker")
	var path string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		path, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if path == "" && fs.NArg() == 1 {
		path = fs.Arg(0)
	} else if fs.NArg() > 0 || path == "" {
		fmt.Fprintln(stderr, "mqttspec fuzz repro: give one finding (its .json, .mqtts, .hex or .pcap file)")
		return 2
	}
	fd, err := fuzz.LoadFinding(path)
	if err != nil {
		fmt.Fprintln(stderr, "mqttspec fuzz repro:", err)
		return 2
	}
	url := *target
	if url == "" {
		ref, err := startReference()
		if err != nil {
			fmt.Fprintln(stderr, "mqttspec fuzz repro: starting the reference broker:", err)
			return 2
		}
		defer ref.stop()
		url = ref.url
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ok, what, err := fuzz.Repro(ctx, fd, fuzz.Options{Target: url, Exec: *execCmd, AnswerWait: *answerWait, MaxExecs: 1})
	if err != nil {
		fmt.Fprintln(stderr, "mqttspec fuzz repro:", err)
		return 2
	}
	if ok {
		fmt.Fprintf(stdout, "%s reproduces: %s\n", fd.ID, strings.TrimSpace(what))
		return 1
	}
	fmt.Fprintf(stdout, "%s does not reproduce: %s\n", fd.ID, what)
	return 0
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
