package pcap

import (
	"bytes"
	"encoding/binary"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

var update = flag.Bool("update", false, "rewrite the capture files in testdata from their generators")

// epoch is the start time of every synthesized capture.
var epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// step is what one side sends at once: one or more packets in notation,
// separated by " ; ", encoded together so they share segments.
type step struct {
	dir  Direction
	text string
}

// encodeStep encodes a step's packets for version v.
func encodeStep(t testing.TB, v codec.Version, text string) []byte {
	t.Helper()
	var b []byte
	for _, s := range strings.Split(text, " ; ") {
		p, err := codec.Parse(s)
		require.NoError(t, err, "notation %q", s)
		b = p.Append(b, v)
	}
	return b
}

// converse writes a whole connection: handshake, the steps 1 ms apart, FIN.
func converse(t testing.TB, w *Writer, client, broker string, v codec.Version, start time.Time, steps []step) {
	t.Helper()
	f, err := w.Open(netip.MustParseAddrPort(client), netip.MustParseAddrPort(broker), start)
	require.NoError(t, err)
	at := start
	for _, s := range steps {
		at = at.Add(time.Millisecond)
		require.NoError(t, f.Send(s.dir, at, encodeStep(t, v, s.text)))
	}
	require.NoError(t, f.Close(at.Add(time.Millisecond)))
}

var bigPayload = strings.Repeat("0123456789abcdef", 320) // 5120 bytes: four segments

// The v3.1.1 session: every packet type of 3.1.1, several packets in one
// segment, and a PUBLISH spread over several segments.
var sessionV311 = []step{
	{ClientToBroker, `CONNECT v=3.1.1 client-id="fx-311" clean keepalive=30 will{topic="fx/will" payload="gone" qos=1}`},
	{BrokerToClient, `CONNACK reason=success`},
	{ClientToBroker, `SUBSCRIBE id=1 sub("fx/#" qos=2)`},
	{BrokerToClient, `SUBACK id=1 reasons=[granted-qos-2]`},
	{ClientToBroker, `PUBLISH topic="fx/0" payload="hello" ; PUBLISH qos=1 id=2 topic="fx/1" payload="one"`},
	{BrokerToClient, `PUBACK id=2 ; PUBLISH topic="fx/0" payload="hello"`},
	{ClientToBroker, `PUBLISH qos=2 id=3 topic="fx/2" payload="` + bigPayload + `"`},
	{BrokerToClient, `PUBREC id=3`},
	{ClientToBroker, `PUBREL id=3`},
	{BrokerToClient, `PUBCOMP id=3 ; PUBLISH qos=1 id=7 topic="fx/1" payload="one"`},
	{ClientToBroker, `PUBACK id=7 ; PINGREQ`},
	{BrokerToClient, `PINGRESP`},
	{ClientToBroker, `UNSUBSCRIBE id=4 filter="fx/#"`},
	{BrokerToClient, `UNSUBACK id=4`},
	{ClientToBroker, `DISCONNECT`},
}

// The 5.0 session, over IPv6: properties in both directions, reason codes,
// AUTH, and a rule violation the reader must name (a client PUBLISH with a
// Subscription Identifier, [MQTT-3.3.4-6]).
var sessionV5 = []step{
	{ClientToBroker, `CONNECT v=5.0 client-id="fx-5" clean keepalive=60 props{session-expiry=120 receive-maximum=10 user("app"="fixture")}`},
	{BrokerToClient, `CONNACK reason=success props{topic-alias-maximum=5 assigned-client-id="x"}`},
	{ClientToBroker, `SUBSCRIBE id=1 props{subscription-id=9} sub("fx5/#" qos=1 no-local)`},
	{BrokerToClient, `SUBACK id=1 reasons=[granted-qos-1]`},
	{ClientToBroker, `PUBLISH qos=1 id=2 topic="fx5/a" props{message-expiry=30 content-type="text/plain" user("k"="v")} payload="five"`},
	{BrokerToClient, `PUBACK id=2 reason=no-matching-subscribers props{reason-string="none"}`},
	{ClientToBroker, `PUBLISH topic="fx5/b" props{subscription-id=3} payload="bad"`},
	{ClientToBroker, `AUTH reason=re-authenticate props{auth-method="TOKEN" auth-data=0x0102}`},
	{BrokerToClient, `AUTH reason=success props{auth-method="TOKEN"}`},
	{ClientToBroker, `DISCONNECT reason=disconnect-with-will props{session-expiry=0}`},
}

// fixture is one file in testdata and the function that writes it.
type fixture struct {
	name  string
	build func(t testing.TB) []byte
}

var fixtures = []fixture{
	{"writer-v311.pcap", buildV311},
	{"writer-v5-ipv6.pcap", func(t testing.TB) []byte {
		return writeCapture(t, func(w *Writer) {
			converse(t, w, "[fd00::1]:40002", "[fd00::2]:1883", codec.V5, epoch, sessionV5)
		})
	}},
	{"content-ports.pcap", buildContentPorts},
	{"websocket-8080.pcap", buildWebSocket},
	{"tls-8883.pcap", func(t testing.TB) []byte {
		return writeCapture(t, func(w *Writer) {
			f, err := w.Open(netip.MustParseAddrPort("10.0.0.1:40100"), netip.MustParseAddrPort("10.0.0.2:8883"), epoch)
			require.NoError(t, err)
			require.NoError(t, f.Send(ClientToBroker, epoch, []byte{0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00}))
			require.NoError(t, f.Close(epoch.Add(time.Millisecond)))
		})
	}},
	{"linux-sll.pcap", relink(layers.LinkTypeLinuxSLL, func(ip []byte, et uint16) []byte {
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[2:4], 772) // ARPHRD_LOOPBACK
		binary.BigEndian.PutUint16(h[14:16], et)
		return append(h, ip...)
	})},
	{"linux-sll2.pcap", relink(layers.LinkTypeLinuxSLL2, func(ip []byte, et uint16) []byte {
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h[0:2], et)
		binary.BigEndian.PutUint32(h[4:8], 1) // interface index
		binary.BigEndian.PutUint16(h[8:10], 772)
		return append(h, ip...)
	})},
	{"bsd-null.pcap", relink(layers.LinkTypeNull, func(ip []byte, _ uint16) []byte {
		return append([]byte{2, 0, 0, 0}, ip...) // AF_INET, little-endian host
	})},
	{"raw-ip.pcap", relink(layers.LinkTypeRaw, func(ip []byte, _ uint16) []byte { return ip })},
	{"vlan.pcap", relink(layers.LinkTypeEthernet, func(ip []byte, et uint16) []byte {
		h := []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x81, 0x00, 0x00, 0x2a, 0, 0}
		binary.BigEndian.PutUint16(h[16:18], et)
		return append(h, ip...)
	})},
	{"session.pcapng", buildPcapng},
}

