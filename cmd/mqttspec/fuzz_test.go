package main

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqttspec/codec"
	"mqttspec/fuzz"
)

func TestFuzzUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"unknown flag", []string{"fuzz", "--bogus"}},
		{"stray argument", []string{"fuzz", "extra"}},
		{"bad oracle", []string{"fuzz", "--oracle", "mosquitto", "--max-execs", "1"}},
		{"exec without target", []string{"fuzz", "--exec", "true"}},
		{"missing capture", []string{"fuzz", "--seeds", "no-such.pcap"}},
		{"repro without finding", []string{"fuzz", "repro"}},
		{"repro of a missing finding", []string{"fuzz", "repro", "no-such.json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI(t, tc.args...)
			assert.Equal(t, 2, code, errs)
		})
	}
}

// A bounded run against the embedded reference broker prints its rate and
// writes its statistics; the exit status says whether there are findings.
func TestFuzzReferenceRun(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "stats.json")
	code, out, errs := runCLI(t, "fuzz", "--max-execs", "300", "--seed", "1", "--seeds", filepath.Join("..", "..", "pcap", "testdata", "writer-v311.pcap"),
		"--findings", filepath.Join(dir, "findings"), "--json", js)
	require.Contains(t, []int{0, 1}, code, out+errs)
	assert.Contains(t, out, "sessions/s")
	b, err := os.ReadFile(js)
	require.NoError(t, err)
	var st fuzz.Stats
	require.NoError(t, json.Unmarshal(b, &st))
	assert.EqualValues(t, 300, st.Execs)
	assert.Equal(t, int64(1), st.Seed)
	assert.Equal(t, 1, st.Seeds, "one client session in the capture")
	assert.Equal(t, code == 1, len(st.Findings) > 0)
}

// repro replays a saved finding: a PUBLISH with a wildcard topic that some
// broker acknowledged does not reproduce on the reference broker, which
// closes the connection.
func TestFuzzReproOfAFixedFinding(t *testing.T) {
	dir := t.TempDir()
	s, err := fuzz.ParseSession(`CONNECT v=3.1.1 client-id="r" clean keepalive=30`, `PUBLISH qos=1 id=1 topic="a/+" payload="x"`)
	require.NoError(t, err)
	fd := fuzz.Finding{ID: "accepted-invalid-test", Kind: fuzz.AcceptedInvalid, Signature: "accepted-invalid|MQTT-3.3.2-2|PUBLISH",
		Version: codec.V311.String(), Reproduced: true}
	for _, p := range s {
		fd.Session = append(fd.Session, hex.EncodeToString(p))
	}
	b, err := json.Marshal(&fd)
	require.NoError(t, err)
	path := filepath.Join(dir, fd.ID+".json")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	code, out, errs := runCLI(t, "fuzz", "repro", path)
	assert.Equal(t, 0, code, out+errs)
	assert.Contains(t, out, "does not reproduce")
}
