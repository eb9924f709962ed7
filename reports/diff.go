package reports

import (
	"fmt"
	"io"
	"sort"

	"mqttspec/conformance"
)

// Change is one case whose outcome differs between two runs.
type Change struct {
	Key      string
	Title    string
	Level    conformance.Level
	Old, New conformance.Outcome // "" when the case is absent from that run
	Reason   string              // the new run's reason
}

// RunDiff compares two runs of one broker.
type RunDiff struct {
	Regressions []Change // pass -> fail or error
	Fixes       []Change // fail or error -> pass
	Other       []Change // any other change, and cases added or removed
}

// Diff compares old and new by case ID and version.
func Diff(old, new *conformance.Run) RunDiff {
	before := map[string]*conformance.Result{}
	for i := range old.Results {
		before[old.Results[i].Key()] = &old.Results[i]
	}
	var d RunDiff
	seen := map[string]bool{}
	for i := range new.Results {
		n := &new.Results[i]
		k := n.Key()
		seen[k] = true
		c := Change{Key: k, Title: n.Title, Level: n.Level, New: n.Outcome, Reason: n.Reason}
		o, ok := before[k]
		if ok {
			c.Old = o.Outcome
		}
		switch {
		case ok && o.Outcome == n.Outcome:
			continue
		case c.Old == conformance.Pass && (n.Outcome == conformance.Fail || n.Outcome == conformance.Error):
			d.Regressions = append(d.Regressions, c)
		case (c.Old == conformance.Fail || c.Old == conformance.Error) && n.Outcome == conformance.Pass:
			d.Fixes = append(d.Fixes, c)
		default:
			d.Other = append(d.Other, c)
		}
	}
	for i := range old.Results {
		o := &old.Results[i]
		if !seen[o.Key()] {
			d.Other = append(d.Other, Change{Key: o.Key(), Title: o.Title, Level: o.Level, Old: o.Outcome})
		}
	}
	for _, l := range [][]Change{d.Regressions, d.Fixes, d.Other} {
		sort.Slice(l, func(i, j int) bool { return l[i].Key < l[j].Key })
	}
	return d
}

func outcomeOrNone(o conformance.Outcome) string {
	if o == "" {
		return "absent"
	}
	return string(o)
}

// WriteText prints the diff for a terminal or a CI log.
func (d RunDiff) WriteText(w io.Writer) {
	section := func(title string, cs []Change) {
		fmt.Fprintf(w, "%s: %d\n", title, len(cs))
		for _, c := range cs {
			fmt.Fprintf(w, "  %-48s %-6s %s -> %s  %s\n", c.Key, c.Level, outcomeOrNone(c.Old), outcomeOrNone(c.New), c.Reason)
		}
	}
	section("Regressions (pass -> fail)", d.Regressions)
	section("Fixes (fail -> pass)", d.Fixes)
	section("Other changes", d.Other)
}