func buildV311(t testing.TB) []byte {
	return writeCapture(t, func(w *Writer) {
		converse(t, w, "10.0.0.1:40001", "10.0.0.2:1883", codec.V311, epoch, sessionV311)
	})
}

// writeCapture runs fn on a Writer and returns the file it wrote.
func writeCapture(t testing.TB, fn func(w *Writer)) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	require.NoError(t, err)
	fn(w)
	return buf.Bytes()
}

// writeRaw adds a record with a hand-made frame to a Writer's file.
func writeRaw(t testing.TB, w *Writer, at time.Time, frame []byte) {
	t.Helper()
	require.NoError(t, w.pw.WritePacket(gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(frame), Length: len(frame)}, frame))
}

// records reads every record of a classic pcap file.
func records(t testing.TB, file []byte) ([]gopacket.CaptureInfo, [][]byte) {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(file))
	require.NoError(t, err)
	var cis []gopacket.CaptureInfo
	var frames [][]byte
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		cis, frames = append(cis, ci), append(frames, data)
	}
	return cis, frames
}

// relink rewrites the v3.1.1 session's Ethernet frames for another link
// type: wrap gets the IP packet and its Ethernet type.
func relink(lt layers.LinkType, wrap func(ip []byte, et uint16) []byte) func(t testing.TB) []byte {
	return func(t testing.TB) []byte {
		cis, frames := records(t, buildV311(t))
		var buf bytes.Buffer
		w := pcapgo.NewWriter(&buf)
		require.NoError(t, w.WriteFileHeader(writerSnaplen, lt))
		for i, f := range frames {
			b := wrap(f[14:], binary.BigEndian.Uint16(f[12:14]))
			ci := cis[i]
			ci.CaptureLength, ci.Length = len(b), len(b)
			require.NoError(t, w.WritePacket(ci, b))
		}
		return buf.Bytes()
	}
}

func buildPcapng(t testing.TB) []byte {
	cis, frames := records(t, buildV311(t))
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{Name: "lo", LinkType: layers.LinkTypeEthernet, SnapLength: writerSnaplen},
		pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "mqttspec fixtures"}})
	require.NoError(t, err)
	for i, f := range frames {
		require.NoError(t, w.WritePacket(cis[i], f))
	}
	require.NoError(t, w.Flush())
	return buf.Bytes()
}

