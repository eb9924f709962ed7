package conformance

import "time"

// SchemaVersion is the version of the JSON result format
// (docs/report-schema.md). Bump it when a field changes meaning.
const SchemaVersion = 1

// Outcome is a case's verdict.
type Outcome string

const (
	Pass  Outcome = "pass"
	Fail  Outcome = "fail"
	Skip  Outcome = "skip"  // a capability the case needs is missing, or the profile skips it
	Error Outcome = "error" // the tester could not run the case (e.g. connection refused)
)

// Event is one line of a case's transcript.
type Event struct {
	At   time.Duration `json:"at_ns"` // since the case started
	Conn string        `json:"conn,omitempty"`
	Dir  string        `json:"dir"` // "send", "recv", "close", "info"
	Text string        `json:"text"`
	Hex  string        `json:"hex,omitempty"`
	Note string        `json:"note,omitempty"` // e.g. the rule a received packet breaks
}

// Result is the outcome of one case in one protocol version.
type Result struct {
	ID          string        `json:"id"`
	Title       string        `json:"title"`
	Version     string        `json:"version"`
	Section     string        `json:"section"`
	SectionName string        `json:"section_name,omitempty"`
	Statements  []string      `json:"statements"`
	Level       Level         `json:"level"`
	Tags        []string      `json:"tags"`
	Description string        `json:"description"`
	Outcome     Outcome       `json:"outcome"`
	Reason      string        `json:"reason,omitempty"`
	Notes       []string      `json:"notes,omitempty"` // deviations from SHOULDs seen on the way
	Duration    time.Duration `json:"duration_ns"`
	Script      string        `json:"script"`
	File        string        `json:"file"`
	Line        int           `json:"line"`
	Transcript  []Event       `json:"transcript"`
	// Deviation indexes the transcript event where the broker first
	// departed from the expectation (-1 when it did not); Expected says
	// what the case expected there.
	Deviation int    `json:"deviation"`
	Expected  string `json:"expected,omitempty"`
	// Runs is how often the case ran when it was repeated (Options.Repeat),
	// FailedRuns how many of those runs failed; the transcript is the first
	// failed run's. 0 < FailedRuns < Runs marks an intermittent failure.
	Runs       int `json:"runs,omitempty"`
	FailedRuns int `json:"failed_runs,omitempty"`
}

// Intermittent reports whether the case was repeated and failed in some of
// its runs only.
func (r *Result) Intermittent() bool { return r.FailedRuns > 0 && r.FailedRuns < r.Runs }

// Key identifies a result across runs.
func (r *Result) Key() string { return r.ID + "@" + r.Version }

// Counts tallies outcomes.
type Counts struct {
	Total int `json:"total"`
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	Skip  int `json:"skip"`
	Error int `json:"error"`
	// MustFail counts failed MUST cases: any makes the run fail.
	MustFail int `json:"must_fail"`
}

// Add counts one result.
func (c *Counts) Add(r *Result) {
	c.Total++
	switch r.Outcome {
	case Pass:
		c.Pass++
	case Fail:
		c.Fail++
		if r.Level == MUST {
			c.MustFail++
		}
	case Skip:
		c.Skip++
	case Error:
		c.Error++
	}
}

// Run is a whole certification run: what was tested, what was found.
type Run struct {
	Schema       int               `json:"schema"`
	Tool         string            `json:"tool"`
	ToolVersion  string            `json:"tool_version"`
	Target       string            `json:"target"`
	TargetName   string            `json:"target_name,omitempty"`
	Versions     []string          `json:"versions"`
	Capabilities map[string]string `json:"capabilities"`
	Profile      string            `json:"profile,omitempty"`
	Start        time.Time         `json:"start"`
	Wall         time.Duration     `json:"wall_ns"`
	Summary      Counts            `json:"summary"`
	Results      []Result          `json:"results"`
}
