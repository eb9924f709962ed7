package pcap

import (
	"bytes"
	"os"
	"path/filepath"
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

// TestSummaryMatchesRecount: the client and topic tables (read through the
// last-seen shortcuts) equal a plain recount of every message, on the
// fixtures and the shared captures, where connections and topics
// interleave.
func TestSummaryMatchesRecount(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.pcap*")
	shared, _ := filepath.Glob(filepath.Join(sharedCaptures, "*.pcap"))
	for _, path := range append(files, shared...) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			r, err := NewReader(bytes.NewReader(b))
			require.NoError(t, err)
			s := NewSummary()
			clients := map[string]*ClientSummary{}
			topics := map[string]int{}
			seen := map[*Conn]string{}
			require.NoError(t, r.Walk(Handler{
				Message: func(m *Message) error {
					s.Message(m)
					key := clientKey(m.Conn)
					c := clients[key]
					if c == nil {
						c = &ClientSummary{}
						clients[key] = c
					}
					if id, ok := seen[m.Conn]; !ok || id != m.Conn.ClientID {
						c.Connections++
						seen[m.Conn] = m.Conn.ClientID
					}
					pub, _ := m.Packet.(*codec.Publish)
					if m.Dir == ClientToBroker {
						c.Sent++
						if pub != nil {
							c.Published++
						}
					} else {
						c.Received++
						if pub != nil {
							c.Delivered++
						}
					}
					if pub != nil {
						topics[string(pub.Topic)]++
					}
					return nil
				},
				Stream: func(e *StreamEvent) error {
					s.Event(e)
					if e.Kind == Closed {
						delete(seen, e.Conn)
					}
					return nil
				},
			}))
			require.Equal(t, clients, s.Clients)
			got := map[string]int{}
			for k, v := range s.Topics {
				got[k] = *v
			}
			require.Equal(t, topics, got)
		})
	}
}
