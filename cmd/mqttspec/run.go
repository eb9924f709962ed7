package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"mqttspec/codec"
	"mqttspec/conformance"
	"mqttspec/reports"
)

func init() {
	register(command{"run", "run the conformance suite against a broker (default: the embedded reference broker)", runCmd})
}

func runCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("target", "", "broker URL: tcp://, mqtt://, tls://, mqtts://, ws://, wss:// (default: start the reference broker in-process)")
	versions := fs.String("version", "all", "MQTT versions to test: 3.1.1, 5.0 or all (all includes 3.1 cases)")
	runRe := fs.String("run", "", "run only cases whose ID matches this regexp")
	skipRe := fs.String("skip", "", "skip cases whose ID matches this regexp")
	tags := fs.String("tags", "", "comma-separated tags: run only cases with one of them")
	parallel := fs.Int("parallel", 16, "cases run at once")
	user := fs.String("username", "", "user name for every CONNECT")
	pass := fs.String("password", "", "password for every CONNECT")
	cidPrefix := fs.String("client-id-prefix", "ms", "prefix of the client identifiers the suite uses")
	topicPrefix := fs.String("topic-prefix", "mqttspec", "prefix of every topic the suite uses")
	tlsCA := fs.String("tls-ca", "", "PEM file of the CA that signed the broker's certificate")
	tlsCert := fs.String("tls-cert", "", "PEM client certificate")
	tlsKey := fs.String("tls-key", "", "PEM client key")
	insecure := fs.Bool("insecure", false, "do not verify the broker's TLS certificate")
	profile := fs.String("profile", "", "broker profile: a file, or a built-in name ("+strings.Join(conformance.BuiltinProfiles(), ", ")+"); what the broker does not support (see docs/scripts.md)")
	timeout := fs.Duration("timeout", 2*time.Second, "how long an expectation waits for the broker")
	repeat := fs.Int("repeat", 1, "run each case `N` times (1-100): a case fails if any run fails and says in how many, which catches rules a broker breaks only now and then")
	suiteDir := fs.String("suite-dir", "", "directory of *.mqtts files that add or replace cases")
	jsonOut := fs.String("json", "", "write the full result as JSON to this file (schema: docs/report-schema.md)")
	htmlOut := fs.String("html", "", "write a self-contained HTML report to this file")
	junitOut := fs.String("junit", "", "write JUnit XML (one testsuite per spec section) to this file")
	pcapDir := fs.String("pcap", "", "save each case's traffic as DIR/<case>.pcap (the HTML report links to them)")
	quiet := fs.Bool("quiet", false, "print only the summary")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mqttspec run: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *repeat < 1 || *repeat > 100 {
		fmt.Fprintf(stderr, "mqttspec run: --repeat %d: want 1 to 100\n", *repeat)
		return 2
	}
	opts := conformance.Options{Parallel: *parallel, Username: *user, Password: *pass, ClientIDPrefix: *cidPrefix,
		TopicPrefix: *topicPrefix, Timeout: *timeout, Repeat: *repeat}
	var err error
	if opts.Versions, err = parseVersions(*versions); err != nil {
		fmt.Fprintln(stderr, "mqttspec run:", err)
		return 2
	}
	for _, r := range []struct {
		flag string
		src  string
		dst  **regexp.Regexp
	}{{"--run", *runRe, &opts.Run}, {"--skip", *skipRe, &opts.Skip}} {
		if r.src == "" {
			continue
		}
		if *r.dst, err = regexp.Compile(r.src); err != nil {
			fmt.Fprintf(stderr, "mqttspec run: %s: %v\n", r.flag, err)
			return 2
		}
	}
	if *tags != "" {
		opts.Tags = strings.Split(*tags, ",")
	}
	cases, err := conformance.Load(*suiteDir)
	if err != nil {
		fmt.Fprintln(stderr, "mqttspec run:", err)
		return 2
	}
	if *profile != "" {
		if opts.Profile, err = conformance.OpenProfile(*profile); err != nil {
			fmt.Fprintln(stderr, "mqttspec run: --profile:", err)
			return 2
		}
	}
	url := *target
	if url == "" {
		ref, err := startReference()
		if err != nil {
			fmt.Fprintln(stderr, "mqttspec run: starting the reference broker:", err)
			return 2
		}
		defer ref.stop()
		url = ref.url
		if opts.Profile == nil {
			opts.Profile = ref.profile
		}
	}
	var tlsCfg *tls.Config
	if *tlsCA != "" || *tlsCert != "" || *tlsKey != "" || *insecure {
		if tlsCfg, err = conformance.TLSFiles(*tlsCA, *tlsCert, *tlsKey, *insecure); err != nil {
			fmt.Fprintln(stderr, "mqttspec run:", err)
			return 2
		}
	}
	if opts.Target, err = conformance.ParseTarget(url, tlsCfg); err != nil {
		fmt.Fprintln(stderr, "mqttspec run:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	run := &conformance.Run{Schema: conformance.SchemaVersion, Tool: "mqttspec", ToolVersion: version, Target: url, Start: start}
	if *target == "" {
		run.TargetName = "mqttspec reference broker " + version
	}
	if opts.Profile != nil {
		run.Profile, run.TargetName = opts.Profile.File, opts.Profile.Name
	}
	caps, err := conformance.Probe(ctx, opts.Target, *user, *pass, *cidPrefix, *topicPrefix)
	if err != nil {
		fmt.Fprintln(stderr, "mqttspec run:", err)
		return 2
	}
	if opts.Profile != nil {
		opts.Profile.Apply(caps)
	}
	opts.Caps, run.Capabilities = caps, caps
	for _, v := range opts.Versions {
		run.Versions = append(run.Versions, v.String())
	}
	total := len(conformance.Select(cases, &opts))
	if total == 0 {
		fmt.Fprintln(stderr, "mqttspec run: no case matches --run/--skip/--tags/--version")
		return 2
	}
	prog := newProgress(stderr, total, *quiet)
	opts.Progress = prog.update
	run.Results = conformance.Execute(ctx, cases, opts)
	prog.done()
	run.Wall = time.Since(start)
	for i := range run.Results {
		run.Summary.Add(&run.Results[i])
	}
	if !*quiet {
		printFailures(stdout, run)
	}
	printSummary(stdout, run)
	pcapLink := ""
	if *pcapDir != "" {
		if err := reports.WritePcaps(*pcapDir, run); err != nil {
			fmt.Fprintln(stderr, "mqttspec run: --pcap:", err)
			return 2
		}
		fmt.Fprintf(stdout, "wrote %s/*.pcap\n", *pcapDir)
		if *htmlOut != "" {
			if rel, err := filepath.Rel(filepath.Dir(*htmlOut), *pcapDir); err == nil {
				pcapLink = filepath.ToSlash(rel)
			}
		}
	}
	if code := writeReports(run, stdout, stderr, *jsonOut, *htmlOut, *junitOut, pcapLink); code != 0 {
		return code
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "mqttspec run: interrupted")
		return 2
	}
	if run.Summary.MustFail > 0 {
		return 1
	}
	return 0
}

