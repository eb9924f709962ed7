package codec

import (
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/stretchr/testify/require"
)

const (
	layerBrokerPort = 1883
	layerClientPort = 50123
)

// tcpFrame wraps payload in Ethernet/IPv4/TCP headers with gopacket's own
// serializer, as a capture of 127.0.0.1 would hold it.
func layerFrame(t testing.TB, src, dst uint16, payload []byte) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{0, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP,
		SrcIP: net.IPv4(127, 0, 0, 1), DstIP: net.IPv4(127, 0, 0, 1)}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src), DstPort: layers.TCPPort(dst), Seq: 1, ACK: true, PSH: true, Window: 512}
	require.NoError(t, tcp.SetNetworkLayerForChecksum(ip))
	buf := gopacket.NewSerializeBuffer()
	require.NoError(t, gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, tcp, gopacket.Payload(payload)))
	return buf.Bytes()
}

// wire encodes notation lines back to back; CONNECT carries its own level.
func layerWire(t testing.TB, v Version, lines ...string) []byte {
	t.Helper()
	var b []byte
	for _, s := range lines {
		p, err := Parse(s)
		require.NoError(t, err, s)
		b = p.Append(b, v)
	}
	return b
}

func layerFormats(m *MQTT) []string {
	var out []string
	for _, p := range m.Packets {
		out = append(out, Format(p.Packet))
	}
	return out
}

func TestLayerNewPacket(t *testing.T) {
	RegisterPort(layerBrokerPort)
	tests := []struct {
		name   string
		v      Version // encoding of the lines that are not CONNECT
		lines  []string
		cut    int    // bytes cut off the end: the segment ends inside the last packet
		extra  []byte // raw bytes after the lines
		want   []string
		rule   string // violation expected on the first packet (lenient decoding)
		failed bool   // an error layer follows
	}{
		{name: "two PUBLISH in one segment keep their own values", v: V311,
			lines: []string{`PUBLISH qos=1 id=1 topic="a" payload="x"`, `PUBLISH qos=1 id=2 topic="b" payload="y"`}},
		{name: "a CONNECT 5.0 switches the version for the PUBLISH after it", v: V5,
			lines: []string{`CONNECT v=5.0 client-id="c" clean keepalive=60 props{session-expiry=10}`,
				`PUBLISH topic="t" props{user("k"="v")} payload="p"`}},
		{name: "PUBREC and PUBACK share one Go type but keep their own values", v: V311,
			lines: []string{`PUBREC id=2`, `PUBACK id=3`, `PUBCOMP id=4`}},
		{name: "PUBACK and DISCONNECT share a segment", v: V311,
			lines: []string{`PUBACK id=3`, `DISCONNECT`}},
		{name: "a segment that ends inside a PUBLISH keeps the start as payload", v: V311, cut: 3,
			lines: []string{`PINGREQ`, `PUBLISH topic="a/b" payload="hello"`}, want: []string{`PINGREQ`}},
		{name: "DUP on QoS 0 shows, with its violation", v: V311, rule: "MQTT-3.3.1-2",
			lines: []string{`PUBLISH dup topic="a" payload="x"`}},
		{name: "reserved packet type 0 after a PINGRESP is a decode failure", v: V311, failed: true,
			lines: []string{`PINGRESP`}, extra: []byte{0x00, 0x00}, want: []string{`PINGRESP`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seg := append(layerWire(t, tc.v, tc.lines...), tc.extra...)
			seg = seg[:len(seg)-tc.cut]
			pkt := gopacket.NewPacket(layerFrame(t, layerClientPort, layerBrokerPort, seg), layers.LayerTypeEthernet,
				gopacket.DecodeOptions{DecodeStreamsAsDatagrams: true})
			m, ok := pkt.Layer(LayerTypeMQTT).(*MQTT)
			require.True(t, ok, "no MQTT layer in %v", pkt)
			require.Same(t, m, pkt.ApplicationLayer())
			want := tc.want
			if want == nil {
				want = tc.lines
			}
			require.Equal(t, want, layerFormats(m))
			require.Equal(t, seg, append(append([]byte{}, m.LayerContents()...), m.LayerPayload()...))
			if tc.cut > 0 {
				require.Len(t, m.Payload(), len(seg)-len(m.Contents))
			}
			if tc.rule != "" {
				require.NotEmpty(t, m.Packets[0].Violations)
				require.Equal(t, tc.rule, m.Packets[0].Violations[0].Rule)
			}
			require.Equal(t, tc.failed, pkt.ErrorLayer() != nil, "error layer: %v", pkt.ErrorLayer())
		})
	}
}

