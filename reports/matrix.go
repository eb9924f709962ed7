package reports

import (
	"fmt"
	"html/template"
	"io"
	"sort"

	"mqttspec/conformance"
)

// MatrixColumn is one broker's run in the matrix and where its full
// report lives (relative link; empty for none).
type MatrixColumn struct {
	Run  *conformance.Run
	Link string
}

type matrixCell struct {
	O    outcomeView
	Href string
	Why  string
	Runs string // "K/N" for a case that failed in K of its N runs only
}

type matrixRow struct {
	Key, ID, Version, Title string
	Level                   conformance.Level
	Cells                   []matrixCell
}

type matrixSection struct {
	Name string
	Rows []matrixRow
}

type matrixColumnView struct {
	Name, Target, Link string
	Summary            conformance.Counts
	Verdict            outcomeView
}

type matrixView struct {
	Columns  []matrixColumnView
	Sections []matrixSection
	CSS      template.CSS
}

var matrixTmpl = parseOnce("matrix.html")

// WriteMatrix writes the Autobahn-style table of cases × brokers.
func WriteMatrix(w io.Writer, cols []MatrixColumn) error {
	mv := matrixView{}
	type rowKey struct{ section, key string }
	rows := map[rowKey]*matrixRow{}
	var order []rowKey
	for ci, c := range cols {
		name := c.Run.TargetName
		if name == "" {
			name = c.Run.Target
		}
		v := outcomeViews[conformance.Pass]
		if c.Run.Summary.MustFail > 0 {
			v = outcomeViews[conformance.Fail]
		}
		mv.Columns = append(mv.Columns, matrixColumnView{Name: name, Target: c.Run.Target, Link: c.Link, Summary: c.Run.Summary, Verdict: v})
		for i := range c.Run.Results {
			r := &c.Run.Results[i]
			k := rowKey{sectionTitle(r), r.Key()}
			row := rows[k]
			if row == nil {
				row = &matrixRow{Key: r.Key(), ID: r.ID, Version: r.Version, Title: r.Title, Level: r.Level, Cells: make([]matrixCell, len(cols))}
				rows[k] = row
				order = append(order, k)
			}
			cell := matrixCell{O: outcomeViews[r.Outcome], Why: r.Reason}
			if r.Intermittent() {
				cell.Runs = fmt.Sprintf("%d/%d", r.FailedRuns, r.Runs)
			}
			if c.Link != "" {
				cell.Href = c.Link + "#" + Anchor(r)
			}
			row.Cells[ci] = cell
		}
	}
	bySection := map[string]*matrixSection{}
	var names []string
	for _, k := range order {
		s := bySection[k.section]
		if s == nil {
			s = &matrixSection{Name: k.section}
			bySection[k.section] = s
			names = append(names, k.section)
		}
		row := rows[k]
		for i := range row.Cells {
			if row.Cells[i].O.Label == "" {
				row.Cells[i].O = outcomeView{Label: "n/a", Class: "na", Symbol: " "}
			}
		}
		s.Rows = append(s.Rows, *row)
	}
	sort.SliceStable(names, func(i, j int) bool { return sectionLess(names[i], names[j]) })
	for _, n := range names {
		mv.Sections = append(mv.Sections, *bySection[n])
	}
	css, _ := templates.ReadFile("templates/report.css")
	mv.CSS = template.CSS(css)
	return matrixTmpl().Execute(w, mv)
}
