package reports

import (
	"bytes"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"mqttspec/conformance"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./reports -update to create %s", path)
	require.Equal(t, string(want), string(got), "%s differs from the golden file", name)
}

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteJSON(&b, sampleRun()))
	golden(t, "run.golden.json", b.Bytes())
	back, err := ReadJSON(&b)
	require.NoError(t, err)
	require.Equal(t, sampleRun(), back, "JSON must round-trip the whole run")
}

func TestJSONRejectsOtherSchemas(t *testing.T) {
	_, err := ReadJSON(strings.NewReader(`{"schema": 99}`))
	require.ErrorContains(t, err, "schema version 99")
	_, err = ReadJSON(strings.NewReader(`{"schema": 1, "results": [}`))
	require.Error(t, err)
}

func TestJUnitGolden(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteJUnit(&b, sampleRun()))
	golden(t, "run.golden.junit.xml", b.Bytes())

	var doc junitSuites
	require.NoError(t, xml.Unmarshal(b.Bytes(), &doc))
	require.Equal(t, 5, doc.Tests)
	require.Equal(t, 1, doc.Failures)
	require.Equal(t, 1, doc.Errors)
	require.Equal(t, 1, doc.Skipped)
	names := []string{}
	for _, s := range doc.Suites {
		names = append(names, s.Name)
	}
	require.Equal(t, []string{"3.1 CONNECT", "3.3 PUBLISH", "4.7 Topic Names and Topic Filters", "4.8 Shared Subscriptions"}, names)
	fail := doc.Suites[1].Cases[1].Failure
	require.NotNil(t, fail)
	require.Contains(t, fail.Message, "expected PUBACK, got PUBREC")
	require.Contains(t, fail.Body, "=> ", "the body marks the first deviation")
}

// The JUnit file must validate against the XSD shape CI tools read
// (testdata/junit.xsd); xmllint is Debian's libxml2-utils.
func TestJUnitValidatesAgainstXSD(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must install libxml2-utils (.ci/run)")
		}
		t.Skip("xmllint not installed (apt-get install libxml2-utils)")
	}
	path := filepath.Join(t.TempDir(), "junit.xml")
	require.NoError(t, WriteFile(path, func(w io.Writer) error { return WriteJUnit(w, sampleRun()) }))
	out, err := exec.Command(xmllint, "--noout", "--schema", "testdata/junit.xsd", path).CombinedOutput()
	require.NoError(t, err, string(out))
}

func parseHTML(t *testing.T, run *conformance.Run) (*html.Node, string) {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, WriteHTML(&b, run, HTMLOptions{PcapDir: "pcaps"}))
	doc, err := html.Parse(bytes.NewReader(b.Bytes()))
	require.NoError(t, err)
	return doc, b.String()
}

func walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func TestHTMLIsSelfContained(t *testing.T) {
	doc, raw := parseHTML(t, sampleRun())
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.Data {
		case "script", "img", "iframe", "audio", "video", "source":
			require.Empty(t, attr(n, "src"), "<%s src> would fetch", n.Data)
		case "link":
			t.Fatalf("<link rel=%q> would fetch", attr(n, "rel"))
		}
		require.NotContains(t, attr(n, "style"), "url(", "inline styles must not fetch")
	})
	require.NotContains(t, raw, "@import")
	require.NotContains(t, strings.ToLower(raw), "url(http")
	require.Contains(t, raw, "t/&lt;a&gt;&amp;b", "packet text is escaped")
}

func TestHTMLStructure(t *testing.T) {
	doc, _ := parseHTML(t, sampleRun())
	var ids, outcomes []string
	counts := map[string]string{}
	var verdict string
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		if n.Data == "li" && strings.Contains(attr(n, "class"), "case") {
			ids = append(ids, attr(n, "id"))
			outcomes = append(outcomes, attr(n, "data-outcome"))
		}
		if c := attr(n, "data-count"); c != "" {
			counts[c] = n.FirstChild.Data
		}
		if attr(n, "id") == "verdict" {
			verdict = attr(n, "class")
		}
	})
	require.Equal(t, []string{"fail", "error", "pass", "pass", "skip"}, outcomes, "failures first")
	require.Equal(t, "publish.qos1-puback_5.0", ids[0])
	require.Equal(t, map[string]string{"total": "5", "pass": "2", "fail": "1", "must-fail": "1", "skip": "1", "error": "1"}, counts)
	require.Contains(t, verdict, "fail")
}

