package pcap

import (
	"bytes"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

// seen is what a walk delivered, flattened for comparisons.
type seen struct {
	lines    []string // "c2b PUBLISH qos=1 ..." per packet, or "c2b TYPE !! error"
	events   []*StreamEvent
	warnings []*Warning
	conns    map[int]*Conn
	stats    Stats
	err      error
}

// walk reads a capture from memory and records everything it delivers.
func walk(t testing.TB, file []byte, setup func(r *Reader)) *seen {
	t.Helper()
	r, err := NewReader(bytes.NewReader(file))
	require.NoError(t, err)
	if setup != nil {
		setup(r)
	}
	s := &seen{conns: map[int]*Conn{}}
	s.err = r.Walk(Handler{
		Message: func(m *Message) error {
			line := m.Dir.String() + " "
			if m.Packet != nil {
				line += codec.Format(m.Packet)
			} else {
				line += m.Type.String() + " !! " + m.Err.Error()
			}
			for _, v := range m.Violations {
				line += " !! " + v.Rule
			}
			s.lines = append(s.lines, line)
			s.conns[m.Conn.ID] = m.Conn
			return nil
		},
		Stream: func(e *StreamEvent) error {
			c := *e
			s.events = append(s.events, &c)
			return nil
		},
		Warning: func(w *Warning) { s.warnings = append(s.warnings, w) },
	})
	s.stats = r.Stats()
	return s
}

// expected is what a scripted session must read back as: each packet's
// notation, with the direction.
func expected(t testing.TB, v codec.Version, steps []step) []string {
	var out []string
	for _, st := range steps {
		b := encodeStep(t, v, st.text)
		d := codec.Decoder{Lenient: true, Version: v}
		for len(b) > 0 {
			p, n, err := d.Decode(b)
			require.NoError(t, err)
			out = append(out, st.dir.String()+" "+codec.Format(p))
			b = b[n:]
		}
	}
	return out
}

func (s *seen) kinds() []string {
	var k []string
	for _, e := range s.events {
		k = append(k, e.Kind.String())
	}
	return k
}

// TestLinkTypesAndFormats: the same 3.1.1 session reads back packet for
// packet from every link type and file format the reader supports.
func TestLinkTypesAndFormats(t *testing.T) {
	want := expected(t, codec.V311, sessionV311)
	for _, name := range []string{"writer-v311.pcap", "linux-sll.pcap", "linux-sll2.pcap", "bsd-null.pcap",
		"raw-ip.pcap", "vlan.pcap", "session.pcapng"} {
		t.Run(name, func(t *testing.T) {
			file := readFixture(t, name)
			s := walk(t, file, nil)
			require.NoError(t, s.err)
			assert.Equal(t, want, s.lines)
			assert.Equal(t, []string{"opened", "closed"}, s.kinds())
			require.Len(t, s.conns, 1)
			c := s.conns[1]
			assert.Equal(t, "10.0.0.1:40001", c.Client.String())
			assert.Equal(t, "10.0.0.2:1883", c.Broker.String())
			assert.Equal(t, "fx-311", c.ClientID)
			assert.Equal(t, codec.V311, c.Version)
			assert.Equal(t, "FIN", s.events[1].Reason)
			assert.Zero(t, s.stats.DamagedStreams)
		})
	}
}

func readFixture(t testing.TB, name string) []byte {
	for _, f := range fixtures {
		if f.name == name {
			return f.build(t)
		}
	}
	t.Fatalf("no fixture %s", name)
	return nil
}

// TestVersion5OverIPv6: the CONNECT's version is used for the broker's
// answers too, and 5.0-only rules are named ([MQTT-3.3.4-6]: a client
// PUBLISH must not carry a Subscription Identifier).
func TestVersion5OverIPv6(t *testing.T) {
	s := walk(t, readFixture(t, "writer-v5-ipv6.pcap"), nil)
	require.NoError(t, s.err)
	want := expected(t, codec.V5, sessionV5)
	want[6] += " !! MQTT-3.3.4-6"
	assert.Equal(t, want, s.lines)
	assert.Equal(t, codec.V5, s.conns[1].Version)
	assert.Equal(t, "[fd00::1]:40002", s.conns[1].Client.String())
}

// TestContentDetection: MQTT on an unregistered port is found by its
// CONNECT; HTTP, a server that speaks first, UDP and ARP are skipped.
func TestContentDetection(t *testing.T) {
	s := walk(t, readFixture(t, "content-ports.pcap"), nil)
	require.NoError(t, s.err)
	assert.Len(t, s.lines, 5)
	require.Len(t, s.conns, 1)
	assert.Equal(t, uint16(18830), s.conns[1].Broker.Port())
	assert.Equal(t, 3, s.stats.Connections)
	assert.Equal(t, 1, s.stats.MQTTConnections)
	assert.Equal(t, 2, s.stats.NotTCP)
}

// TestWebSocket: masking, a fragmented message with a ping inside it,
// several packets in one frame, 16-bit lengths, detected by the mqtt
// subprotocol on any port or by the port alone when the client's first
// packet is a CONNECT.
func TestWebSocket(t *testing.T) {
	want := []string{
		`c2b CONNECT v=3.1.1 client-id="fx-ws" clean keepalive=20`,
		`b2c CONNACK reason=success`,
		`b2c SUBACK id=1 reasons=[granted-qos-0]`,
		`c2b PUBLISH topic="ws/t" payload="` + string(bytes.Repeat([]byte("w"), 300)) + `"`,
		`c2b DISCONNECT`,
	}
	noProto := "GET /mqtt HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"
	tests := []struct {
		name, broker, upgrade string
		mqtt                  bool
	}{
		{"fixture on 8080 with subprotocol", "10.0.0.2:8080", wsUpgrade, true},
		{"unregistered port with subprotocol", "10.0.0.2:9001", wsUpgrade, true},
		{"port 80 without subprotocol", "10.0.0.2:80", noProto, true},
		{"unregistered port without subprotocol", "10.0.0.2:9001", noProto, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := writeCapture(t, func(w *Writer) { wsSession(t, w, "10.0.0.1:40020", tc.broker, tc.upgrade) })
			s := walk(t, file, nil)
			require.NoError(t, s.err)
			if !tc.mqtt {
				assert.Empty(t, s.lines)
				assert.Zero(t, s.stats.MQTTConnections)
				return
			}
			assert.Equal(t, want, s.lines)
			assert.Equal(t, WebSocket, s.conns[1].Transport)
			assert.Equal(t, 1, s.stats.WebSocketConnections)
		})
	}
}

