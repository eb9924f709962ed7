package pcap

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

// sharedCaptures is the shared capture folder, relative to this package.
const sharedCaptures = "../../shared/captures"

// needShared skips a test when the shared captures are absent, except in CI.
func needShared(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(sharedCaptures, "COUNTS.txt")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared captures missing at %s (CI=true): %v", sharedCaptures, err)
		}
		t.Skipf("shared captures not found at %s; skipping", sharedCaptures)
	}
}

// readCounts parses COUNTS.txt: a file name line, then an indented summary
// line, then an indented "TYPE=N ..." line with tshark's PDU counts.
func readCounts(t *testing.T) map[string]map[string]int {
	f, err := os.Open(filepath.Join(sharedCaptures, "COUNTS.txt"))
	require.NoError(t, err)
	defer f.Close()
	counts := map[string]map[string]int{}
	var file string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, " ") {
			file = strings.TrimSpace(line)
			continue
		}
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.Contains(fields[0], "=") || strings.Contains(line, "Wireshark") {
			continue
		}
		m := map[string]int{}
		for _, kv := range fields {
			k, v, ok := strings.Cut(kv, "=")
			require.True(t, ok, "COUNTS.txt line %q", line)
			n, err := strconv.Atoi(v)
			require.NoError(t, err, "COUNTS.txt line %q", line)
			m[k] = n
		}
		counts[file] = m
	}
	require.NoError(t, sc.Err())
	return counts
}

// countTypes walks a capture and counts MQTT packets per type name.
func countTypes(t testing.TB, path string) (map[string]int, Stats) {
	r, err := Open(path)
	require.NoError(t, err)
	defer r.Close()
	got := map[string]int{}
	require.NoError(t, r.Walk(Handler{Message: func(m *Message) error {
		got[m.Type.String()]++
		return nil
	}}))
	return got, r.Stats()
}

// TestSharedCapturesMatchTshark: every capture in the shared folder yields
// exactly tshark's per-type PDU counts, without any port configuration.
func TestSharedCapturesMatchTshark(t *testing.T) {
	needShared(t)
	counts := readCounts(t)
	require.NotEmpty(t, counts)
	for file, want := range counts {
		t.Run(file, func(t *testing.T) {
			got, st := countTypes(t, filepath.Join(sharedCaptures, file))
			assert.Equal(t, want, got, "per-type counts of %s", file)
			assert.Zero(t, st.DamagedStreams, "damaged streams in %s", file)
		})
	}
}

// TestSharedCapturesViolations pins down what lenient decoding reports on
// the real captures where brokers or clients break the rules.
func TestSharedCapturesViolations(t *testing.T) {
	needShared(t)
	tests := []struct {
		file, rule string // statement ID named in a violation or decode error
		typ        codec.Type
	}{
		{"mosquitto-mqtt5.pcap", "MQTT-3.3.1-4", codec.PUBLISH}, // the raw PUBLISH with QoS 3
		{"aedes-mqtt311.pcap", "MQTT-3.2.2-8", codec.CONNACK},   // a 3.1.1 return code answering a 5.0 CONNECT
	}
	for _, tc := range tests {
		t.Run(tc.file+"/"+tc.rule, func(t *testing.T) {
			r, err := Open(filepath.Join(sharedCaptures, tc.file))
			require.NoError(t, err)
			defer r.Close()
			found := false
			require.NoError(t, r.Walk(Handler{Message: func(m *Message) error {
				if m.Type != tc.typ {
					return nil
				}
				if e, ok := codec.AsError(m.Err); ok && e.Rule == tc.rule {
					found = true
				}
				for _, v := range m.Violations {
					found = found || v.Rule == tc.rule
				}
				return nil
			}}))
			assert.True(t, found, "%s: no %s packet names %s", tc.file, tc.typ, tc.rule)
		})
	}
}