func TestHTMLScalesToThousandsOfCases(t *testing.T) {
	run := bigRun(1200, 90) // 108,000 transcript lines
	var b bytes.Buffer
	require.NoError(t, WriteHTML(&b, run, HTMLOptions{}))
	// Passing cases' transcripts travel as JSON and render on demand, so
	// the DOM holds rows only for the failures.
	rows := strings.Count(b.String(), `<tr class="ev`)
	require.Equal(t, 24*90, rows)
}

func BenchmarkWriteHTML1200Cases(b *testing.B) {
	run := bigRun(1200, 90)
	for i := 0; i < b.N; i++ {
		var buf bytes.Buffer
		if err := WriteHTML(&buf, run, HTMLOptions{}); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(buf.Len()))
	}
}

func TestMatrixAndDiff(t *testing.T) {
	a, b := sampleRun(), sampleRun()
	b.TargetName = "other broker"
	b.Results[1].Outcome = conformance.Pass
	b.Results[0].Outcome = conformance.Fail
	var out bytes.Buffer
	require.NoError(t, WriteMatrix(&out, []MatrixColumn{{Run: a, Link: "a.html"}, {Run: b, Link: "b.html"}}))
	doc, err := html.Parse(&out)
	require.NoError(t, err)
	var links []string
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" {
			links = append(links, attr(n, "href"))
		}
	})
	require.Contains(t, links, "b.html#publish.qos1-puback_3.1.1")
	d := Diff(a, b)
	require.Len(t, d.Regressions, 1)
	require.Equal(t, "publish.qos1-puback@3.1.1", d.Regressions[0].Key)
	require.Len(t, d.Fixes, 1)
	var txt bytes.Buffer
	d.WriteText(&txt)
	require.Contains(t, txt.String(), "Regressions (pass -> fail): 1")
}

// TestAnchor: anchors are the ids and file names of cases, so every run of
// characters outside [A-Za-z0-9._-] becomes a single '_'.
func TestAnchor(t *testing.T) {
	for _, tc := range []struct{ id, version, want string }{
		{"3.3.1-qos", "5.0", "3.3.1-qos_5.0"},
		{"retain/empty payload", "3.1.1", "retain_empty_payload_3.1.1"},
		{"a  b", "5.0", "a_b_5.0"},
		{"topic-ü€", "5.0", "topic-__5.0"},
		{"Case_X", "3.1", "Case_X_3.1"},
	} {
		require.Equal(t, tc.want, Anchor(&conformance.Result{ID: tc.id, Version: tc.version}), tc.id)
	}
}

// TestIntermittentFailures: a case that failed in some of its repeated runs
// says so in the report and in its matrix cell.
func TestIntermittentFailures(t *testing.T) {
	run := sampleRun()
	run.Results[1].Runs, run.Results[1].FailedRuns = 3, 2 // publish.qos1-puback@5.0 failed
	var page bytes.Buffer
	require.NoError(t, WriteHTML(&page, run, HTMLOptions{}))
	require.Contains(t, page.String(), `<span class="runs intermittent">failed in 2 of 3 runs</span>`)

	steady := sampleRun()
	steady.Results[1].Runs, steady.Results[1].FailedRuns = 3, 3
	page.Reset()
	require.NoError(t, WriteHTML(&page, steady, HTMLOptions{}))
	require.Contains(t, page.String(), `<span class="runs">failed in 3 of 3 runs</span>`)

	var matrix bytes.Buffer
	require.NoError(t, WriteMatrix(&matrix, []MatrixColumn{{Run: run}, {Run: steady}}))
	require.Equal(t, 1, strings.Count(matrix.String(), `<small title="failed in some runs only">2/3</small>`))
	require.NotContains(t, matrix.String(), "3/3")
}