// TestTLS: port 8883 is reported as an encrypted connection, and TLS on
// the MQTT port is recognized by its handshake record.
func TestTLS(t *testing.T) {
	s := walk(t, readFixture(t, "tls-8883.pcap"), nil)
	require.NoError(t, s.err)
	assert.Empty(t, s.lines)
	assert.Equal(t, []string{"encrypted"}, s.kinds())
	assert.Equal(t, 1, s.stats.TLSConnections)

	file := writeCapture(t, func(w *Writer) {
		f, err := w.Open(netip.MustParseAddrPort("10.0.0.1:40101"), netip.MustParseAddrPort("10.0.0.2:1883"), epoch)
		require.NoError(t, err)
		require.NoError(t, f.Send(ClientToBroker, epoch, []byte{0x16, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00}))
	})
	s = walk(t, file, nil)
	assert.Empty(t, s.lines)
	assert.Equal(t, []string{"encrypted"}, s.kinds())
}

// TestManyConnections: interleaved connections keep their packets apart and
// in order.
func TestManyConnections(t *testing.T) {
	const n = 200
	file := writeCapture(t, func(w *Writer) {
		flows := make([]*Flow, n)
		for i := range flows {
			var err error
			flows[i], err = w.Open(netip.AddrPortFrom(netip.MustParseAddr("10.1.0.1"), uint16(20000+i)),
				netip.MustParseAddrPort("10.1.0.2:1883"), epoch)
			require.NoError(t, err)
		}
		rounds := []func(i int) string{
			func(i int) string { return fmt.Sprintf(`CONNECT v=3.1.1 client-id="c%d" clean keepalive=30`, i) },
			func(i int) string { return fmt.Sprintf(`PUBLISH topic="t/%d" payload="x"`, i) },
			func(int) string { return `DISCONNECT` },
		}
		for round, text := range rounds {
			for i, f := range flows {
				require.NoError(t, f.Send(ClientToBroker, epoch.Add(time.Duration(round)*time.Second),
					encodeStep(t, codec.V311, text(i))))
			}
		}
		for _, f := range flows {
			require.NoError(t, f.Close(epoch.Add(3*time.Second)))
		}
	})
	r, err := NewReader(bytes.NewReader(file))
	require.NoError(t, err)
	perConn := map[int][]string{}
	require.NoError(t, r.Walk(Handler{Message: func(m *Message) error {
		perConn[m.Conn.ID] = append(perConn[m.Conn.ID], codec.Format(m.Packet))
		return nil
	}}))
	require.Len(t, perConn, n)
	for id, pkts := range perConn {
		i := id - 1 // connections are numbered in order of their first packet
		assert.Equal(t, []string{fmt.Sprintf(`CONNECT v=3.1.1 client-id="c%d" clean keepalive=30`, i),
			fmt.Sprintf(`PUBLISH topic="t/%d" payload="x"`, i), "DISCONNECT"}, pkts)
	}
	assert.Equal(t, n, r.Stats().MQTTConnections)
}

