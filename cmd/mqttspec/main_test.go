package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mqttspec/conformance"
	"mqttspec/reports"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// The reference broker is the oracle: it must pass every case. Its failures
// are broker bugs, never reasons to weaken a case.
func TestReferencePassesEveryCase(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "ref.json")
	code, out, errs := runCLI(t, "run", "--quiet", "--parallel", "16", "--json", js, "--html", filepath.Join(dir, "ref.html"))
	run, err := reports.LoadJSON(js)
	require.NoError(t, err, errs)
	var bad []string
	for _, r := range run.Results {
		if r.Outcome == conformance.Fail || r.Outcome == conformance.Error {
			bad = append(bad, fmt.Sprintf("%s@%s %s: %s", r.ID, r.Version, r.Outcome, r.Reason))
		}
	}
	require.Empty(t, bad, "the reference broker must pass every case")
	require.Equal(t, 0, code, out+errs)
	require.Contains(t, out, "PASS")
}

// Every case must fail when the broker breaks its rule: selftest injects
// each case's faults in front of the reference broker.
func TestSelfTestCatchesEveryFault(t *testing.T) {
	if testing.Short() {
		t.Skip("selftest runs every case under every fault")
	}
	_, out, errs := runCLI(t, "selftest", "--parallel", "16")
	require.Regexp(t, `\d+ faults caught, 0 missed, \d+ case runs not checkable`, out, errs)
	// Only the WebSocket cases may stay unchecked: the fault proxy speaks TCP.
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "UNCHECKED") {
			require.Contains(t, line, "WebSocket", line)
		}
	}
}

// TestRepeat: with --repeat every case runs that often against the reference
// broker and the JSON says how often; none of the runs may fail.
func TestRepeat(t *testing.T) {
	js := filepath.Join(t.TempDir(), "rep.json")
	code, out, errs := runCLI(t, "run", "--quiet", "--repeat", "3", "--run", "^(retain|subscribe)\\.", "--json", js)
	require.Equal(t, 0, code, out+errs)
	run, err := reports.LoadJSON(js)
	require.NoError(t, err)
	require.NotEmpty(t, run.Results)
	for _, r := range run.Results {
		require.Equal(t, 3, r.Runs, r.Key())
		require.Zero(t, r.FailedRuns, "%s: %s", r.Key(), r.Reason)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{}, "usage: mqttspec"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"run", "--version", "4.0"}, `--version "4.0"`},
		{[]string{"run", "--run", "("}, "--run"},
		{[]string{"run", "--target", "http://x"}, `unknown scheme "http"`},
		{[]string{"run", "--suite-dir", "/nonexistent-dir"}, "no *.mqtts files"},
		{[]string{"run", "--profile", "/nonexistent.profile"}, "--profile"},
		{[]string{"run", "--run", "^no-such-case$"}, "no case matches"},
		{[]string{"run", "--repeat", "0"}, "--repeat 0: want 1 to 100"},
		{[]string{"run", "--repeat", "101"}, "--repeat 101: want 1 to 100"},
		{[]string{"report", "--html", "x.html"}, "usage: mqttspec report"},
		{[]string{"report", "--diff", "a.json"}, "usage: mqttspec report"},
	} {
		code, _, errs := runCLI(t, tc.args...)
		require.Equal(t, 2, code, "%v: %s", tc.args, errs)
		require.Contains(t, errs, tc.want, "%v", tc.args)
	}
}

func TestSuiteDirErrorsNameFileLineCol(t *testing.T) {
	dir := t.TempDir()
	bad := "case my.case\n  title T\n  versions 3.1.1\n  describe D\n  fault keep-open\n  connect c\n  expect c PUBACK idd=1\nend\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mine.mqtts"), []byte(bad), 0o644))
	code, _, errs := runCLI(t, "run", "--suite-dir", dir)
	require.Equal(t, 2, code)
	require.Contains(t, errs, "mine.mqtts:7:19: PUBACK has no field \"idd\"")
}

func TestReportDiffExitStatus(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, o conformance.Outcome) string {
		run := &conformance.Run{Schema: conformance.SchemaVersion, Target: "tcp://x", Start: time.Unix(0, 0),
			Results: []conformance.Result{{ID: "a.b", Version: "5.0", Level: conformance.MUST, Outcome: o, Deviation: -1}}}
		p := filepath.Join(dir, name)
		require.NoError(t, reports.WriteFile(p, func(w io.Writer) error { return reports.WriteJSON(w, run) }))
		return p
	}
	pass, fail := mk("old.json", conformance.Pass), mk("new.json", conformance.Fail)
	code, out, _ := runCLI(t, "report", "--diff", pass, fail)
	require.Equal(t, 1, code)
	require.Contains(t, out, "Regressions (pass -> fail): 1")
	code, out, _ = runCLI(t, "report", "--diff", fail, pass)
	require.Equal(t, 0, code)
	require.Contains(t, out, "Fixes (fail -> pass): 1")
	code, _, errs := runCLI(t, "report", "--diff", pass, filepath.Join(dir, "missing.json"))
	require.Equal(t, 2, code)
	require.Contains(t, errs, "missing.json")
}

// mosquitto is the first real broker users point mqttspec at: the suite must
// run to the end against it without tester errors. Its failures are listed
// (and checked by hand in the README), not asserted away.
func TestMosquittoRunsWithoutErrors(t *testing.T) {
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must install mosquitto (.ci/run)")
		}
		t.Skip("mosquitto is not installed (apt-get install mosquitto)")
	}
	url := startMosquitto(t, bin)
	dir := t.TempDir()
	js := filepath.Join(dir, "mosquitto.json")
	start := time.Now()
	code, out, errs := runCLI(t, "run", "--quiet", "--target", url, "--json", js)
	require.NotEqual(t, 2, code, out+errs)
	run, err := reports.LoadJSON(js)
	require.NoError(t, err)
	for _, r := range run.Results {
		require.NotEqual(t, conformance.Error, r.Outcome, "%s@%s: %s", r.ID, r.Version, r.Reason)
		if r.Outcome == conformance.Fail {
			t.Logf("mosquitto fails %s@%s [%s]: %s", r.ID, r.Version, strings.Join(r.Statements, " "), r.Reason)
		}
	}
	t.Logf("mosquitto: %d cases, %d pass, %d fail, %d skip in %s", run.Summary.Total, run.Summary.Pass,
		run.Summary.Fail, run.Summary.Skip, time.Since(start).Round(time.Millisecond))
}

func startMosquitto(t *testing.T, bin string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	cfg := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n", port)
	if os.Geteuid() == 0 {
		cfg += "user root\n"
	}
	require.NoError(t, os.WriteFile(conf, []byte(cfg), 0o644))
	cmd := exec.Command(bin, "-c", conf)
	logs := &lockedBuffer{}
	cmd.Stderr = logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return "tcp://" + addr
		}
		require.True(t, time.Now().Before(deadline), "mosquitto did not start: %s", logs.String())
		time.Sleep(50 * time.Millisecond)
	}
}

// lockedBuffer collects a child's output while the test may read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
