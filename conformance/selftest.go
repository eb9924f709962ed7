package conformance

import (
	"context"
	"fmt"

	"mqttspec/codec"
)

// FaultCheck is the result of running one case through one fault.
type FaultCheck struct {
	Case    string
	Version string
	Fault   string
	Outcome Outcome // what the case reported with the fault injected
	Reason  string
	Caught  bool // the case failed, as it must
}

// SelfTest proves the suite's cases can fail: each case that passes against
// the (correct) target is run again through a proxy injecting each of its
// faults, and must then fail. Cases that do not pass cleanly are reported
// as not checkable (Outcome of the clean run, Caught false).
func SelfTest(ctx context.Context, cases []*Case, o Options) ([]FaultCheck, error) {
	clean := Execute(ctx, cases, o)
	var out []FaultCheck
	byID := map[string]*Case{}
	for _, c := range cases {
		byID[c.ID] = c
	}
	for _, r := range clean {
		c := byID[r.ID]
		if r.Outcome != Pass {
			out = append(out, FaultCheck{Case: r.ID, Version: r.Version, Outcome: r.Outcome,
				Reason: "not checked: the clean run did not pass: " + r.Reason})
			continue
		}
		for _, spec := range c.Faults {
			f, err := ParseFault(spec)
			if err != nil {
				return nil, fmt.Errorf("%s: fault %q: %w", c.ID, spec, err)
			}
			px, err := StartProxy(o.Target, []*Fault{f})
			if err != nil {
				return nil, err
			}
			po := o
			po.Target, _ = ParseTarget(px.URL(), nil)
			po.Run, po.Skip, po.Tags, po.Progress = nil, nil, nil, nil
			po.Versions = versionsOf(r.Version)
			res := Execute(ctx, []*Case{c}, po)
			px.Close()
			fc := FaultCheck{Case: r.ID, Version: r.Version, Fault: spec}
			if len(res) == 1 {
				fc.Outcome, fc.Reason = res[0].Outcome, res[0].Reason
				fc.Caught = res[0].Outcome == Fail
			}
			out = append(out, fc)
		}
	}
	return out, nil
}

func versionsOf(s string) []codec.Version {
	for _, v := range allVersions {
		if v.String() == s {
			return []codec.Version{v}
		}
	}
	return nil
}

var allVersions = []codec.Version{codec.V31, codec.V311, codec.V5}