// TestOversizedPacket: a packet beyond MaxPacketSize is reported and
// skipped without buffering it; the next packet is read normally.
func TestOversizedPacket(t *testing.T) {
	file := writeCapture(t, func(w *Writer) {
		converse(t, w, "10.0.0.1:40001", "10.0.0.2:1883", codec.V311, epoch, sessionV311)
	})
	s := walk(t, file, func(r *Reader) { r.MaxPacketSize = 1024 })
	require.NoError(t, s.err)
	want := expected(t, codec.V311, sessionV311)
	require.Len(t, s.lines, len(want))
	assert.Equal(t, want[:8], s.lines[:8])
	assert.Equal(t, "c2b PUBLISH !! PUBLISH of 5131 bytes is larger than the reader's limit of 1024 bytes; skipped", s.lines[8])
	assert.Equal(t, want[9:], s.lines[9:])
}

// TestHandlerErrorStops: an error from a callback ends Walk with it.
func TestHandlerErrorStops(t *testing.T) {
	r, err := NewReader(bytes.NewReader(readFixture(t, "writer-v311.pcap")))
	require.NoError(t, err)
	stop := fmt.Errorf("enough")
	n := 0
	err = r.Walk(Handler{Message: func(*Message) error { n++; return stop }})
	assert.Equal(t, stop, err)
	assert.Equal(t, 1, n)
	assert.Error(t, r.Walk(Handler{}), "a second Walk")
}

// TestOpenFile covers Open on the fixtures on disk.
func TestOpenFile(t *testing.T) {
	r, err := Open(filepath.Join("testdata", "session.pcapng"))
	require.NoError(t, err)
	defer r.Close()
	assert.Equal(t, "pcapng", r.Format())
	require.NoError(t, r.Walk(Handler{}))
	assert.Equal(t, 19, r.Stats().Packets)
	_, err = Open(filepath.Join("testdata", "missing.pcap"))
	assert.Error(t, err)
}

// TestPortsOption: a capture that starts after the CONNECT on an
// unregistered port shows nothing until the port is named.
func TestPortsOption(t *testing.T) {
	file := writeCapture(t, func(w *Writer) {
		converse(t, w, "10.0.0.1:40001", "10.0.0.2:18831", codec.V311, epoch, sessionV311)
	})
	cis, frames := records(t, file)
	var recs []record
	for i := 6; i < len(cis); i++ { // handshake, CONNECT, CONNACK and SUBSCRIBE left out
		recs = append(recs, record{cis[i], frames[i]})
	}
	cut := writeRecords(t, recs)
	s := walk(t, cut, nil)
	require.NoError(t, s.err)
	assert.Empty(t, s.lines)
	s = walk(t, cut, func(r *Reader) { r.Ports = []uint16{18831} })
	require.NoError(t, s.err)
	assert.Equal(t, expected(t, codec.V311, sessionV311)[3:], s.lines)
	assert.Equal(t, "10.0.0.1:40001", s.conns[1].Client.String())
}

// TestNonMinimalLength: in 5.0 a remaining length in more bytes than
// needed is named once ([MQTT-1.5.5-1]) and the packet is still shown.
func TestNonMinimalLength(t *testing.T) {
	file := writeCapture(t, func(w *Writer) {
		f, err := w.Open(netip.MustParseAddrPort("10.0.0.1:40001"), netip.MustParseAddrPort("10.0.0.2:1883"), epoch)
		require.NoError(t, err)
		require.NoError(t, f.Send(ClientToBroker, epoch, encodeStep(t, codec.V5, `CONNECT v=5.0 client-id="nm" clean keepalive=30`)))
		// PINGREQ with its zero remaining length in two bytes.
		require.NoError(t, f.Send(ClientToBroker, epoch, []byte{0xc0, 0x80, 0x00}))
	})
	s := walk(t, file, nil)
	require.NoError(t, s.err)
	require.Len(t, s.lines, 2)
	assert.Equal(t, "c2b PINGREQ !! MQTT-1.5.5-1", s.lines[1])
}

func TestConnString(t *testing.T) {
	for _, tc := range []struct {
		client, broker string
		want           string
	}{
		{"127.0.0.1:53250", "127.0.0.1:1883", "#7 127.0.0.1:53250 → 127.0.0.1:1883"},
		{"[2001:db8::1]:40000", "[::1]:8883", "#7 [2001:db8::1]:40000 → [::1]:8883"},
		{"[::ffff:10.0.0.1]:1", "[fe80::1]:65535", "#7 [::ffff:10.0.0.1]:1 → [fe80::1]:65535"},
	} {
		c := &Conn{ID: 7, Client: netip.MustParseAddrPort(tc.client), Broker: netip.MustParseAddrPort(tc.broker)}
		assert.Equal(t, tc.want, c.String())
		assert.Equal(t, "x "+tc.want, string(c.AppendTo([]byte("x "))))
	}
}
