package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"

	"mqttspec/conformance"
	broker "mqttspec/reference-broker"
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
	parallel := fs.Int("parallel", 16, "cases run at once")
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	// Without --target, two correct brokers: the reference with every
	// feature, and the reference without its optional features, so that
	// cases about brokers lacking a feature are checked too.
	type subject struct {
		url     string
		profile *conformance.Profile
	}
	var subjects []subject
	if *target != "" {
		subjects = append(subjects, subject{url: *target})
	} else {
		for _, cfg := range []broker.Config{referenceConfig(), limitedConfig()} {
			ref, err := startReferenceWith(cfg)
			if err != nil {
				fmt.Fprintln(stderr, "mqttspec selftest:", err)
				return 2
			}
			defer ref.stop()
			subjects = append(subjects, subject{ref.url, ref.profile})
		}
	}
	var runs [][]conformance.FaultCheck
	var urls []string
	for _, sub := range subjects {
		o := opts
		if o.Target, err = conformance.ParseTarget(sub.url, nil); err != nil {
			fmt.Fprintln(stderr, "mqttspec selftest:", err)
			return 2
		}
		if o.Caps, err = conformance.Probe(ctx, o.Target, "", "", "ms", "mqttspec"); err != nil {
			fmt.Fprintln(stderr, "mqttspec selftest:", err)
			return 2
		}
		if sub.profile != nil {
			o.Profile = sub.profile
			sub.profile.Apply(o.Caps)
		}
		checks, err := conformance.SelfTest(ctx, cases, o)
		if err != nil {
			fmt.Fprintln(stderr, "mqttspec selftest:", err)
			return 2
		}
		runs = append(runs, checks)
		urls = append(urls, sub.url)
	}
	checks := conformance.MergeChecks(runs...)
	url := strings.Join(urls, " and ")
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
