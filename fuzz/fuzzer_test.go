package fuzz

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqttspec/codec"
	"mqttspec/conformance"
	broker "mqttspec/reference-broker"
)

func TestMain(m *testing.M) {
	if addr := os.Getenv(plantedAddrEnv); addr != "" {
		os.Exit(servePlanted(addr, bug(os.Getenv(plantedBugEnv))))
	}
	os.Exit(m.Run())
}

// plantedRun is how long the fuzzer may look for one planted bug.
const plantedRun = 20 * time.Second

// TestFindsPlantedBugs runs the fuzzer against brokers with one planted bug
// each: it must find the bug, confirm it, and minimize the session to a
// reproducer of a few packets.
func TestFindsPlantedBugs(t *testing.T) {
	for _, tc := range []struct {
		bug        bug
		kind       Kind
		packetType string
		statement  string
		maxPackets int
	}{
		{crashOnResubscribe, Crash, "SUBSCRIBE", "", 3},
		{acceptWildcardTopic, AcceptedInvalid, "PUBLISH", "MQTT-3.3.2-2", 2},
		{hangOnPingBody, Hang, "PINGREQ", "", 2},
	} {
		t.Run(string(tc.bug), func(t *testing.T) {
			p, err := newPlantedBroker(tc.bug, "127.0.0.1:0")
			require.NoError(t, err)
			defer p.close()
			dir := t.TempDir()
			start := time.Now()
			f, err := New(Options{Dial: p.dial, Restart: p.restart, Duration: plantedRun, Seed: 1, FindingsDir: dir,
				AnswerWait: 400 * time.Millisecond, ProbeTimeout: 250 * time.Millisecond, MinimizeChecks: 200})
			require.NoError(t, err)
			fd := runUntil(t, f, tc.kind)
			t.Logf("%s: found after %.2fs (session %d), minimized from %d to %d packets in %d checks (%.2fs); whole run %v",
				tc.bug, fd.FoundAfter, fd.Exec, fd.OriginalPackets, len(fd.Session), fd.Checks, fd.MinimizeSeconds, time.Since(start))
			assert.Equal(t, tc.packetType, fd.PacketType, fd.Detail)
			assert.LessOrEqual(t, len(fd.Session), tc.maxPackets, "minimized session:\n%s", fd.hexText())
			if tc.statement != "" {
				assert.Contains(t, fd.Statements, tc.statement)
			}
			assertFiles(t, dir, fd)
		})
	}
}

// runUntil fuzzes until a finding of the kind appears, and returns it.
func runUntil(t *testing.T, f *Fuzzer, kind Kind) *Finding {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.o.Log = logWriter{t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
			if f.findingOf(kind) != nil {
				cancel()
			}
		}
	}()
	st, err := f.Run(ctx)
	cancel()
	<-done
	require.NoError(t, err)
	fd := f.findingOf(kind)
	require.NotNil(t, fd, "no %s finding in %d sessions; findings: %v", kind, st.Execs, st.Findings)
	require.True(t, fd.Reproduced)
	return fd
}

