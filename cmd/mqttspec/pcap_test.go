package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqttspec/codec"
	"mqttspec/pcap"
)

// pcapFixture is a capture the pcap package ships: a 3.1.1 session of 19
// packets on port 1883.
var pcapFixture = filepath.Join("..", "..", "pcap", "testdata", "writer-v311.pcap")

func runPcap(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(append([]string{"pcap"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// TestPcapDump: one line per packet with time, connection, direction and
// notation; flags may follow the file name.
func TestPcapDump(t *testing.T) {
	code, out, stderr := runPcap("dump", pcapFixture)
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 19)
	assert.Equal(t, `0.001000 #1 10.0.0.1:40001 → 10.0.0.2:1883  c→b CONNECT v=3.1.1 client-id="fx-311" clean keepalive=30 will{topic="fx/will" payload="gone" qos=1}`, lines[0])
	assert.Equal(t, `0.002000 #1 10.0.0.1:40001 → 10.0.0.2:1883  b→c CONNACK reason=success`, lines[1])
	// The 5 kB payload is cut after 64 bytes.
	assert.Contains(t, lines[8], `PUBLISH qos=2 id=3 topic="fx/2" payload="0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"…(5120 bytes)`)

	code, out, _ = runPcap("dump", pcapFixture, "--filter", `type==PUBLISH && dir==c2b && qos>=1`)
	require.Equal(t, 0, code)
	assert.Equal(t, 2, strings.Count(out, "\n"))
}

// TestPcapDumpInterleaved: each line names its own connection when the
// packets of several connections, IPv4 and IPv6, alternate.
func TestPcapDumpInterleaved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "interleaved.pcap")
	f, err := os.Create(path)
	require.NoError(t, err)
	w, err := pcap.NewWriter(f)
	require.NoError(t, err)
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	ends := [][2]string{
		{"10.0.0.1:40001", "10.0.0.2:1883"},
		{"10.0.0.3:40002", "10.0.0.2:1883"},
		{"[2001:db8::7]:40003", "[2001:db8::1]:1883"},
	}
	var flows []*pcap.Flow
	for i, e := range ends {
		fl, err := w.Open(netip.MustParseAddrPort(e[0]), netip.MustParseAddrPort(e[1]), at)
		require.NoError(t, err)
		connect := (&codec.Connect{ProtocolName: []byte("MQTT"), ProtocolLevel: codec.V311, ClientID: []byte(fmt.Sprint("c", i)), CleanStart: true}).Append(nil, codec.V311)
		require.NoError(t, fl.Send(pcap.ClientToBroker, at, connect))
		flows = append(flows, fl)
	}
	var want []string
	for round := 0; round < 4; round++ {
		for i := len(flows) - 1; i >= 0; i-- {
			at = at.Add(time.Millisecond)
			topic := fmt.Sprintf("t/%d/%d", i, round)
			require.NoError(t, flows[i].Send(pcap.ClientToBroker, at, (&codec.Publish{Topic: []byte(topic)}).Append(nil, codec.V311)))
			want = append(want, fmt.Sprintf("#%d %s → %s  c→b PUBLISH topic=%q", i+1, ends[i][0], ends[i][1], topic))
		}
	}
	require.NoError(t, f.Close())

	code, out, stderr := runPcap("dump", "--filter", "type==PUBLISH", path)
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, len(want))
	for i, line := range lines {
		_, rest, _ := strings.Cut(line, " ") // after the time
		assert.Equal(t, want[i], rest)
	}
}

// TestPcapDumpViolations: a violation is named beside the packet.
func TestPcapDumpViolations(t *testing.T) {
	code, out, _ := runPcap("dump", "--filter", "violation", filepath.Join("..", "..", "pcap", "testdata", "writer-v5-ipv6.pcap"))
	require.Equal(t, 0, code)
	assert.Contains(t, out, `c→b PUBLISH topic="fx5/b" props{subscription-id=3} payload="bad"  !! MQTT-3.3.4-6 subscription-id: a PUBLISH from a client carries a Subscription Identifier`)
}

// TestPcapDumpJSON: one JSON object per packet.
func TestPcapDumpJSON(t *testing.T) {
	code, out, _ := runPcap("dump", "--json", pcapFixture)
	require.Equal(t, 0, code)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 19)
	var first, pub map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	assert.Equal(t, "packet", first["event"])
	assert.Equal(t, "CONNECT", first["type"])
	assert.Equal(t, "c2b", first["dir"])
	assert.Equal(t, "fx-311", first["client_id"])
	assert.Equal(t, "10.0.0.2:1883", first["broker"])
	require.NoError(t, json.Unmarshal([]byte(lines[8]), &pub))
	assert.Equal(t, "fx/2", pub["topic"])
	assert.EqualValues(t, 2, pub["qos"])
	assert.EqualValues(t, 5131, pub["size"])
}

