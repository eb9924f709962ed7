package conformance

import (
	"sort"

	"mqttspec/codec"
)

// CoverageRow says how one server-side statement is covered.
type CoverageRow struct {
	Statement  Statement
	Version    codec.Version
	Cases      []string // case IDs citing it
	Untestable string   // why no network test can observe it
}

// Coverage is the statement-by-statement account of a suite for one version.
type Coverage struct {
	Version                     codec.Version
	Rows                        []CoverageRow
	Covered, Untestable, Missed int
}

// ServerSide reports whether a statement binds the server (everything but
// the statements that bind only the client).
func ServerSide(s Statement) bool { return s.Target != "Client" }

// ComputeCoverage maps every server-side statement of v to the cases that
// cite it or the reason it is untestable.
func ComputeCoverage(s *Suite, v codec.Version) Coverage {
	cov := Coverage{Version: v}
	cited := map[string][]string{}
	for _, c := range s.Cases {
		ids := c.Statements[v]
		if v == codec.V311 {
			ids = append(append([]string(nil), ids...), c.Statements[codec.V31]...)
		}
		for _, id := range ids {
			cited[id] = append(cited[id], c.ID)
		}
	}
	why := map[string]string{}
	for _, u := range s.Untestable {
		if u.Version == v {
			why[u.ID] = u.Reason
		}
	}
	for _, st := range Statements(v) {
		if !ServerSide(st) {
			continue
		}
		row := CoverageRow{Statement: st, Version: v, Cases: dedupe(cited[st.ID]), Untestable: why[st.ID]}
		switch {
		case len(row.Cases) > 0:
			cov.Covered++
		case row.Untestable != "":
			cov.Untestable++
		default:
			cov.Missed++
		}
		cov.Rows = append(cov.Rows, row)
	}
	return cov
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}
