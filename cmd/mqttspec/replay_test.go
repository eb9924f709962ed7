package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mqttspec/codec"
	"mqttspec/pcap"
)

// writeCapture synthesizes a capture of one client session: each line is
// "c PACKET" (client to broker) or "b PACKET" (broker to client).
func writeCapture(t *testing.T, v codec.Version, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "session.pcap")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	w, err := pcap.NewWriter(f)
	require.NoError(t, err)
	at := time.Unix(1700000000, 0)
	flow, err := w.Open(netip.MustParseAddrPort("127.0.0.1:50000"), netip.MustParseAddrPort("127.0.0.1:1883"), at)
	require.NoError(t, err)
	for _, l := range lines {
		p, err := codec.Parse(l[2:])
		require.NoError(t, err, l)
		d := pcap.ClientToBroker
		if l[0] == 'b' {
			d = pcap.BrokerToClient
		}
		at = at.Add(5 * time.Millisecond)
		require.NoError(t, flow.Send(d, at, p.Append(nil, v)))
	}
	require.NoError(t, flow.Close(at.Add(time.Millisecond)))
	return path
}

func TestReplayAgainstReference(t *testing.T) {
	same := writeCapture(t, codec.V5,
		`c CONNECT v=5.0 client-id="replayer" clean keepalive=30`,
		`b CONNACK reason=success props{receive-maximum=10}`,
		`c SUBSCRIBE id=1 sub("r/#" qos=1)`,
		`b SUBACK id=1 reasons=[granted-qos-1]`,
		`c PUBLISH qos=1 id=2 topic="r/a" payload="hello"`,
		`b PUBACK id=2`,
		`b PUBLISH qos=1 id=9 topic="r/a" payload="hello"`,
		`c PUBACK id=9`,
		`c DISCONNECT`)
	code, out, errs := runCLI(t, "replay", "--topic-prefix", same)
	require.Equal(t, 0, code, out+errs)
	require.Contains(t, out, "SAME")

	// The captured broker granted QoS 0: the reference grants QoS 1, and
	// replay must say so.
	differs := writeCapture(t, codec.V5,
		`c CONNECT v=5.0 client-id="replayer" clean keepalive=30`,
		`b CONNACK reason=success`,
		`c SUBSCRIBE id=1 sub("r/#" qos=1)`,
		`b SUBACK id=1 reasons=[granted-qos-0]`,
		`c DISCONNECT`)
	code, out, _ = runCLI(t, "replay", "--topic-prefix", differs)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "DIFFERENT")
	require.Contains(t, out, "reasons[0]")

	code, out, _ = runCLI(t, "pcap", "script", "--topic-prefix", same)
	require.Equal(t, 0, code)
	require.Contains(t, out, `send c1 CONNECT v=5.0 client-id="${cid}-1" clean keepalive=30`)
	require.Contains(t, out, `send c1 PUBACK id=$s1x9`)
}

func TestReplayBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.pcap")
	require.NoError(t, os.WriteFile(bad, []byte("not a capture at all"), 0o644))
	code, _, errs := runCLI(t, "replay", bad)
	require.Equal(t, 2, code)
	require.Contains(t, errs, "bad.pcap")
	code, _, errs = runCLI(t, "replay", "--timing", "slow", bad)
	require.Equal(t, 2, code)
	require.Contains(t, errs, "--timing")
}

// The shared captures of mosquitto replay identically against the
// reference broker: same answers after normalization.
func TestReplaySharedCaptures(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "captures")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs with ../shared beside the repository")
		}
		t.Skip("../shared/captures is not here")
	}
	for _, f := range []string{"paho-mosquitto-mqtt311.pcap", "paho-mosquitto-mqtt5.pcap", "mosquitto-mqtt311.pcap", "mosquitto-mqtt5.pcap"} {
		code, out, errs := runCLI(t, "replay", "--topic-prefix", filepath.Join(dir, f))
		require.Equal(t, 0, code, "%s: %s%s", f, out, errs)
	}
}
