package conformance

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"mqttspec/codec"
)

//go:embed suites/*.mqtts
var builtin embed.FS

//go:embed statements/*.tsv
var statementFiles embed.FS

// Suite is every loaded case plus the statements declared untestable.
type Suite struct {
	Cases      []*Case
	Untestable []Untestable
}

// Load reads the built-in suites and, when dir is set, the *.mqtts files in
// dir; a user case with the ID of a built-in case replaces it.
func Load(dir string) ([]*Case, error) {
	s, err := LoadSuite(dir)
	if err != nil {
		return nil, err
	}
	return s.Cases, nil
}

// LoadSuite is Load keeping the untestable declarations.
func LoadSuite(dir string) (*Suite, error) {
	var cases []*Case
	var untestable []Untestable
	err := fs.WalkDir(builtin, "suites", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := builtin.ReadFile(path)
		if err != nil {
			return err
		}
		cs, un, err := parseScript("builtin:"+path, string(b))
		cases = append(cases, cs...)
		untestable = append(untestable, un...)
		return err
	})
	if err != nil {
		return nil, err
	}
	if dir != "" {
		files, err := filepath.Glob(filepath.Join(dir, "*.mqtts"))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("--suite-dir %s: no *.mqtts files", dir)
		}
		sort.Strings(files)
		index := map[string]int{}
		for i, c := range cases {
			index[c.ID] = i
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			cs, un, err := parseScript(f, string(b))
			if err != nil {
				return nil, err
			}
			untestable = append(untestable, un...)
			for _, c := range cs {
				if i, ok := index[c.ID]; ok {
					cases[i] = c
					continue
				}
				index[c.ID] = len(cases)
				cases = append(cases, c)
			}
		}
	}
	if err := Check(cases); err != nil {
		return nil, err
	}
	if err := checkUntestable(untestable); err != nil {
		return nil, err
	}
	return &Suite{Cases: cases, Untestable: untestable}, nil
}

func checkUntestable(us []Untestable) error {
	var errs []string
	for _, v := range []codec.Version{codec.V311, codec.V5} {
		known := map[string]bool{}
		for _, s := range Statements(v) {
			known[s.ID] = true
		}
		for _, u := range us {
			if u.Version == v && !known[u.ID] {
				errs = append(errs, fmt.Sprintf("%s:%d: untestable %s: MQTT %s has no such statement", u.File, u.Line, u.ID, v))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

// Statement is one normative statement of a spec version.
type Statement struct {
	ID, Section, Target, Keyword string
}

// Statements returns the normative statements of v, in spec order.
func Statements(v codec.Version) []Statement {
	name := "statements/mqtt-3.1.1.tsv"
	if v == codec.V5 {
		name = "statements/mqtt-5.0.tsv"
	}
	b, err := statementFiles.ReadFile(name)
	if err != nil {
		panic(err) // embedded at build time
	}
	var out []Statement
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, "\t")
		if i == 0 || len(f) < 4 {
			continue
		}
		out = append(out, Statement{ID: f[0], Section: f[1], Target: f[2], Keyword: f[3]})
	}
	return out
}

// Check validates a suite: unique IDs, statements that exist in the version
// they are cited for (3.1 cases cite 3.1.1 statements), known capabilities.
func Check(cases []*Case) error {
	known := map[codec.Version]map[string]bool{}
	for _, v := range []codec.Version{codec.V311, codec.V5} {
		known[v] = map[string]bool{}
		for _, s := range Statements(v) {
			known[v][s.ID] = true
		}
	}
	seen := map[string]*Case{}
	var errs []string
	for _, c := range cases {
		if prev, ok := seen[c.ID]; ok {
			errs = append(errs, fmt.Sprintf("%s:%d: case %s already defined at %s:%d", c.File, c.Line, c.ID, prev.File, prev.Line))
		}
		seen[c.ID] = c
		for v, ids := range c.Statements {
			kv := v
			if v == codec.V31 {
				kv = codec.V311
			}
			for _, id := range ids {
				if !known[kv][id] {
					errs = append(errs, fmt.Sprintf("%s:%d: case %s cites %s, which MQTT %s does not have", c.File, c.Line, c.ID, id, kv))
				}
			}
		}
		for _, r := range c.Requires {
			if _, _, _, _, err := requirement(r); err != nil {
				errs = append(errs, fmt.Sprintf("%s:%d: case %s: %v", c.File, c.Line, c.ID, err))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}
