package reports

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"mqttspec/codec"
	"mqttspec/conformance"
	"mqttspec/pcap"
)

// realRun is a run whose transcripts carry real encodings.
func realRun(t *testing.T) *conformance.Run {
	run := sampleRun()
	for i := range run.Results {
		tx := run.Results[i].Transcript
		for j := range tx {
			if tx[j].Dir != "send" && tx[j].Dir != "recv" {
				continue
			}
			p, err := codec.Parse(tx[j].Text)
			require.NoError(t, err)
			tx[j].Hex = hexOf(p.Append(nil, codec.V5))
		}
		if tx != nil {
			run.Results[i].Transcript = append(append([]conformance.Event(nil), tx...), conformance.Event{At: tx[len(tx)-1].At, Conn: "c", Dir: "close"})
		}
	}
	return run
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

func TestWritePcapsReadBack(t *testing.T) {
	dir := t.TempDir()
	run := realRun(t)
	require.NoError(t, WritePcaps(dir, run))
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	require.Len(t, files, 4, "one capture per case that ran (the skipped one has none)")

	r, err := pcap.Open(filepath.Join(dir, "publish.qos1-puback_5.0.pcap"))
	require.NoError(t, err)
	defer r.Close()
	var got []string
	require.NoError(t, r.Walk(pcap.Handler{Message: func(m *pcap.Message) error {
		require.NoError(t, m.Err)
		got = append(got, m.Dir.String()+" "+codec.Format(m.Packet))
		return nil
	}}))
	require.Len(t, got, 4)
	require.True(t, strings.HasPrefix(got[0], "c2b CONNECT"), got[0])
	require.Contains(t, got[2], `topic="t/<a>&b"`)

	if tshark, err := exec.LookPath("tshark"); err == nil {
		out, err := exec.Command(tshark, "-r", filepath.Join(dir, "publish.qos1-puback_5.0.pcap"), "-Y", "mqtt", "-T", "fields", "-e", "mqtt.msgtype").Output()
		require.NoError(t, err)
		require.Equal(t, "1\n2\n3\n5\n", string(out), "tshark decodes CONNECT, CONNACK, PUBLISH, PUBREC")
	} else if os.Getenv("CI") != "" {
		t.Fatal("CI must install tshark")
	}
}
