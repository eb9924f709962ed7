package fuzz

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"mqttspec/codec"
)

// statusLoop rewrites the status line four times a second until ctx ends.
func (f *Fuzzer) statusLoop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	if f.o.Status == nil {
		return
	}
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprint(f.o.Status, "\r\033[K")
			return
		case <-t.C:
			fmt.Fprintf(f.o.Status, "\r\033[K%s", f.statusLine())
		}
	}
}

// statusLine is the live view: executions and their rate, findings, the
// packet types the broker has sent and the session states reached.
func (f *Fuzzer) statusLine() string {
	execs := f.execs.Load()
	f.mu.Lock()
	defer f.mu.Unlock()
	active := time.Since(f.start) - f.paused
	rate := 0.0
	if active > 0 {
		rate = float64(execs) / active.Seconds()
	}
	var types []string
	for t, n := range f.answerTypes {
		if n > 0 {
			types = append(types, codec.Type(t).String())
		}
	}
	states := make([]string, 0, len(f.stats.States))
	for s := range f.stats.States {
		states = append(states, s)
	}
	sort.Strings(states)
	return fmt.Sprintf("%5.0fs  %d sessions (%.0f/s)  %d findings  answers: %s  states: %d (%s)",
		time.Since(f.start).Seconds(), execs, rate, len(f.stats.Findings), strings.Join(types, " "),
		len(states), strings.Join(states, ", "))
}

// WriteSummary prints what a run did and found.
func (st *Stats) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "fuzzed %s for %.1fs: %d sessions, %.0f sessions/s (parallel %d, seed %d, oracle %s, %d seed sessions)\n",
		st.Target, st.Seconds, st.Execs, st.SessionsPerSecond, st.Parallel, st.Seed, st.Oracle, st.Seeds)
	if st.Execs > 0 {
		fmt.Fprintf(w, "CPU: %.1fs in this process, %.0fµs per session (the fuzzer, and the broker when it is the embedded one)\n",
			st.CPUSeconds, st.CPUSeconds*1e6/float64(st.Execs))
	}
	types := make([]string, 0, len(st.AnswerTypes))
	for t, n := range st.AnswerTypes {
		types = append(types, fmt.Sprintf("%s %d", t, n))
	}
	sort.Strings(types)
	fmt.Fprintf(w, "answers: %s\n", strings.Join(types, ", "))
	states := make([]string, 0, len(st.States))
	for s, n := range st.States {
		states = append(states, fmt.Sprintf("%s %d", s, n))
	}
	sort.Strings(states)
	fmt.Fprintf(w, "states: %s\n", strings.Join(states, ", "))
	fmt.Fprintf(w, "findings: %d (%d duplicates, %d not confirmed on re-run, %d broker restarts, %d stalls)\n",
		len(st.Findings), st.Duplicates, st.Unconfirmed, st.Restarts, st.Stalls)
	for _, fd := range st.Findings {
		fmt.Fprintf(w, "  %-26s %s\n", fd.ID, oneLine(fd.Detail))
		if len(fd.Statements) > 0 {
			fmt.Fprintf(w, "  %-26s statements %s\n", "", strings.Join(fd.Statements, " "))
		}
		if fd.Reproduced {
			fmt.Fprintf(w, "  %-26s %d packets after %d checks; found at %.1fs, minimized in %.1fs\n", "",
				len(fd.Session), fd.Checks, fd.FoundAfter, fd.MinimizeSeconds)
		}
		if len(fd.Files) > 0 {
			fmt.Fprintf(w, "  %-26s files %s\n", "", strings.Join(fd.Files, " "))
		}
	}
}
