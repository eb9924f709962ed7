package fuzz

import (
	"fmt"

	"mqttspec/conformance"
)

// FuzzScriptOnce holds the invariant of the script-parser fuzz targets
// (FuzzScript with go test, Fuzz with go-fuzz): conformance.ParseScript
// never panics, and every case it returns parses again from its own source
// text into the same case. It panics when that breaks and returns 1 when
// the input held at least one case.
func FuzzScriptOnce(src string) int {
	cases, err := conformance.ParseScript("fuzz.mqtts", src)
	if err != nil {
		return 0
	}
	for _, c := range cases {
		again, err := conformance.ParseScript("again.mqtts", c.Source)
		if err != nil {
			panic(fmt.Sprintf("case %s parses in its file but not from its own source: %v\n%s", c.ID, err, c.Source))
		}
		if len(again) != 1 || again[0].ID != c.ID || len(again[0].Steps) != len(c.Steps) {
			panic(fmt.Sprintf("case %s: its source parses into %d cases, not the same one", c.ID, len(again)))
		}
		for i := range c.Steps {
			if a, b := c.Steps[i], again[0].Steps[i]; a.Op != b.Op || a.Text != b.Text || len(a.Body) != len(b.Body) {
				panic(fmt.Sprintf("case %s step %d: %q parses back as %q", c.ID, i+1, a.Text, b.Text))
			}
		}
	}
	if len(cases) > 0 {
		return 1
	}
	return 0
}

// ScriptSeeds are the seeds of the script fuzz targets: each case of the
// built-in suites as a script of its own, after its section line.
func ScriptSeeds() ([]string, error) {
	cases, err := conformance.Load("")
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(cases))
	for _, c := range cases {
		out = append(out, "section "+c.Section+" "+c.SectionName+"\n\n"+c.Source+"\n")
	}
	return out, nil
}