// buildContentPorts: MQTT on an unregistered port (found by its CONNECT),
// next to traffic that is not MQTT: an HTTP exchange, a server that speaks
// first, a UDP datagram and an ARP frame.
func buildContentPorts(t testing.TB) []byte {
	return writeCapture(t, func(w *Writer) {
		converse(t, w, "10.0.0.1:40010", "10.0.0.2:18830", codec.V311, epoch, []step{
			{ClientToBroker, `CONNECT v=3.1.1 client-id="fx-content" clean keepalive=10`},
			{BrokerToClient, `CONNACK reason=success`},
			{ClientToBroker, `PUBLISH qos=1 id=1 topic="c/x" payload="y"`},
			{BrokerToClient, `PUBACK id=1`},
			{ClientToBroker, `DISCONNECT`},
		})
		at := epoch.Add(time.Second)
		f, err := w.Open(netip.MustParseAddrPort("10.0.0.1:40011"), netip.MustParseAddrPort("10.0.0.2:9000"), at)
		require.NoError(t, err)
		require.NoError(t, f.Send(ClientToBroker, at, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")))
		require.NoError(t, f.Send(BrokerToClient, at, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")))
		require.NoError(t, f.Close(at))
		f, err = w.Open(netip.MustParseAddrPort("10.0.0.1:40012"), netip.MustParseAddrPort("10.0.0.2:2222"), at)
		require.NoError(t, err)
		require.NoError(t, f.Send(BrokerToClient, at, encodeStep(t, codec.V311, `CONNACK reason=success`)))
		require.NoError(t, f.Close(at))
		udp := append(ethernetIPv4Header(17, 8+4), 0x13, 0x88, 0x13, 0x89, 0, 12, 0, 0, 't', 'e', 's', 't')
		writeRaw(t, w, at, udp)
		arp := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06}
		writeRaw(t, w, at, append(arp, make([]byte, 28)...))
	})
}

// ethernetIPv4Header is an Ethernet + IPv4 header (no checksum) for a
// hand-made record carrying protocol proto with n bytes after the IP header.
func ethernetIPv4Header(proto byte, n int) []byte {
	b := []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	binary.BigEndian.PutUint16(b[16:18], uint16(20+n))
	return b
}

// wsFrame builds one WebSocket frame; a non-nil key masks it as a client must.
func wsFrame(fin bool, op byte, key []byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	m := byte(0)
	if key != nil {
		m = 0x80
	}
	switch {
	case len(payload) < 126:
		b = append(b, m|byte(len(payload)))
	case len(payload) < 1<<16:
		b = append(b, m|126, byte(len(payload)>>8), byte(len(payload)))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(len(payload)))
	}
	if key == nil {
		return append(b, payload...)
	}
	b = append(b, key...)
	for i, c := range payload {
		b = append(b, c^key[i&3])
	}
	return b
}

const wsUpgrade = "GET /mqtt HTTP/1.1\r\nHost: broker\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"

const wsAccept = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"

// wsSession writes MQTT over WebSocket: a CONNECT split across a fragmented
// message with a ping in between, two packets in one frame, a 16-bit frame
// length, and a close frame.
func wsSession(t testing.TB, w *Writer, client, broker string, upgrade string) {
	key := []byte{0x11, 0x22, 0x33, 0x44}
	f, err := w.Open(netip.MustParseAddrPort(client), netip.MustParseAddrPort(broker), epoch)
	require.NoError(t, err)
	at := epoch
	send := func(d Direction, b []byte) {
		at = at.Add(time.Millisecond)
		require.NoError(t, f.Send(d, at, b))
	}
	connect := encodeStep(t, codec.V311, `CONNECT v=3.1.1 client-id="fx-ws" clean keepalive=20`)
	send(ClientToBroker, []byte(upgrade))
	send(BrokerToClient, []byte(wsAccept))
	send(ClientToBroker, append(append(wsFrame(false, 2, key, connect[:5]), wsFrame(true, 9, key, []byte("hi"))...),
		wsFrame(true, 0, key, connect[5:])...))
	send(BrokerToClient, wsFrame(true, 2, nil, encodeStep(t, codec.V311, `CONNACK reason=success ; SUBACK id=1 reasons=[granted-qos-0]`)))
	send(ClientToBroker, wsFrame(true, 2, key, encodeStep(t, codec.V311, `PUBLISH topic="ws/t" payload="`+strings.Repeat("w", 300)+`"`)))
	send(ClientToBroker, wsFrame(true, 2, key, encodeStep(t, codec.V311, `DISCONNECT`)))
	send(BrokerToClient, wsFrame(true, 8, nil, []byte{0x03, 0xe8}))
	require.NoError(t, f.Close(at.Add(time.Millisecond)))
}

func buildWebSocket(t testing.TB) []byte {
	return writeCapture(t, func(w *Writer) { wsSession(t, w, "10.0.0.1:40020", "10.0.0.2:8080", wsUpgrade) })
}

// TestFixturesUpToDate: the files in testdata are exactly what their
// generators write, so the Writer is deterministic and the fixtures are
// reproducible (go test ./pcap -run TestFixturesUpToDate -update rewrites them).
func TestFixturesUpToDate(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			want := f.build(t)
			path := filepath.Join("testdata", f.name)
			if *update {
				require.NoError(t, os.WriteFile(path, want, 0o644))
			}
			have, err := os.ReadFile(path)
			require.NoError(t, err, "missing fixture; run: go test ./pcap -run TestFixturesUpToDate -update")
			require.True(t, bytes.Equal(want, have), "%s differs from what its generator writes now", path)
		})
	}
}
