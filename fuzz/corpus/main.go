// Command corpus writes the seed corpus of every native Go fuzz target of
// the repository as OUT/<package>_<Target>_seed_corpus.zip, named like the
// binaries .clusterfuzzlite/build.sh builds, for ClusterFuzzLite and
// OSS-Fuzz (make fuzz-corpus).
//
// The seeds of a target are its testdata/fuzz/<Target> files plus the
// inputs its test adds from files (listed in extraSeeds). Each seed is
// written the way the libFuzzer harness of go-118-fuzz-build (what
// compile_native_go_fuzzer uses) reads its arguments back: every []byte or
// string argument as a four-byte big-endian length and the bytes.
package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"mqttspec/fuzz"
)

// extraSeeds are inputs a target's test adds with f.Add from elsewhere,
// keyed by package directory and target.
var extraSeeds = map[string]func(root string) ([][]byte, error){
	"fuzz/FuzzScript": func(string) ([][]byte, error) {
		seeds, err := fuzz.ScriptSeeds()
		out := make([][]byte, len(seeds))
		for i, s := range seeds {
			out[i] = []byte(s)
		}
		return out, err
	},
	"pcap/FuzzReader": func(root string) ([][]byte, error) {
		return readFiles(filepath.Join(root, "pcap", "testdata", "*.pcap*"), 64<<10)
	},
	"reference-broker/FuzzSession": func(string) ([][]byte, error) {
		var out [][]byte
		for _, s := range fuzz.BuiltinSeeds() {
			out = append(out, s.Stream())
		}
		return out, nil
	},
}

var fuzzFunc = regexp.MustCompile(`(?m)^func (Fuzz\w+)\(`)

func main() {
	root := flag.String("root", ".", "repository root")
	out := flag.String("out", "build/fuzz-corpus", "directory for the zip files")
	flag.Parse()
	if err := run(*root, *out); err != nil {
		fmt.Fprintln(os.Stderr, "corpus:", err)
		os.Exit(1)
	}
}

func run(root, out string) error {
	targets, err := findTargets(root)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, t := range targets {
		seeds, err := t.seeds(root)
		if err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
		path := filepath.Join(out, t.binary()+"_seed_corpus.zip")
		if err := writeZip(path, seeds); err != nil {
			return err
		}
		fmt.Printf("%s: %d seeds\n", path, len(seeds))
	}
	return nil
}

// target is one native fuzz target: FuzzX in the package in dir.
type target struct{ dir, name string }

func (t target) String() string { return t.dir + "." + t.name }

// binary is the fuzzer's name: unique although codec and pcap both have a
// FuzzReader.
func (t target) binary() string {
	return strings.NewReplacer("/", "_", "-", "_").Replace(t.dir) + "_" + t.name
}

// findTargets lists the FuzzX functions of the module's _test.go files
// (bench/ is a module of its own).
func findTargets(root string) ([]target, error) {
	var out []target
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() && rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || fileExists(filepath.Join(path, "go.mod"))) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range fuzzFunc.FindAllSubmatch(src, -1) {
			out = append(out, target{dir: filepath.ToSlash(filepath.Dir(rel)), name: string(m[1])})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, err
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// seeds are the target's corpus files and extra seeds, encoded for the
// libFuzzer harness.
func (t target) seeds(root string) ([][]byte, error) {
	var out [][]byte
	files, err := filepath.Glob(filepath.Join(root, t.dir, "testdata", "fuzz", t.name, "*"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	for _, f := range files {
		vals, err := readCorpusFile(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, harnessInput(vals...))
	}
	if extra, ok := extraSeeds[t.dir+"/"+t.name]; ok {
		vals, err := extra(root)
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			out = append(out, harnessInput(v))
		}
	}
	return out, nil
}

// harnessInput encodes arguments as go-118-fuzz-build's harness consumes
// them.
func harnessInput(args ...[]byte) []byte {
	var b []byte
	for _, a := range args {
		b = binary.BigEndian.AppendUint32(b, uint32(len(a)))
		b = append(b, a...)
	}
	return b
}

// readCorpusFile reads a "go test fuzz v1" file whose values are []byte or
// string literals.
func readCorpusFile(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	if !sc.Scan() || sc.Text() != "go test fuzz v1" {
		return nil, fmt.Errorf("not a go test fuzz v1 file")
	}
	var vals [][]byte
	for line := 2; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		lit, ok := strings.CutPrefix(text, "[]byte(")
		if !ok {
			lit, ok = strings.CutPrefix(text, "string(")
		}
		if !ok || !strings.HasSuffix(lit, ")") {
			return nil, fmt.Errorf("line %d: only []byte and string values are supported, found %q", line, text)
		}
		v, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		vals = append(vals, []byte(v))
	}
	return vals, sc.Err()
}

func readFiles(pattern string, maxSize int) ([][]byte, error) {
	files, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if len(b) <= maxSize {
			out = append(out, b)
		}
	}
	return out, nil
}

// writeZip stores each seed under its index.
func writeZip(path string, seeds [][]byte) error {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i, s := range seeds {
		w, err := zw.Create(fmt.Sprintf("seed-%04d", i))
		if err != nil {
			return err
		}
		if _, err := w.Write(s); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
