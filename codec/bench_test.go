package codec

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// Typical traffic: a 31-byte topic, a 64-byte payload, and for 5.0 the
// properties real clients and brokers send.
const (
	benchTopic   = `sensors/building-7/floor-3/temp`
	benchPayload = `{"t":21.5,"h":40.25,"ts":1718000000,"id":"probe-0042","ok":true}`
)

// benchPackets covers every packet type in both versions; from is who sends
// it, so the one-sided rules run too. Strict validation is always on.
var benchPackets = []struct {
	name string
	v    Version
	from Role
	text string
}{
	{"CONNECT/3.1.1", V311, FromClient, `CONNECT v=3.1.1 client-id="bench-client-0001" clean keepalive=60 username="user" password="secret" will{topic="clients/bench-client-0001/status" payload="offline" qos=1 retain}`},
	{"CONNECT/5.0", V5, FromClient, `CONNECT v=5.0 client-id="bench-client-0001" clean keepalive=60 username="user" password="secret" will{topic="clients/bench-client-0001/status" payload="offline" qos=1 retain props{payload-format=1 will-delay=30}} props{session-expiry=3600 request-problem-info=1 receive-maximum=100 topic-alias-maximum=16 user("app"="bench") maximum-packet-size=1048576}`},
	{"CONNACK/3.1.1", V311, FromServer, `CONNACK session-present reason=success`},
	{"CONNACK/5.0", V5, FromServer, `CONNACK reason=success props{assigned-client-id="auto-7f3a9c" server-keep-alive=60 receive-maximum=64 topic-alias-maximum=16 maximum-qos=1 retain-available=1 maximum-packet-size=1048576 wildcard-sub-available=1 subscription-id-available=1 shared-sub-available=1}`},
	{"PUBLISH/3.1.1", V311, FromClient, `PUBLISH qos=1 id=42 topic="` + benchTopic + `" payload=` + strconv.Quote(benchPayload)},
	{"PUBLISH/5.0", V5, FromClient, `PUBLISH qos=1 id=42 topic="` + benchTopic + `" props{payload-format=1 message-expiry=300 content-type="application/json" response-topic="replies/bench-client-0001" correlation-data=0x0102030405060708 user("trace"="7f3a9c01")} payload=` + strconv.Quote(benchPayload)},
	{"PUBACK/3.1.1", V311, FromServer, `PUBACK id=42`},
	{"PUBACK/5.0", V5, FromServer, `PUBACK id=42 reason=no-matching-subscribers props{reason-string="nobody listens"}`},
	{"PUBREC/3.1.1", V311, FromServer, `PUBREC id=43`},
	{"PUBREC/5.0", V5, FromServer, `PUBREC id=43 props{user("k"="v")}`},
	{"PUBREL/3.1.1", V311, FromClient, `PUBREL id=43`},
	{"PUBREL/5.0", V5, FromClient, `PUBREL id=43 reason=packet-identifier-not-found`},
	{"PUBCOMP/3.1.1", V311, FromServer, `PUBCOMP id=43`},
	{"PUBCOMP/5.0", V5, FromServer, `PUBCOMP id=43 props{reason-string="done"}`},
	{"SUBSCRIBE/3.1.1", V311, FromClient, `SUBSCRIBE id=7 sub("sensors/+/floor-3/temp" qos=1) sub("alerts/#" qos=2) sub("config/bench-client-0001" qos=0)`},
	{"SUBSCRIBE/5.0", V5, FromClient, `SUBSCRIBE id=7 props{subscription-id=12 user("app"="bench")} sub("sensors/+/floor-3/temp" qos=1 no-local) sub("$share/workers/alerts/#" qos=2 rap) sub("config/bench-client-0001" qos=0 rh=2)`},
	{"SUBACK/3.1.1", V311, FromServer, `SUBACK id=7 reasons=[granted-qos-1 granted-qos-2 granted-qos-0]`},
	{"SUBACK/5.0", V5, FromServer, `SUBACK id=7 props{reason-string="partly granted"} reasons=[granted-qos-1 granted-qos-2 not-authorized]`},
	{"UNSUBSCRIBE/3.1.1", V311, FromClient, `UNSUBSCRIBE id=8 filter="sensors/+/floor-3/temp" filter="alerts/#"`},
	{"UNSUBSCRIBE/5.0", V5, FromClient, `UNSUBSCRIBE id=8 props{user("app"="bench")} filter="sensors/+/floor-3/temp" filter="alerts/#"`},
	{"UNSUBACK/3.1.1", V311, FromServer, `UNSUBACK id=8`},
	{"UNSUBACK/5.0", V5, FromServer, `UNSUBACK id=8 reasons=[success no-subscription-existed]`},
	{"PINGREQ/3.1.1", V311, FromClient, `PINGREQ`},
	{"PINGREQ/5.0", V5, FromClient, `PINGREQ`},
	{"PINGRESP/3.1.1", V311, FromServer, `PINGRESP`},
	{"PINGRESP/5.0", V5, FromServer, `PINGRESP`},
	{"DISCONNECT/3.1.1", V311, FromClient, `DISCONNECT`},
	{"DISCONNECT/5.0", V5, FromServer, `DISCONNECT reason=session-taken-over props{session-expiry=0 server-reference="broker-2:1883" reason-string="taken over"}`},
	{"AUTH/5.0", V5, FromClient, `AUTH reason=continue-authentication props{auth-method="SCRAM-SHA-256" auth-data=0x6e2c2c6e3d757365722c723d66796b6f}`},
}