// TestPcapDumpStats: --stats prints the summary instead of the packets.
func TestPcapDumpStats(t *testing.T) {
	code, out, _ := runPcap("dump", pcapFixture, "--stats")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "packets      19,")
	assert.Contains(t, out, "PUBLISH 5 ")
	assert.Contains(t, out, `"fx-311"`)
	code, out, _ = runPcap("dump", pcapFixture, "--stats", "--json")
	require.Equal(t, 0, code)
	var v struct {
		Summary struct{ Packets int }
		Stats   struct{ MQTTConnections int }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	assert.Equal(t, 19, v.Summary.Packets)
	assert.Equal(t, 1, v.Stats.MQTTConnections)
}

// TestPcapDumpErrors: usage errors exit 2, unreadable captures exit 1 with
// the record number, after printing what was decoded.
func TestPcapDumpErrors(t *testing.T) {
	good, err := os.ReadFile(pcapFixture)
	require.NoError(t, err)
	dir := t.TempDir()
	truncated := filepath.Join(dir, "truncated.pcap")
	require.NoError(t, os.WriteFile(truncated, good[:len(good)-30], 0o644))
	notPcap := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(notPcap, []byte("these are notes, not packets"), 0o644))

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
		lines  int // lines printed to stdout
	}{
		{"bad filter", []string{"dump", pcapFixture, "--filter", "type==PUBLISH && qos>>1"}, 2,
			"--filter: column 22: expected a value after '>', found '>'", 0},
		{"no file", []string{"dump"}, 2, "want exactly one capture file, got 0", 0},
		{"two files", []string{"dump", pcapFixture, pcapFixture}, 2, "want exactly one capture file, got 2", 0},
		{"bad port", []string{"dump", pcapFixture, "--port", "http"}, 2, `"http" is not a TCP port`, 0},
		{"unknown subcommand", []string{"replay"}, 2, `unknown subcommand "replay"`, 0},
		{"missing file", []string{"dump", filepath.Join(dir, "nope.pcap")}, 1, "no such file or directory", 0},
		{"not a capture", []string{"dump", notPcap}, 1, "not a capture file: magic 0x74686573", 0},
		{"truncated capture", []string{"dump", truncated}, 1, "record 24: truncated file: it ends inside the record", 19},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runPcap(tc.args...)
			assert.Equal(t, tc.code, code)
			assert.Contains(t, stderr, tc.stderr)
			assert.Equal(t, tc.lines, strings.Count(out, "\n"))
		})
	}
}

// TestPcapDumpSharedCapture: a real capture on a non-standard port is
// found without flags.
func TestPcapDumpSharedCapture(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "captures", "mosquitto-mqtt311.pcap")
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared captures missing (CI=true): %v", err)
		}
		t.Skip("shared captures not found; skipping")
	}
	code, out, _ := runPcap("dump", "--stats", path)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "packets      94,")
}

// Dump lines print times as integers; they must read as the float formatting
// they replace did, for the microseconds pcap records carry.
func TestAppendTimeMatchesFloat(t *testing.T) {
	first := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	d := &pcapDumper{first: first}
	us := []int64{0, 1, 9, 10, 999_999, 1_000_000, 1_000_001, 10_609_000, 86_400_000_000, -1, -999_999, -1_500_000}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10_000 {
		us = append(us, rng.Int64N(1e12)-1e11)
	}
	for _, n := range us {
		at := first.Add(time.Duration(n) * time.Microsecond)
		want := strconv.AppendFloat([]byte("t="), d.rel(at), 'f', 6, 64)
		require.Equal(t, string(want), string(d.appendTime([]byte("t="), at)), "%d µs", n)
	}
}

func TestCut(t *testing.T) {
	ascii := strings.Repeat("a", 100)
	at := func(k int, r string) []byte { // r starting k bytes before the cut
		return []byte(ascii[:pcapPayloadMax-k] + r + ascii)
	}
	for _, tc := range []struct {
		name    string
		payload []byte
		want    int
	}{
		{"ascii", []byte(ascii), 64},
		{"é ends at the cut", at(2, "é"), 64},
		{"é split", at(1, "é"), 63},
		{"€ split after one byte", at(1, "€"), 63},
		{"€ split after two bytes", at(2, "€"), 62},
		{"emoji split after three bytes", at(3, "\U0001F600"), 61},
		{"emoji after the cut", at(0, "\U0001F600"), 64},
		{"binary: continuation bytes", bytes.Repeat([]byte{0x80}, 100), 64},
		{"split but bad text before it", append([]byte("\xff"), at(1, "é")[1:]...), 64},
	} {
		assert.Len(t, cut(tc.payload), tc.want, tc.name)
	}
}

// BenchmarkPcapDumpLines is `mqttspec pcap dump` of the shared 20k-PUBLISH
// capture, a notation line per packet, without the process start-up.
func BenchmarkPcapDumpLines(b *testing.B) {
	path := filepath.Join("..", "..", "..", "shared", "captures", "big", "mosquitto-20k-publish.pcap")
	if _, err := os.Stat(path); err != nil {
		b.Skip("shared captures not found")
	}
	b.ReportAllocs()
	for b.Loop() {
		if code := pcapDump([]string{path}, io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit status %d", code)
		}
	}
}
