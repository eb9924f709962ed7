package conformance

import (
	"context"
	"fmt"
	"sync"

	"mqttspec/codec"
)

// FaultCheck is the result of running one case through one fault.
type FaultCheck struct {
	Case    string
	Version string
	Fault   string  // empty: the case could not be checked (its clean run did not pass)
	Outcome Outcome // what the case reported with the fault injected
	Reason  string
	Caught  bool // the case failed, as it must
}

// SelfTest proves the suite's cases can fail: each case that passes against
// the (correct) target is run again through a proxy injecting each of its
// faults, and must then fail. Cases whose clean run does not pass are
// reported as not checkable.
func SelfTest(ctx context.Context, cases []*Case, o Options) ([]FaultCheck, error) {
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	clean := Execute(ctx, cases, o)
	byID := map[string]*Case{}
	for _, c := range cases {
		byID[c.ID] = c
	}
	type task struct {
		c     *Case
		v     codec.Version
		fault *Fault
		spec  string
	}
	var out []FaultCheck
	var tasks []task
	for _, r := range clean {
		c := byID[r.ID]
		if r.Outcome != Pass {
			out = append(out, FaultCheck{Case: r.ID, Version: r.Version, Outcome: r.Outcome,
				Reason: "not checked: the clean run did not pass: " + r.Reason})
			continue
		}
		v, _ := codec.ParseVersion(r.Version)
		for _, spec := range c.Faults {
			f, err := ParseFault(spec)
			if err != nil {
				return nil, fmt.Errorf("%s: fault %q: %w", c.ID, spec, err)
			}
			tasks = append(tasks, task{c, v, f, spec})
		}
	}
	checks := make([]FaultCheck, len(tasks))
	var firstErr error
	var mu sync.Mutex
	forEach(ctx, len(tasks), o.Parallel, func(i int) {
		t := tasks[i]
		fc := FaultCheck{Case: t.c.ID, Version: t.v.String(), Fault: t.spec}
		px, err := StartProxy(o.Target, []*Fault{t.fault})
		if err != nil {
			mu.Lock()
			firstErr = err
			mu.Unlock()
			return
		}
		po := o
		po.Target, _ = ParseTarget(px.URL(), nil)
		po.Run, po.Skip, po.Tags, po.Progress, po.Parallel = nil, nil, nil, nil, 1
		po.Versions = []codec.Version{t.v}
		res := Execute(ctx, []*Case{t.c}, po)
		px.Close()
		if len(res) == 1 {
			fc.Outcome, fc.Reason = res[0].Outcome, res[0].Reason
			fc.Caught = res[0].Outcome == Fail
		}
		checks[i] = fc
	})
	if firstErr != nil {
		return nil, firstErr
	}
	return append(out, checks...), nil
}

// MergeChecks combines self-tests of one suite against several correct
// brokers (say, one with every feature and one without the optional ones):
// a case version is checked when any of them could check it.
func MergeChecks(runs ...[]FaultCheck) []FaultCheck {
	checked := map[string]bool{}
	key := func(c FaultCheck) string { return c.Case + "@" + c.Version }
	for _, run := range runs {
		for _, c := range run {
			if c.Fault != "" {
				checked[key(c)] = true
			}
		}
	}
	var out []FaultCheck
	unchecked := map[string]bool{}
	for _, run := range runs {
		for _, c := range run {
			switch {
			case c.Fault != "":
				out = append(out, c)
			case !checked[key(c)] && !unchecked[key(c)]:
				unchecked[key(c)] = true
				out = append(out, c)
			}
		}
	}
	return out
}