// layerConversation is one 5.0 connection, segment by segment; the layer value
// learns the version from the CONNECT and keeps it.
var layerConversation = []struct {
	toBroker bool
	lines    []string
}{
	{true, []string{`CONNECT v=5.0 client-id="sensor-1" clean keepalive=30 props{receive-maximum=10 user("site"="a")}`}},
	{false, []string{`CONNACK reason=success props{assigned-client-id="x" topic-alias-maximum=5}`}},
	{true, []string{`SUBSCRIBE id=1 props{subscription-id=42} sub("s/#" qos=1 no-local) sub("t" qos=2)`}},
	{false, []string{`SUBACK id=1 reasons=[granted-qos-1 granted-qos-2]`}},
	{true, []string{`PUBLISH qos=1 id=2 topic="s/1" props{message-expiry=60 topic-alias=1} payload="21.5"`,
		`PUBLISH qos=1 id=3 topic="" props{topic-alias=1} payload="21.6"`}},
	{false, []string{`PUBACK id=2`, `PUBACK id=3 reason=no-matching-subscribers props{reason-string="none"}`}},
	{false, []string{`PUBLISH qos=1 id=9 topic="s/1" props{subscription-id=42 user("k"="v") user("k"="w")} payload="x"`}},
	{true, []string{`UNSUBSCRIBE id=4 filter="s/#" filter="t"`, `DISCONNECT reason=disconnect-with-will`}},
}

func TestLayerDecodingLayerParser(t *testing.T) {
	RegisterPort(layerBrokerPort)
	var (
		eth     layers.Ethernet
		ip      layers.IPv4
		tcp     layers.TCP
		mqtt    MQTT
		decoded []gopacket.LayerType
	)
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip, &tcp, &mqtt)
	frames := make([][]byte, len(layerConversation))
	for i, seg := range layerConversation {
		src, dst := uint16(layerBrokerPort), uint16(layerClientPort)
		if seg.toBroker {
			src, dst = dst, src
		}
		frames[i] = layerFrame(t, src, dst, layerWire(t, V5, seg.lines...))
	}
	for i, seg := range layerConversation {
		require.NoError(t, parser.DecodeLayers(frames[i], &decoded), "segment %d", i)
		require.Equal(t, []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeIPv4, layers.LayerTypeTCP, LayerTypeMQTT}, decoded)
		require.Equal(t, seg.lines, layerFormats(&mqtt), "segment %d", i)
		require.Equal(t, V5, mqtt.Version)
		require.Empty(t, mqtt.Payload())
	}

	// Steady state: the same layer values decode every segment again
	// without allocating.
	allocs := testing.AllocsPerRun(50, func() {
		for _, f := range frames {
			if err := parser.DecodeLayers(f, &decoded); err != nil {
				panic(err)
			}
		}
	})
	require.Zero(t, allocs, "allocations per layerConversation")
}

func TestLayerStrict(t *testing.T) {
	tests := []struct {
		name   string
		strict bool
		seg    []byte
		rule   string
	}{
		{name: "lenient: SUBSCRIBE with wrong reserved flags still decodes", rule: "MQTT-3.8.1-1",
			seg: []byte{0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00}},
		{name: "strict: SUBSCRIBE with wrong reserved flags fails", strict: true, rule: "MQTT-3.8.1-1",
			seg: []byte{0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := MQTT{Strict: tc.strict}
			err := m.DecodeFromBytes(tc.seg, gopacket.NilDecodeFeedback)
			if tc.strict {
				e, ok := AsError(err)
				require.True(t, ok, "%v", err)
				require.Equal(t, tc.rule, e.Rule)
				require.Empty(t, m.Packets)
				require.Equal(t, tc.seg, m.Payload())
				return
			}
			require.NoError(t, err)
			require.Len(t, m.Packets, 1)
			require.Equal(t, tc.seg, []byte(m.Packets[0].Raw))
			require.NotEmpty(t, m.Packets[0].Violations)
		})
	}
}
