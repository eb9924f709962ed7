package pcap

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

// needTshark returns tshark's path, skipping the test when it is not
// installed (and failing under CI=true, where .ci/run installs it).
func needTshark(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark not installed (CI=true): .ci/run installs it")
		}
		t.Skip("tshark not installed; skipping the comparison with Wireshark")
	}
	return path
}

// tsharkCounts runs tshark on a file and counts MQTT PDUs per type name.
func tsharkCounts(t *testing.T, tshark, file string, decodeAs ...string) map[string]int {
	args := []string{"-r", file}
	for _, p := range decodeAs {
		args = append(args, "-d", "tcp.port=="+p+",mqtt")
	}
	args = append(args, "-Y", "mqtt", "-T", "fields", "-e", "mqtt.msgtype")
	out, err := exec.Command(tshark, args...).Output()
	require.NoError(t, err, "tshark %v", args)
	counts := map[string]int{}
	for _, f := range strings.FieldsFunc(string(out), func(r rune) bool { return r == '\n' || r == ',' }) {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		require.NoError(t, err, "tshark output %q", f)
		counts[codec.Type(n).String()]++
	}
	return counts
}

// TestTsharkDecodesWriterOutput: Wireshark reads what the Writer wrote (in
// every link type the fixtures rewrap it in) as the same MQTT packets this
// package reads.
func TestTsharkDecodesWriterOutput(t *testing.T) {
	tshark := needTshark(t)
	for _, name := range []string{"writer-v311.pcap", "writer-v5-ipv6.pcap", "linux-sll.pcap", "linux-sll2.pcap",
		"bsd-null.pcap", "raw-ip.pcap", "vlan.pcap", "session.pcapng"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", name)
			ours, _ := countTypes(t, path)
			require.NotEmpty(t, ours)
			assert.Equal(t, ours, tsharkCounts(t, tshark, path))
		})
	}
}

// TestTsharkSharedCaptures runs tshark itself on the shared captures (with
// the decode-as their README gives) and compares with this package.
func TestTsharkSharedCaptures(t *testing.T) {
	needShared(t)
	tshark := needTshark(t)
	files, err := filepath.Glob(filepath.Join(sharedCaptures, "*.pcap"))
	require.NoError(t, err)
	public, err := filepath.Glob(filepath.Join(sharedCaptures, "public", "*.pcap*"))
	require.NoError(t, err)
	files = append(files, public...)
	if !testing.Short() {
		files = append(files, filepath.Join(sharedCaptures, "big", "mosquitto-20k-publish.pcap"))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			ours, _ := countTypes(t, path)
			assert.Equal(t, tsharkCounts(t, tshark, path, "18831", "18832", "18833", "18834"), ours)
		})
	}
}