func parseVersions(s string) ([]codec.Version, error) {
	if s == "all" || s == "" {
		return nil, nil
	}
	var out []codec.Version
	for _, f := range strings.Split(s, ",") {
		v, ok := codec.ParseVersion(strings.TrimSpace(f))
		if !ok {
			return nil, fmt.Errorf("--version %q: want 3.1, 3.1.1, 5.0 or all", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// writeReports writes each requested report; one that fails does not stop
// the others, and nothing already written is lost.
func writeReports(run *conformance.Run, stdout, stderr io.Writer, jsonPath, htmlPath, junitPath, pcapLink string) int {
	code := 0
	for _, out := range []struct {
		flag, path string
		write      func(io.Writer) error
	}{
		{"--json", jsonPath, func(w io.Writer) error { return reports.WriteJSON(w, run) }},
		{"--junit", junitPath, func(w io.Writer) error { return reports.WriteJUnit(w, run) }},
		{"--html", htmlPath, func(w io.Writer) error { return reports.WriteHTML(w, run, reports.HTMLOptions{PcapDir: pcapLink}) }},
	} {
		if out.path == "" {
			continue
		}
		if err := reports.WriteFile(out.path, out.write); err != nil {
			fmt.Fprintf(stderr, "mqttspec run: %s: %v\n", out.flag, err)
			code = 2
			continue
		}
		fmt.Fprintf(stdout, "wrote %s\n", out.path)
	}
	return code
}
