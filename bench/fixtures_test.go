package bench

import (
	"bytes"
	"math"
	"strconv"

	paho "github.com/eclipse/paho.golang/packets"
	mochi "github.com/mochi-mqtt/server/v2/packets"

	"mqttspec/codec"
)

// The same message in every case: a 31-byte topic and a 64-byte payload.
const (
	topic   = "sensors/building-7/floor-3/temp"
	payload = `{"t":21.5,"h":40.25,"ts":1718000000,"id":"probe-0042","ok":true}`
	expiry  = 300
)

var filters = [3]string{"sensors/+/floor-3/temp", "alerts/#", "config/bench-client-0001"}

// fixture is one packet as every codec sees it: the wire bytes, and the
// value each codec encodes them from (nil where a codec cannot express it:
// paho.golang speaks only MQTT 5.0).
type fixture struct {
	name  string
	v     codec.Version
	wire  []byte
	ours  codec.Packet
	mochi *mochi.Packet
	paho  *paho.ControlPacket
}

func notation(v codec.Version, text string) (codec.Packet, []byte) {
	p, err := codec.Parse(text)
	if err != nil {
		panic(text + ": " + err.Error())
	}
	return p, p.Append(nil, v)
}

func newFixture(name string, v codec.Version, text string, m *mochi.Packet, p *paho.ControlPacket) fixture {
	ours, wire := notation(v, text)
	return fixture{name: name, v: v, wire: wire, ours: ours, mochi: m, paho: p}
}

var (
	publish311 = newFixture("PUBLISH 3.1.1", codec.V311,
		`PUBLISH qos=1 id=42 topic="`+topic+`" payload=`+strconv.Quote(payload),
		&mochi.Packet{ProtocolVersion: 4, FixedHeader: mochi.FixedHeader{Type: mochi.Publish, Qos: 1},
			TopicName: topic, PacketID: 42, Payload: []byte(payload)},
		nil)

	publish5 = newFixture("PUBLISH 5.0", codec.V5,
		`PUBLISH qos=1 id=42 topic="`+topic+`" props{message-expiry=300 content-type="application/json" user("trace"="7f3a9c01")} payload=`+strconv.Quote(payload),
		&mochi.Packet{ProtocolVersion: 5, FixedHeader: mochi.FixedHeader{Type: mochi.Publish, Qos: 1},
			TopicName: topic, PacketID: 42, Payload: []byte(payload),
			Properties: mochi.Properties{MessageExpiryInterval: expiry, ContentType: "application/json",
				User: []mochi.UserProperty{{Key: "trace", Val: "7f3a9c01"}}}},
		(&paho.Publish{QoS: 1, PacketID: 42, Topic: topic, Payload: []byte(payload),
			Properties: &paho.Properties{MessageExpiry: ptr(uint32(expiry)), ContentType: "application/json",
				User: []paho.User{{Key: "trace", Value: "7f3a9c01"}}}}).ToControlPacket())

	subscribe311 = newFixture("SUBSCRIBE 3.1.1", codec.V311,
		`SUBSCRIBE id=7 sub("`+filters[0]+`" qos=1) sub("`+filters[1]+`" qos=2) sub("`+filters[2]+`" qos=0)`,
		&mochi.Packet{ProtocolVersion: 4, FixedHeader: mochi.FixedHeader{Type: mochi.Subscribe, Qos: 1}, PacketID: 7,
			Filters: mochi.Subscriptions{{Filter: filters[0], Qos: 1}, {Filter: filters[1], Qos: 2}, {Filter: filters[2]}}},
		nil)

	subscribe5 = newFixture("SUBSCRIBE 5.0", codec.V5,
		`SUBSCRIBE id=7 sub("`+filters[0]+`" qos=1 no-local) sub("`+filters[1]+`" qos=2 rap) sub("`+filters[2]+`" qos=0 rh=2)`,
		&mochi.Packet{ProtocolVersion: 5, FixedHeader: mochi.FixedHeader{Type: mochi.Subscribe, Qos: 1}, PacketID: 7,
			Filters: mochi.Subscriptions{{Filter: filters[0], Qos: 1, NoLocal: true},
				{Filter: filters[1], Qos: 2, RetainAsPublished: true}, {Filter: filters[2], RetainHandling: 2}}},
		pahoPacket(paho.SUBSCRIBE, &paho.Subscribe{PacketID: 7, Properties: &paho.Properties{}, Subscriptions: []paho.SubOptions{
			{Topic: filters[0], QoS: 1, NoLocal: true}, {Topic: filters[1], QoS: 2, RetainAsPublished: true},
			{Topic: filters[2], RetainHandling: 2}}}))

	connect311 = newFixture("CONNECT 3.1.1", codec.V311,
		`CONNECT v=3.1.1 client-id="bench-client-0001" clean keepalive=60 username="user" password="secret" will{topic="clients/bench-client-0001/status" payload="offline" qos=1 retain}`,
		nil, nil)

	connect5 = newFixture("CONNECT 5.0", codec.V5,
		`CONNECT v=5.0 client-id="bench-client-0001" clean keepalive=60 username="user" password="secret" will{topic="clients/bench-client-0001/status" payload="offline" qos=1 retain props{will-delay=30}} props{session-expiry=3600 receive-maximum=100 topic-alias-maximum=16 user("app"="bench")}`,
		nil, nil)
)

// pahoPacket wraps content with the fixed header paho.golang gives type t.
func pahoPacket(t byte, content paho.Packet) *paho.ControlPacket {
	cp := paho.NewControlPacket(t)
	cp.Content = content
	return cp
}

func ptr[T any](v T) *T { return &v }

// mochiDecoder decodes the way mochi's server reads a packet: the fixed
// header byte, the remaining length through an io.ByteReader, the body
// decoder for the type, then the Validate the server calls for that type.
// The server also copies the body twice; that cost is left out here.
type mochiDecoder struct {
	version byte
	r       bytes.Reader
}

func (m *mochiDecoder) decode(b []byte, pk *mochi.Packet) error {
	*pk = mochi.Packet{ProtocolVersion: m.version}
	if err := pk.FixedHeader.Decode(b[0]); err != nil {
		return err
	}
	m.r.Reset(b[1:])
	n, bu, err := mochi.DecodeLength(&m.r)
	if err != nil {
		return err
	}
	pk.FixedHeader.Remaining = n
	body := b[1+bu : 1+bu+n]
	code := mochi.CodeSuccess
	switch pk.FixedHeader.Type {
	case mochi.Connect:
		if err := pk.ConnectDecode(body); err != nil {
			return err
		}
		code = pk.ConnectValidate()
	case mochi.Publish:
		if err := pk.PublishDecode(body); err != nil {
			return err
		}
		code = pk.PublishValidate(math.MaxUint16)
	case mochi.Subscribe:
		if err := pk.SubscribeDecode(body); err != nil {
			return err
		}
		code = pk.SubscribeValidate()
	}
	if code.Code >= 0x80 {
		return code
	}
	return nil
}

// mochiEncode writes a PUBLISH or SUBSCRIBE with its encoder.
func mochiEncode(pk *mochi.Packet, buf *bytes.Buffer) error {
	if pk.FixedHeader.Type == mochi.Subscribe {
		return pk.SubscribeEncode(buf)
	}
	return pk.PublishEncode(buf)
}
