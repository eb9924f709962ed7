package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// codecs in column order; mqttspec is the baseline of every ratio.
var codecs = []string{"mqttspec", "mochi", "paho"}

// target is how many times faster than a peer mqttspec must be in a case;
// peer "" means the fastest peer.
type target struct {
	peer  string
	ratio float64
}

var targets = map[string]target{
	"Decode/PUBLISH-3.1.1":   {"mochi", 2.5},
	"Decode/PUBLISH-5.0":     {"mochi", 6},
	"Encode/PUBLISH-3.1.1":   {"", 1},
	"Encode/PUBLISH-5.0":     {"", 1},
	"Decode/SUBSCRIBE-3.1.1": {"", 2},
	"Decode/SUBSCRIBE-5.0":   {"", 2},
	"Encode/SUBSCRIBE-3.1.1": {"", 2},
	"Encode/SUBSCRIBE-5.0":   {"", 2},
}

// sample is every run of one codec in one case.
type sample struct {
	ns, allocs []float64
}

// results maps "Op/Case" to codec to its runs, and keeps the order cases
// first appear in.
type results struct {
	cases []string
	runs  map[string]map[string]*sample
}

// parse reads benchmark lines of two forms: one codec per benchmark,
//
//	BenchmarkDecode/PUBLISH-5.0/mochi-2  100  277.0 ns/op  523 MB/s  80 B/op  2 allocs/op
//
// or every codec of a case in one BenchmarkSideBySide line, as metrics
// named after the codec:
//
//	BenchmarkSideBySide/Decode/PUBLISH-5.0-2  100  5496 ns/op  2 mochi-allocs/op  224 mochi-ns/op  ...
func parse(r io.Reader) (*results, error) {
	res := &results{runs: map[string]map[string]*sample{}}
	get := func(c, codec string) *sample {
		if res.runs[c] == nil {
			res.runs[c] = map[string]*sample{}
			res.cases = append(res.cases, c)
		}
		if res.runs[c][codec] == nil {
			res.runs[c][codec] = &sample{}
		}
		return res.runs[c][codec]
	}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > strings.LastIndexByte(name, '/') {
			name = name[:i] // the GOMAXPROCS suffix
		}
		sideBySide := strings.HasPrefix(name, "SideBySide/")
		c, codec := strings.TrimPrefix(name, "SideBySide/"), ""
		if !sideBySide {
			slash := strings.LastIndexByte(name, '/')
			if slash < 0 {
				continue
			}
			c, codec = name[:slash], name[slash+1:]
		}
		found := false
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: %q: %w", line, f[i], err)
			}
			unit := f[i+1]
			if sideBySide {
				if who, ok := strings.CutSuffix(unit, "-ns/op"); ok {
					s := get(c, who)
					s.ns, found = append(s.ns, v), true
				} else if who, ok := strings.CutSuffix(unit, "-allocs/op"); ok {
					s := get(c, who)
					s.allocs = append(s.allocs, v)
				}
				continue
			}
			switch unit {
			case "ns/op":
				s := get(c, codec)
				s.ns, found = append(s.ns, v), true
			case "allocs/op":
				s := get(c, codec)
				s.allocs = append(s.allocs, v)
			}
		}
		if !found {
			return nil, fmt.Errorf("line %d: no ns/op in %q", line, sc.Text())
		}
	}
	return res, sc.Err()
}

// best is the fastest run: on a shared machine the slower runs measure the
// other load as much as the codec, and the fastest is the least disturbed.
func best(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return slices.Min(v)
}

// verdict says whether case c meets its target, given the best times.
func verdict(c string, ns map[string]float64) string {
	t, ok := targets[c]
	if !ok || ns["mqttspec"] == 0 {
		return ""
	}
	peer := t.peer
	if peer == "" {
		for _, p := range codecs[1:] {
			if ns[p] > 0 && (peer == "" || ns[p] < ns[peer]) {
				peer = p
			}
		}
	}
	if ns[peer] == 0 {
		return ""
	}
	got := ns[peer] / ns["mqttspec"]
	mark := "met"
	if got < t.ratio {
		mark = "MISSED"
	}
	return fmt.Sprintf("≥%g× %s: %s", t.ratio, peer, mark)
}

// write prints one Markdown row per case.
func write(w io.Writer, res *results) {
	fmt.Fprintln(w, "| case | mqttspec ns/op | mochi ns/op | paho ns/op | allocs/op (mqttspec/mochi/paho) | × vs mochi | × vs paho | target |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---:|---:|---|")
	for _, c := range res.cases {
		ns := map[string]float64{}
		var cells, allocs []string
		for _, codec := range codecs {
			s := res.runs[c][codec]
			if s == nil {
				cells, allocs = append(cells, "–"), append(allocs, "–")
				continue
			}
			ns[codec] = best(s.ns)
			cells = append(cells, strconv.FormatFloat(ns[codec], 'f', 1, 64))
			allocs = append(allocs, strconv.FormatFloat(best(s.allocs), 'f', -1, 64))
		}
		var ratios []string
		for _, peer := range codecs[1:] {
			if ns[peer] == 0 || ns["mqttspec"] == 0 {
				ratios = append(ratios, "–")
				continue
			}
			ratios = append(ratios, strconv.FormatFloat(ns[peer]/ns["mqttspec"], 'f', 2, 64))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", c, strings.Join(cells, " | "),
			strings.Join(allocs, "/"), strings.Join(ratios, " | "), verdict(c, ns))
	}
}

func main() {
	res, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
	if len(res.cases) == 0 {
		fmt.Fprintln(os.Stderr, "ratios: no benchmark lines on stdin")
		os.Exit(1)
	}
	write(os.Stdout, res)
}
