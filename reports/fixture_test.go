package reports

import (
	"fmt"
	"time"

	"mqttspec/conformance"
)

// sampleRun is a fixed run with every outcome, transcripts with a deviation,
// a note and characters that need escaping: the input of the golden tests.
func sampleRun() *conformance.Run {
	start := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	tx := []conformance.Event{
		{At: 1 * time.Millisecond, Conn: "c", Dir: "info", Text: "network connection open to tcp://127.0.0.1:1883"},
		{At: 2 * time.Millisecond, Conn: "c", Dir: "send", Text: `CONNECT v=5.0 client-id="ms-c" clean keepalive=60`, Hex: "101000044d5154540502003c000004"},
		{At: 3 * time.Millisecond, Conn: "c", Dir: "recv", Text: "CONNACK reason=success", Hex: "20030000"},
		{At: 4 * time.Millisecond, Conn: "c", Dir: "send", Text: `PUBLISH qos=1 id=7 topic="t/<a>&b" payload="x"`, Hex: "3208"},
		{At: 5 * time.Millisecond, Conn: "c", Dir: "recv", Text: "PUBREC id=7", Hex: "50020007", Note: "MQTT-3.4.2-1"},
	}
	run := &conformance.Run{Schema: conformance.SchemaVersion, Tool: "mqttspec", ToolVersion: "test", Target: "tcp://127.0.0.1:1883",
		TargetName: "fixture broker", Versions: []string{"3.1.1", "5.0"}, Capabilities: map[string]string{"v5.0": "yes", "maximum-qos": "2"},
		Start: start, Wall: 1500 * time.Millisecond}
	add := func(id, version, section, name string, level conformance.Level, o conformance.Outcome, reason string, dev int) {
		r := conformance.Result{ID: id, Title: "Title of " + id, Version: version, Section: section, SectionName: name,
			Statements: []string{"MQTT-3.3.4-1"}, Level: level, Tags: []string{"publish", "qos"}, Description: "What " + id + " checks.",
			Outcome: o, Reason: reason, Duration: 12 * time.Millisecond, Script: "case " + id + "\n  connect c\nend", File: "builtin:suites/x.mqtts",
			Line: 3, Deviation: dev}
		if o != conformance.Skip {
			r.Transcript = tx
		}
		if dev >= 0 {
			r.Expected = "PUBACK id=7"
		}
		run.Results = append(run.Results, r)
		run.Summary.Add(&run.Results[len(run.Results)-1])
	}
	add("publish.qos1-puback", "3.1.1", "3.3", "PUBLISH", conformance.MUST, conformance.Pass, "", -1)
	add("publish.qos1-puback", "5.0", "3.3", "PUBLISH", conformance.MUST, conformance.Fail, "line 14: expected PUBACK id=7; expected PUBACK, got PUBREC", 4)
	add("subscribe.shared", "5.0", "4.8", "Shared Subscriptions", conformance.SHOULD, conformance.Skip, "the broker does not support shared subscriptions", -1)
	add("connect.basic", "3.1.1", "3.1", "CONNECT", conformance.MUST, conformance.Error, "cannot open connection c: connection refused", -1)
	add("topics.case-sensitive", "3.1.1", "4.7", "Topic Names and Topic Filters", conformance.MAY, conformance.Pass, "", -1)
	run.Results[0].Notes = []string{"line 9: DISCONNECT reason unspecified-error; the spec suggests malformed-packet"}
	return run
}

// bigRun has n cases with m transcript lines each, for the scale tests.
func bigRun(n, m int) *conformance.Run {
	run := sampleRun()
	run.Results = nil
	run.Summary = conformance.Counts{}
	for i := 0; i < n; i++ {
		r := conformance.Result{ID: fmt.Sprintf("scale.case-%04d", i), Title: "Scale", Version: "5.0", Section: fmt.Sprintf("3.%d", i%15+1),
			Level: conformance.MUST, Outcome: conformance.Pass, Deviation: -1, Tags: []string{"scale"}}
		if i%50 == 0 {
			r.Outcome, r.Reason, r.Deviation = conformance.Fail, "expected PUBACK", m-1
		}
		for j := 0; j < m; j++ {
			r.Transcript = append(r.Transcript, conformance.Event{At: time.Duration(j) * time.Millisecond, Conn: "c", Dir: "recv",
				Text: fmt.Sprintf(`PUBLISH qos=1 id=%d topic="scale/%d" payload="p"`, j+1, j), Hex: "3005000161"})
		}
		run.Results = append(run.Results, r)
		run.Summary.Add(&run.Results[i])
	}
	return run
}
