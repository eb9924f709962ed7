package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"mqttspec/codec"
	"mqttspec/conformance"
)

func init() {
	register(command{"list", "list the conformance cases, or with --coverage the statements they cover", listCmd})
}

func listCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	coverage := fs.Bool("coverage", false, "print every server-side normative statement with the cases that cover it")
	missing := fs.Bool("missing", false, "with --coverage: print only statements no case covers")
	suiteDir := fs.String("suite-dir", "", "directory of *.mqtts files that add or replace cases")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	suite, err := conformance.LoadSuite(*suiteDir)
	if err != nil {
		fmt.Fprintln(stderr, "mqttspec list:", err)
		return 2
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	if !*coverage {
		fmt.Fprintln(tw, "ID\tVERSIONS\tLEVEL\tSECTION\tTITLE")
		for _, c := range suite.Cases {
			vs := make([]string, len(c.Versions))
			for i, v := range c.Versions {
				vs[i] = v.String()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, strings.Join(vs, ","), c.Level, c.Section, c.Title)
		}
		fmt.Fprintf(tw, "\n%d cases\n", len(suite.Cases))
		return 0
	}
	var totals []string
	for _, v := range []codec.Version{codec.V311, codec.V5} {
		cov := conformance.ComputeCoverage(suite, v)
		fmt.Fprintf(tw, "MQTT %s\nSTATEMENT\tSECTION\tTARGET\tCOVERED BY\n", v)
		for _, r := range cov.Rows {
			by := strings.Join(r.Cases, " ")
			switch {
			case by == "" && r.Untestable != "":
				by = "untestable: " + r.Untestable
			case by == "":
				by = "MISSING"
			}
			if *missing && by != "MISSING" {
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Statement.ID, r.Statement.Section, r.Statement.Target, by)
		}
		n := len(cov.Rows)
		totals = append(totals, fmt.Sprintf("MQTT %s: %d server-side statements, %d covered, %d untestable over the network, %d missing",
			v, n, cov.Covered, cov.Untestable, cov.Missed))
		fmt.Fprintln(tw)
	}
	for _, t := range totals {
		fmt.Fprintln(tw, t)
	}
	return 0
}