// benchPacket parses row i and returns the packet and its encoding.
func benchPacket(tb testing.TB, i int) (Packet, []byte) {
	tb.Helper()
	p, err := Parse(benchPackets[i].text)
	require.NoError(tb, err, benchPackets[i].name)
	return p, p.Append(nil, benchPackets[i].v)
}

func BenchmarkDecode(b *testing.B) {
	for i, bp := range benchPackets {
		_, wire := benchPacket(b, i)
		b.Run(bp.name, func(b *testing.B) {
			d := Decoder{Version: bp.v, From: bp.from}
			b.ReportAllocs()
			b.SetBytes(int64(len(wire)))
			for b.Loop() {
				if _, _, err := d.Decode(wire); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for i, bp := range benchPackets {
		p, wire := benchPacket(b, i)
		b.Run(bp.name, func(b *testing.B) {
			buf := make([]byte, 0, 2*len(wire))
			b.ReportAllocs()
			b.SetBytes(int64(len(wire)))
			for b.Loop() {
				buf = p.Append(buf[:0], bp.v)
			}
		})
	}
}

// BenchmarkAppendText renders each packet in the notation, as pcap dump and
// the conformance transcripts do for every packet they show.
func BenchmarkAppendText(b *testing.B) {
	for i, bp := range benchPackets {
		p, _ := benchPacket(b, i)
		b.Run(bp.name, func(b *testing.B) {
			buf := AppendText(nil, p)
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				buf = AppendText(buf[:0], p)
			}
		})
	}
}

// loopReader replays one byte stream forever, in chunks the size of a
// typical socket read.
type loopReader struct {
	data []byte
	at   int
}

func (l *loopReader) Read(p []byte) (int, error) {
	if len(p) > 1500 {
		p = p[:1500]
	}
	n := copy(p, l.data[l.at:])
	l.at = (l.at + n) % len(l.data)
	return n, nil
}

// BenchmarkReaderMixed reads what a broker sees from a 5.0 client after
// CONNECT: mostly PUBLISH, with acks, a subscription change and pings.
func BenchmarkReaderMixed(b *testing.B) {
	mix := []string{"PUBLISH/5.0", "PUBLISH/5.0", "PUBLISH/5.0", "PUBREL/5.0", "PUBLISH/5.0",
		"SUBSCRIBE/5.0", "PUBLISH/5.0", "UNSUBSCRIBE/5.0", "PINGREQ/5.0", "PUBLISH/5.0"}
	var stream []byte
	for _, name := range mix {
		for i := range benchPackets {
			if benchPackets[i].name == name {
				_, wire := benchPacket(b, i)
				stream = append(stream, wire...)
			}
		}
	}
	r := NewReader(&loopReader{data: stream}, 4096)
	r.Version, r.From = V5, FromClient
	b.ReportAllocs()
	b.SetBytes(int64(len(stream) / len(mix)))
	for b.Loop() {
		if _, err := r.ReadPacket(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestZeroAllocs keeps decode and encode allocation-free once a Decoder has
// grown its reusable slices, so a regression fails make test.
func TestZeroAllocs(t *testing.T) {
	for i, bp := range benchPackets {
		t.Run(bp.name, func(t *testing.T) {
			p, wire := benchPacket(t, i)
			d := Decoder{Version: bp.v, From: bp.from}
			_, _, err := d.Decode(wire)
			require.NoError(t, err)
			buf := make([]byte, 0, 2*len(wire))
			allocs := testing.AllocsPerRun(100, func() {
				if _, _, err := d.Decode(wire); err != nil {
					panic(err)
				}
				buf = p.Append(buf[:0], bp.v)
			})
			require.Zero(t, allocs, "allocations per decode+encode of %s", bp.name)
			require.Equal(t, wire, buf)
		})
	}
}
