package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"mqttspec/conformance"
	"mqttspec/pcap"
)

func init() {
	register(command{"replay", "replay a capture's client connections against a broker and compare the answers", replayCmd})
}

// captureScript turns a capture into the replay case's script text.
func captureScript(file string, ports []uint16, opts pcap.ScriptOptions) (string, error) {
	r, err := pcap.Open(file)
	if err != nil {
		return "", err
	}
	defer r.Close()
	r.Ports = ports
	var b bytes.Buffer
	if err := pcap.Script(r, &b, opts); err != nil {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	return b.String(), nil
}

func pcapScript(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mqttspec pcap script", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("id", "replay.capture", "the case ID")
	timing := fs.Bool("timing", false, "keep the capture's pauses between client packets")
	prefix := fs.Bool("topic-prefix", false, "put every topic under the run's own prefix")
	var ports pcapPorts
	fs.Var(&ports, "port", "another TCP `port` carrying plain MQTT (repeatable)")
	file, ok := parseWithFile(fs, args, stderr)
	if !ok {
		return 2
	}
	text, err := captureScript(file, ports, pcap.ScriptOptions{ID: *id, Timing: *timing, TopicPrefix: *prefix})
	if err != nil {
		fmt.Fprintln(stderr, "mqttspec pcap script:", err)
		return 1
	}
	fmt.Fprint(stdout, text)
	return 0
}

// parseWithFile parses flags that may come before or after one file name.
func parseWithFile(fs *flag.FlagSet, args []string, stderr io.Writer) (string, bool) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", false
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fmt.Fprintf(stderr, "%s: want exactly one capture file, got %d\n", fs.Name(), len(files))
		return "", false
	}
	return files[0], true
}

func replayCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mqttspec replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("target", "", "broker URL (default: the embedded reference broker)")
	timing := fs.String("timing", "fast", "original: keep the capture's pauses; fast: send as soon as the broker answers")
	prefix := fs.Bool("topic-prefix", false, "put every topic under the run's own prefix")
	jsonOut := fs.String("json", "", "write the result as JSON")
	htmlOut := fs.String("html", "", "write the result as HTML")
	timeout := fs.Duration("timeout", 2*time.Second, "how long each expected answer is waited for")
	var ports pcapPorts
	fs.Var(&ports, "port", "another TCP `port` carrying plain MQTT (repeatable)")
	file, ok := parseWithFile(fs, args, stderr)
	if !ok {
		return 2
	}
	if *timing != "fast" && *timing != "original" {
		fmt.Fprintf(stderr, "mqttspec replay: --timing %q: want original or fast\n", *timing)
		return 2
	}
	text, err := captureScript(file, ports, pcap.ScriptOptions{ID: "replay.capture", Timing: *timing == "original", TopicPrefix: *prefix})
	if err != nil {
		fmt.Fprintln(stderr, "mqttspec replay:", err)
		return 2
	}
	cases, err := conformance.ParseScript(file, text)
	if err != nil {
		fmt.Fprintln(stderr, "mqttspec replay: the generated script does not load:", err)
		return 2
	}
	url := *target
	if url == "" {
		ref, err := startReference()
		if err != nil {
			fmt.Fprintln(stderr, "mqttspec replay:", err)
			return 2
		}
		defer ref.stop()
		url = ref.url
	}
	tg, err := conformance.ParseTarget(url, nil)
	if err != nil {
		fmt.Fprintln(stderr, "mqttspec replay:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	run := &conformance.Run{Schema: conformance.SchemaVersion, Tool: "mqttspec", ToolVersion: version, Target: url, Start: start,
		TargetName: "replay of " + file}
	run.Results = conformance.Execute(ctx, cases, conformance.Options{Target: tg, Timeout: *timeout, Parallel: 1})
	run.Wall = time.Since(start)
	for i := range run.Results {
		run.Summary.Add(&run.Results[i])
	}
	printFailures(stdout, run)
	res := run.Results[0]
	switch res.Outcome {
	case conformance.Pass:
		fmt.Fprintf(stdout, "SAME  %s: the broker at %s answered as the captured broker did (%d packets, %.1fs)\n", file, url,
			len(res.Transcript), run.Wall.Seconds())
	default:
		fmt.Fprintf(stdout, "DIFFERENT  %s: %s\n", file, res.Reason)
	}
	if code := writeReports(run, stdout, stderr, *jsonOut, *htmlOut, "", ""); code != 0 {
		return code
	}
	switch res.Outcome {
	case conformance.Pass:
		return 0
	case conformance.Fail:
		return 1
	}
	return 2
}
