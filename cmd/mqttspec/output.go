package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"mqttspec/conformance"
)

// progress shows a one-line counter when stderr is a terminal.
type progress struct {
	w           io.Writer
	total, n    int
	fails       int
	interactive bool
}

func newProgress(w io.Writer, total int, quiet bool) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok && !quiet {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.interactive = true
		}
	}
	return p
}

func (p *progress) update(r *conformance.Result) {
	p.n++
	if r.Outcome == conformance.Fail {
		p.fails++
	}
	if p.interactive {
		fmt.Fprintf(p.w, "\r\033[K[%d/%d] %d failed  %s@%s", p.n, p.total, p.fails, r.ID, r.Version)
	}
}

func (p *progress) done() {
	if p.interactive {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// printFailures shows each failed or errored case the way h2spec does:
// what was expected, what came instead, and the packets around it.
func printFailures(w io.Writer, run *conformance.Run) {
	for i := range run.Results {
		r := &run.Results[i]
		if r.Outcome != conformance.Fail && r.Outcome != conformance.Error {
			continue
		}
		fmt.Fprintf(w, "%s  %s@%s  [%s %s]  %s\n", strings.ToUpper(string(r.Outcome)), r.ID, r.Version, r.Level,
			strings.Join(r.Statements, " "), r.Title)
		fmt.Fprintf(w, "    %s:%d\n", r.File, r.Line)
		if r.Expected != "" {
			fmt.Fprintf(w, "    Expected: %s\n", r.Expected)
		}
		fmt.Fprintf(w, "    Actual:   %s\n", r.Reason)
		from := 0
		if r.Deviation > 6 {
			from = r.Deviation - 6
		}
		to := len(r.Transcript)
		if r.Deviation >= 0 && r.Deviation+2 < to {
			to = r.Deviation + 2
		}
		for j := from; j < to; j++ {
			e := r.Transcript[j]
			mark := "  "
			if j == r.Deviation {
				mark = "=>"
			}
			fmt.Fprintf(w, "    %s %8s %-4s %-5s %s", mark, fmtAt(e.At), e.Conn, dirArrow(e.Dir), e.Text)
			if e.Note != "" {
				fmt.Fprintf(w, "   !! %s", e.Note)
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
}

func fmtAt(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

func dirArrow(dir string) string {
	switch dir {
	case "send":
		return "->"
	case "recv":
		return "<-"
	case "close":
		return "x"
	}
	return "."
}

func printSummary(w io.Writer, run *conformance.Run) {
	s := run.Summary
	verdict := "PASS"
	if s.MustFail > 0 {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s  %s: %d cases, %d passed, %d failed (%d MUST), %d skipped, %d errors in %.1fs\n",
		verdict, run.Target, s.Total, s.Pass, s.Fail, s.MustFail, s.Skip, s.Error, run.Wall.Seconds())
}
