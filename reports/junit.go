package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"

	"mqttspec/conformance"
)

// The JUnit shape CI systems read (GitHub Actions, GitLab, Jenkins):
// testsuites > testsuite (one per spec section) > testcase with failure,
// error or skipped.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

func secs(d interface{ Seconds() float64 }) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes the run as JUnit XML, one testsuite per spec section.
func WriteJUnit(w io.Writer, run *conformance.Run) error {
	bySection := map[string]*junitSuite{}
	var order []string
	for i := range run.Results {
		r := &run.Results[i]
		name := sectionTitle(r)
		s := bySection[name]
		if s == nil {
			s = &junitSuite{Name: name, Timestamp: run.Start.UTC().Format("2006-01-02T15:04:05")}
			bySection[name] = s
			order = append(order, name)
		}
		c := junitCase{Name: r.ID + "@" + r.Version, Classname: "mqttspec." + r.Section, Time: secs(r.Duration)}
		msg := &junitMessage{Message: r.Reason, Type: string(r.Level), Body: failureBody(r)}
		switch r.Outcome {
		case conformance.Fail:
			c.Failure = msg
			s.Failures++
		case conformance.Error:
			c.Error = msg
			s.Errors++
		case conformance.Skip:
			c.Skipped = &junitMessage{Message: r.Reason}
			s.Skipped++
		}
		s.Tests++
		s.Cases = append(s.Cases, c)
	}
	sort.SliceStable(order, func(i, j int) bool { return sectionLess(order[i], order[j]) })
	all := junitSuites{Name: "mqttspec " + run.Target, Time: secs(run.Wall)}
	for _, name := range order {
		s := bySection[name]
		var total float64
		for _, c := range s.Cases {
			var f float64
			fmt.Sscanf(c.Time, "%f", &f)
			total += f
		}
		s.Time = fmt.Sprintf("%.3f", total)
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Errors += s.Errors
		all.Skipped += s.Skipped
		all.Suites = append(all.Suites, *s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func sectionTitle(r *conformance.Result) string {
	return strings.TrimSpace(r.Section + " " + r.SectionName)
}

// failureBody is the statement, the expectation and the packets up to the
// first deviation: enough to act on from a CI log.
func failureBody(r *conformance.Result) string {
	if r.Outcome != conformance.Fail && r.Outcome != conformance.Error {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s [%s %s]\n%s\n", r.Title, r.Level, strings.Join(r.Statements, " "), r.Description)
	if r.Expected != "" {
		fmt.Fprintf(&b, "Expected: %s\n", r.Expected)
	}
	fmt.Fprintf(&b, "Actual:   %s\n", r.Reason)
	end := len(r.Transcript)
	if r.Deviation >= 0 && r.Deviation < end {
		end = r.Deviation + 1
	}
	for i := 0; i < end; i++ {
		e := r.Transcript[i]
		mark := "  "
		if i == r.Deviation {
			mark = "=>"
		}
		fmt.Fprintf(&b, "%s %8.3fs %-6s %-5s %s\n", mark, e.At.Seconds(), e.Conn, e.Dir, e.Text)
	}
	return b.String()
}

// sectionLess orders "3.10 X" after "3.9 Y": numeric by dotted parts.
func sectionLess(a, b string) bool {
	pa, pb := strings.Fields(a), strings.Fields(b)
	if len(pa) == 0 || len(pb) == 0 {
		return a < b
	}
	na, nb := strings.Split(pa[0], "."), strings.Split(pb[0], ".")
	for i := 0; i < len(na) && i < len(nb); i++ {
		var x, y int
		fmt.Sscanf(na[i], "%d", &x)
		fmt.Sscanf(nb[i], "%d", &y)
		if x != y {
			return x < y
		}
	}
	return len(na) < len(nb)
}
