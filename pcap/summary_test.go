package pcap

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

func summarize(t *testing.T, name string) (*Summary, Stats) {
	r, err := NewReader(bytes.NewReader(readFixture(t, name)))
	require.NoError(t, err)
	s := NewSummary()
	require.NoError(t, r.Walk(Handler{Message: func(m *Message) error { s.Message(m); return nil },
		Stream: func(e *StreamEvent) error { s.Event(e); return nil }}))
	return s, r.Stats()
}

// TestSummary: the per-type, QoS, client, topic and violation tables.
func TestSummary(t *testing.T) {
	s, st := summarize(t, "writer-v311.pcap")
	assert.Equal(t, 19, s.Packets)
	assert.Equal(t, 5, s.Types[codec.PUBLISH])
	assert.Equal(t, [4]int{2, 2, 1, 0}, s.QoS)
	require.Contains(t, s.Clients, "fx-311")
	c := s.Clients["fx-311"]
	assert.Equal(t, ClientSummary{Connections: 1, Sent: 10, Received: 9, Published: 3, Delivered: 2}, *c)
	assert.Equal(t, 2, *s.Topics["fx/0"])
	assert.Equal(t, 2, s.MinSize) // PINGREQ
	assert.Equal(t, 5131, s.MaxSize)

	var out strings.Builder
	require.NoError(t, s.WriteText(&out, st, 5))
	text := out.String()
	for _, want := range []string{
		"types        CONNECT 1 CONNACK 1 PUBLISH 5 PUBACK 2 PUBREC 1 PUBREL 1 PUBCOMP 1 SUBSCRIBE 1 SUBACK 1 UNSUBSCRIBE 1 UNSUBACK 1 PINGREQ 1 PINGRESP 1 DISCONNECT 1\n",
		"QoS          0: 2  1: 2  2: 1  retained: 0\n",
		`"fx-311"`,
		"violations   0 kinds; undecodable packets: 0\n",
	} {
		assert.Contains(t, text, want)
	}

	s, _ = summarize(t, "writer-v5-ipv6.pcap")
	require.Contains(t, s.Violations, "MQTT-3.3.4-6") // client PUBLISH with a Subscription Identifier
	assert.Equal(t, 1, s.Violations["MQTT-3.3.4-6"].Count)
}