func (f *Fuzzer) findingOf(kind Kind) *Finding {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fd := range f.stats.Findings {
		if fd.Kind == kind {
			return fd
		}
	}
	return nil
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// assertFiles checks the saved files: the script loads as a conformance
// suite, and the JSON record reads back.
func assertFiles(t *testing.T, dir string, fd *Finding) {
	t.Helper()
	for _, ext := range []string{".mqtts", ".hex", ".pcap", ".json"} {
		assert.FileExists(t, filepath.Join(dir, fd.ID+ext))
	}
	cases, err := conformance.Load(dir)
	require.NoError(t, err, "the finding's script must load with --suite-dir")
	assert.NotNil(t, caseByID(cases, "fuzz."+fd.ID))
	back, err := LoadFinding(filepath.Join(dir, fd.ID+".mqtts"))
	require.NoError(t, err)
	assert.Equal(t, fd.Session, back.Session)
}

func caseByID(cases []*conformance.Case, id string) *conformance.Case {
	for _, c := range cases {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// TestFindsPlantedCrashWithExec starts the planted broker as a process of
// its own with --exec: the crash is the process exiting, the finding
// carries its exit status and the end of its stderr, and the broker is
// started again to minimize and to go on.
func TestFindsPlantedCrashWithExec(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	self, err := os.Executable()
	require.NoError(t, err)
	cmd := fmt.Sprintf("%s=%s %s=%s exec '%s' -test.run='^$'", plantedAddrEnv, addr, plantedBugEnv, crashOnSubscribeQoS3, self)
	dir := t.TempDir()
	start := time.Now()
	f, err := New(Options{Target: "tcp://" + addr, Exec: cmd, Duration: plantedRun, Seed: 2, FindingsDir: dir,
		AnswerWait: 400 * time.Millisecond, ProbeTimeout: 250 * time.Millisecond, MinimizeChecks: 120})
	require.NoError(t, err)
	fd := runUntil(t, f, Crash)
	t.Logf("%s with --exec: found after %.2fs (session %d), minimized from %d to %d packets in %d checks (%.2fs); whole run %v",
		crashOnSubscribeQoS3, fd.FoundAfter, fd.Exec, fd.OriginalPackets, len(fd.Session), fd.Checks, fd.MinimizeSeconds, time.Since(start))
	assert.Equal(t, "exit status 2", fd.ExitStatus)
	assert.Contains(t, fd.StderrTail, "panic: planted bug "+string(crashOnSubscribeQoS3))
	assert.Equal(t, "SUBSCRIBE", fd.PacketType)
	assert.LessOrEqual(t, len(fd.Session), 2, "minimized session:\n%s", fd.hexText())
	assertFiles(t, dir, fd)

	// The saved finding replays: still there against the planted broker,
	// gone against the reference broker.
	back, err := LoadFinding(filepath.Join(dir, fd.ID+".json"))
	require.NoError(t, err)
	ok, what, err := Repro(context.Background(), back, Options{Target: "tcp://" + addr, Exec: cmd, ProbeTimeout: 250 * time.Millisecond})
	require.NoError(t, err)
	assert.True(t, ok, what)
	ref := startReference(t)
	ok, what, err = Repro(context.Background(), back, Options{Target: ref, ProbeTimeout: 250 * time.Millisecond})
	require.NoError(t, err)
	assert.False(t, ok, what)
}

// TestFindingScriptReplays runs the saved script of a silent violation
// with the conformance runner: it fails on the planted broker and passes
// on the reference broker.
func TestFindingScriptReplays(t *testing.T) {
	p, err := newPlantedBroker(acceptWildcardTopic, "127.0.0.1:0")
	require.NoError(t, err)
	defer p.close()
	dir := t.TempDir()
	f, err := New(Options{Dial: p.dial, Restart: p.restart, Duration: plantedRun, Seed: 3, FindingsDir: dir,
		AnswerWait: 400 * time.Millisecond, ProbeTimeout: 250 * time.Millisecond})
	require.NoError(t, err)
	fd := runUntil(t, f, AcceptedInvalid)
	cases, err := conformance.Load(dir)
	require.NoError(t, err)
	c := caseByID(cases, "fuzz."+fd.ID)
	require.NotNil(t, c)
	src, err := os.ReadFile(filepath.Join(dir, fd.ID+".mqtts"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		url  string
		want conformance.Outcome
	}{
		{"planted broker", "tcp://" + p.addrNow(), conformance.Fail},
		{"reference broker", startReference(t), conformance.Pass},
	} {
		target, err := conformance.ParseTarget(tc.url, nil)
		require.NoError(t, err)
		res := conformance.Execute(context.Background(), []*conformance.Case{c},
			conformance.Options{Target: target, Timeout: time.Second, Caps: conformance.Capabilities{}})
		require.Len(t, res, 1)
		assert.Equal(t, tc.want, res[0].Outcome, "%s: %s\n%s", tc.name, res[0].Reason, src)
	}
}

func (p *plantedBroker) addrNow() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// startReference runs the reference broker on a loopback port for the test.
func startReference(t *testing.T) string {
	t.Helper()
	cfg := broker.DefaultConfig()
	cfg.SysInterval = 0
	b, err := broker.New(cfg)
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = b.Serve(l) }()
	t.Cleanup(func() { b.Close() })
	return "tcp://" + l.Addr().String()
}

// TestReferenceBrokerSurvives fuzzes the reference broker briefly: no
// crash and no hang. Other findings are logged for whoever works on it.
func TestReferenceBrokerSurvives(t *testing.T) {
	url := startReference(t)
	f, err := New(Options{Target: url, MaxExecs: 2000, Duration: 15 * time.Second, Seed: 4, Oracle: "none",
		AnswerWait: time.Second, ProbeTimeout: time.Second, MinimizeChecks: 50})
	require.NoError(t, err)
	st, err := f.Run(context.Background())
	require.NoError(t, err)
	t.Logf("%d sessions in %.1fs (%.0f/s under the race detector)", st.Execs, st.Seconds, st.SessionsPerSecond)
	for _, fd := range st.Findings {
		assert.NotContains(t, []Kind{Crash, Hang}, fd.Kind, fd.Detail)
		t.Logf("finding %s: %s", fd.ID, fd.Detail)
	}
	assert.Positive(t, st.States["connected"])
	assert.Positive(t, st.States["read to the end"])
}

// TestSessionsAreDeterministic: the n-th session depends only on the seed
// and n, whatever ran before it.
func TestSessionsAreDeterministic(t *testing.T) {
	a, b := newMutator(BuiltinSeeds(), 9), newMutator(BuiltinSeeds(), 9)
	other := newMutator(BuiltinSeeds(), 10)
	differ := 0
	for n := uint64(0); n < 500; n++ {
		b.session(999 - n) // a different history
		want := a.session(n)
		require.Equal(t, want, b.session(n), "session %d", n)
		if fmt.Sprint(other.session(n)) != fmt.Sprint(want) {
			differ++
		}
	}
	assert.Greater(t, differ, 400, "another seed gives other sessions")
}

// TestMutationsReachTheRules runs many mutated sessions through the
// codec's strict decoder: the mutations must produce each class of
// malformed packet and protocol error the fuzzer is meant to try.
func TestMutationsReachTheRules(t *testing.T) {
	m := newMutator(BuiltinSeeds(), 5)
	var errs []*codec.Error
	for n := uint64(0); n < 12000; n++ {
		if off := firstOffence(m.session(n).Stream()); off != nil {
			errs = append(errs, off.err)
		}
	}
	for _, tc := range []struct {
		what, rule, msg string // msg: for the errors the spec gives no statement ID
	}{
		{what: "QoS 3 in PUBLISH", rule: "MQTT-3.3.1-4"},
		{what: "wildcard in a topic name", rule: "MQTT-3.3.2-2"},
		{what: "ill-formed UTF-8 (3.1.1)", rule: "MQTT-1.5.3-1"},
		{what: "U+0000 in a string (5.0)", rule: "MQTT-1.5.4-2"},
		{what: "non-minimal Variable Byte Integer (5.0)", rule: "MQTT-1.5.5-1"},
		{what: "reserved fixed-header flags", rule: "MQTT-2.2.2-1"},
		{what: "SUBSCRIBE reserved flags", rule: "MQTT-3.8.1-1"},
		{what: "packet identifier 0", rule: "MQTT-2.3.1-1"},
		{what: "second CONNECT", rule: "MQTT-3.1.0-2"},
		{what: "first packet not CONNECT", rule: "MQTT-3.1.0-1"},
		{what: "CONNECT reserved flag", rule: "MQTT-3.1.2-3"},
		{what: "will QoS 3", rule: "MQTT-3.1.2-14"},
		{what: "SUBSCRIBE without a subscription", rule: "MQTT-3.8.3-3"},
		{what: "subscription QoS 3", rule: "MQTT-3.8.3-4"},
		{what: "misplaced '#' in a filter (3.1.1)", rule: "MQTT-4.7.1-2"},
		{what: "empty share name (5.0)", rule: "MQTT-4.8.2-1"},
		{what: "Topic Alias 0 (5.0)", rule: "MQTT-3.3.2-8"},
		{what: "a property repeated (5.0)", msg: "more than once"},
		{what: "a property not valid on the packet (5.0)", msg: "property not valid on"},
		{what: "an unknown property (5.0)", msg: "unknown property identifier"},
		{what: "Remaining Length over four bytes", msg: "longer than 4 bytes"},
	} {
		n := 0
		for _, e := range errs {
			if (tc.rule != "" && e.Rule == tc.rule) || (tc.msg != "" && strings.Contains(e.Msg, tc.msg)) {
				n++
			}
		}
		assert.Positive(t, n, "%s (%s%s) never produced by 12000 sessions", tc.what, tc.rule, tc.msg)
	}
}

// TestSeedsFromCapture extracts the client side of each connection of a
// capture, on a port found by its content.
func TestSeedsFromCapture(t *testing.T) {
	for _, tc := range []struct {
		file  string
		ports []uint16
		first []string // the first session's packets in notation
	}{
		{"content-ports.pcap", nil, []string{`CONNECT v=3.1.1 client-id="fx-content" clean keepalive=10`,
			`PUBLISH qos=1 id=1 topic="c/x" payload="y"`, `DISCONNECT`}},
		{"writer-v311.pcap", []uint16{1883}, nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			seeds, err := SeedsFromCapture(filepath.Join("..", "pcap", "testdata", tc.file), tc.ports)
			require.NoError(t, err)
			require.NotEmpty(t, seeds)
			for _, s := range seeds {
				assert.Equal(t, byte(codec.CONNECT), s[0][0]>>4, "a session starts with its CONNECT")
				for _, p := range s {
					d := codec.Decoder{Lenient: true}
					_, n, err := d.Decode(p)
					require.NoError(t, err)
					assert.Equal(t, len(p), n)
				}
			}
			if tc.first != nil {
				want, err := ParseSession(tc.first...)
				require.NoError(t, err)
				assert.Equal(t, want, seeds[0])
			}
		})
	}
}
