package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"

	"mqttspec/conformance"
)

func init() {
	register(command{"selftest", "prove each case fails when a broker breaks its rule (fault injection)", selftestCmd})
}

func selftestCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("selftest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("target", "", "a correct broker to inject faults in front of (default: the reference broker)")
	runRe := fs.String("run", "", "check only cases whose ID matches this regexp")
	suiteDir := fs.String("suite-dir", "", "directory of *.mqtts files that add or replace cases")
	parallel := fs.Int("parallel", 8, "cases run at once")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cases, err := conformance.Load(*suiteDir)
	if err != nil {
		fmt.Fprintln(stderr, "mqttspec selftest:", err)
		return 2
	}
	opts := conformance.Options{Parallel: *parallel}
	if *runRe != "" {
		if opts.Run, err = regexp.Compile(*runRe); err != nil {
			fmt.Fprintln(stderr, "mqttspec selftest: --run:", err)
			return 2
		}
	}
	url := *target
	if url == "" {
		ref, err := startReference()
		if err != nil {
			fmt.Fprintln(stderr, "mqttspec selftest:", err)
			return 2
		}
		defer ref.stop()
		url = ref.url
		if opts.Profile == nil {
			opts.Profile = ref.profile
		}
	}
	if opts.Target, err = conformance.ParseTarget(url, nil); err != nil {
		fmt.Fprintln(stderr, "mqttspec selftest:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if opts.Caps, err = conformance.Probe(ctx, opts.Target, "", "", "ms", "mqttspec"); err != nil {
		fmt.Fprintln(stderr, "mqttspec selftest:", err)
		return 2
	}
	if opts.Profile != nil {
		opts.Profile.Apply(opts.Caps)
	}
	checks, err := conformance.SelfTest(ctx, cases, opts)
	if err != nil {
		fmt.Fprintln(stderr, "mqttspec selftest:", err)
		return 2
	}
	caught, missed, unchecked := 0, 0, 0
	for _, c := range checks {
		switch {
		case c.Fault == "":
			unchecked++
			fmt.Fprintf(stdout, "UNCHECKED %s@%s: %s\n", c.Case, c.Version, c.Reason)
		case c.Caught:
			caught++
		default:
			missed++
			fmt.Fprintf(stdout, "MISSED    %s@%s with fault %q: the case reported %s %s\n", c.Case, c.Version, c.Fault, c.Outcome, c.Reason)
		}
	}
	fmt.Fprintf(stdout, "selftest against %s: %d faults caught, %d missed, %d case runs not checkable\n", url, caught, missed, unchecked)
	if missed > 0 || unchecked > 0 {
		return 1
	}
	return 0
}
