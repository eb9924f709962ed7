package reports

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"mqttspec/conformance"
)

//go:embed templates/*.html templates/*.css templates/*.js
var templates embed.FS

// HTMLOptions tune the HTML report.
type HTMLOptions struct {
	// PcapDir, when set, is the directory (relative to the HTML file) where
	// each case's traffic is saved as <anchor>.pcap; cases link to it.
	PcapDir string
}

var specURL = map[string]string{
	"3.1":   "https://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html",
	"3.1.1": "https://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html",
	"5.0":   "https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html",
}

// StatementURL links a statement ID to its sentence in the OASIS text (a
// text fragment, so the browser scrolls to and highlights it).
func StatementURL(version, id string) string {
	return specURL[version] + "#:~:text=" + id
}

// anchorRe is compiled on first use, not at every command's start-up.
var anchorRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^a-zA-Z0-9._-]+`) })

// Anchor is the HTML id and file stem of a result: stable across runs.
func Anchor(r *conformance.Result) string {
	return anchorRe().ReplaceAllString(r.ID+"_"+r.Version, "_")
}

type outcomeView struct {
	Label, Class, Symbol string
}

var outcomeViews = map[conformance.Outcome]outcomeView{
	conformance.Pass:  {"PASS", "pass", "✓"},
	conformance.Fail:  {"FAIL", "fail", "✗"},
	conformance.Skip:  {"SKIP", "skip", "–"},
	conformance.Error: {"ERROR", "error", "!"},
}

type stmtLink struct{ ID, URL string }

type caseView struct {
	*conformance.Result
	Anchor     string
	O          outcomeView
	Links      []stmtLink
	Inline     bool // transcript rendered in the page (failures); others render on demand
	TxIndex    int
	Pcap       string
	Tags       string
	Transcript []eventView
}

type eventView struct {
	At, Conn, Dir, Arrow, Text, Hex, Note string
	Deviation                             bool
}

type tally struct {
	Name                    string
	Pass, Fail, Skip, Error int
}

func (t *tally) add(o conformance.Outcome) {
	switch o {
	case conformance.Pass:
		t.Pass++
	case conformance.Fail:
		t.Fail++
	case conformance.Skip:
		t.Skip++
	case conformance.Error:
		t.Error++
	}
}

type pageView struct {
	Run        *conformance.Run
	Title      string
	Verdict    outcomeView
	Date       string
	Wall       string
	Sections   []tally
	Levels     []tally
	Cases      []caseView
	Versions   []string
	Tags       []string
	Caps       []string
	TxJSON     template.JS
	CSS        template.CSS
	JS         template.JS
	Generated  string
	ToolString string
}

var arrows = map[string]string{"send": "→", "recv": "←", "close": "✕", "info": "·"}

func events(r *conformance.Result) []eventView {
	out := make([]eventView, len(r.Transcript))
	for i, e := range r.Transcript {
		out[i] = eventView{At: at(e.At), Conn: e.Conn, Dir: e.Dir, Arrow: arrows[e.Dir], Text: e.Text, Hex: e.Hex,
			Note: e.Note, Deviation: i == r.Deviation}
	}
	return out
}

// at shows a transcript time as seconds since the case started.
func at(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

// outcomeRank puts failures first, then errors, passes and skips.
var outcomeRank = map[conformance.Outcome]int{conformance.Fail: 0, conformance.Error: 1, conformance.Pass: 2, conformance.Skip: 3}

func buildPage(run *conformance.Run, opts HTMLOptions) (*pageView, error) {
	pv := &pageView{Run: run, Date: run.Start.UTC().Format("2006-01-02 15:04 UTC"), Wall: run.Wall.Round(time.Millisecond).String(),
		ToolString: run.Tool + " " + run.ToolVersion}
	pv.Title = run.TargetName
	if pv.Title == "" {
		pv.Title = run.Target
	}
	pv.Verdict = outcomeViews[conformance.Pass]
	if run.Summary.MustFail > 0 {
		pv.Verdict = outcomeViews[conformance.Fail]
	}
	sections := map[string]*tally{}
	levels := map[string]*tally{}
	versions, tags := map[string]bool{}, map[string]bool{}
	var lazy [][]eventView
	for i := range run.Results {
		r := &run.Results[i]
		name := sectionTitle(r)
		if sections[name] == nil {
			sections[name] = &tally{Name: name}
		}
		sections[name].add(r.Outcome)
		lv := string(r.Level)
		if levels[lv] == nil {
			levels[lv] = &tally{Name: lv}
		}
		levels[lv].add(r.Outcome)
		versions[r.Version] = true
		for _, t := range r.Tags {
			tags[t] = true
		}
		cv := caseView{Result: r, Anchor: Anchor(r), O: outcomeViews[r.Outcome], Tags: strings.Join(r.Tags, " "), TxIndex: -1}
		for _, id := range r.Statements {
			cv.Links = append(cv.Links, stmtLink{id, StatementURL(r.Version, id)})
		}
		if opts.PcapDir != "" && r.Outcome != conformance.Skip {
			cv.Pcap = strings.TrimSuffix(opts.PcapDir, "/") + "/" + cv.Anchor + ".pcap"
		}
		if r.Outcome == conformance.Fail || r.Outcome == conformance.Error {
			cv.Inline, cv.Transcript = true, events(r)
		} else if len(r.Transcript) > 0 {
			cv.TxIndex = len(lazy)
			lazy = append(lazy, events(r))
		}
		pv.Cases = append(pv.Cases, cv)
	}
	sort.SliceStable(pv.Cases, func(i, j int) bool {
		return outcomeRank[pv.Cases[i].Outcome] < outcomeRank[pv.Cases[j].Outcome]
	})
	for _, s := range sections {
		pv.Sections = append(pv.Sections, *s)
	}
	sort.Slice(pv.Sections, func(i, j int) bool { return sectionLess(pv.Sections[i].Name, pv.Sections[j].Name) })
	for _, l := range []string{"MUST", "SHOULD", "MAY"} {
		if levels[l] != nil {
			pv.Levels = append(pv.Levels, *levels[l])
		}
	}
	pv.Versions = keys(versions)
	pv.Tags = keys(tags)
	for k, v := range run.Capabilities {
		pv.Caps = append(pv.Caps, k+"="+v)
	}
	sort.Strings(pv.Caps)
	tx, err := json.Marshal(lazy)
	if err != nil {
		return nil, err
	}
	// "</" must not end the script element early; JSON allows "<\/".
	pv.TxJSON = template.JS(strings.ReplaceAll(string(tx), "</", `<\/`))
	css, _ := templates.ReadFile("templates/report.css")
	js, _ := templates.ReadFile("templates/report.js")
	pv.CSS, pv.JS = template.CSS(css), template.JS(js)
	return pv, nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var funcs = template.FuncMap{
	"lower": strings.ToLower,
	"join":  strings.Join,
	"inc":   func(n int) int { return n + 1 },
}

var pageTmpl = parseOnce("report.html")

// parseOnce parses a page template on first use rather than at start-up,
// which every command of the CLI would pay for.
func parseOnce(name string) func() *template.Template {
	return sync.OnceValue(func() *template.Template {
		return template.Must(template.New(name).Funcs(funcs).ParseFS(templates, "templates/"+name))
	})
}

// WriteHTML writes the run as one self-contained HTML file.
func WriteHTML(w io.Writer, run *conformance.Run, opts HTMLOptions) error {
	pv, err := buildPage(run, opts)
	if err != nil {
		return err
	}
	return pageTmpl().Execute(w, pv)
}
