package fuzz

import (
	"bytes"
	"math/rand/v2"
	"slices"

	"mqttspec/codec"
)

// Bounds on what mutation builds, so one session stays cheap to send.
const (
	maxSessionPackets = 64
	maxPacketBytes    = 300 << 10
)

// mutator turns a seed into the n-th session of a run. Everything it picks
// comes from one PCG stream keyed by (seed, n), so the n-th session of two
// runs with the same seed and seeds is the same, whatever ran in parallel.
type mutator struct {
	seeds []Session
	seed  uint64
	rng   *rand.Rand
	v     codec.Version // protocol level of the session being mutated
	dec   codec.Decoder
}

func newMutator(seeds []Session, seed int64) *mutator {
	return &mutator{seeds: seeds, seed: uint64(seed), rng: rand.New(rand.NewPCG(0, 0))}
}

// session builds session number n: a seed with 1 to 8 stacked mutations.
func (m *mutator) session(n uint64) Session {
	m.rng = rand.New(rand.NewPCG(m.seed, n))
	s := m.seeds[m.rng.IntN(len(m.seeds))].Clone()
	k := 1
	for k < 8 && m.rng.IntN(2) == 0 {
		k++
	}
	for range k {
		s = m.mutate(s)
		s = slices.DeleteFunc(s, func(p []byte) bool { return len(p) == 0 })
	}
	if len(s) == 0 {
		s = Session{append([]byte(nil), probe...)}
	}
	return s
}

// mutate applies one mutation, chosen by weight among the session-level,
// structure-aware, property, fixed-header and byte-level ones.
func (m *mutator) mutate(s Session) Session {
	m.v = connectLevel(s.Stream())
	if len(s) == 0 {
		return m.sessionOp(s)
	}
	switch w := m.rng.IntN(100); {
	case w < 20:
		return m.sessionOp(s)
	case w < 55:
		i := m.rng.IntN(len(s))
		s[i] = m.structural(s[i])
	case w < 67:
		i := m.rng.IntN(len(s))
		s[i] = m.properties(s[i])
	case w < 80:
		i := m.rng.IntN(len(s))
		s[i] = m.header(s[i])
	default:
		i := m.rng.IntN(len(s))
		s[i] = m.bytes(s[i])
	}
	return s
}

// sessionOp drops, duplicates, reorders or inserts packets.
func (m *mutator) sessionOp(s Session) Session {
	r := m.rng
	switch op := r.IntN(8); {
	case op == 0 && len(s) > 1: // drop
		i := r.IntN(len(s))
		return append(s[:i], s[i+1:]...)
	case op == 1 && len(s) > 0 && len(s) < maxSessionPackets: // duplicate
		i := r.IntN(len(s))
		return insert(s, i+1, append([]byte(nil), s[i]...))
	case op == 2 && len(s) > 1: // swap
		i, j := r.IntN(len(s)), r.IntN(len(s))
		s[i], s[j] = s[j], s[i]
		return s
	case op == 3 && len(s) > 1: // move
		i := r.IntN(len(s))
		p := s[i]
		s = append(s[:i], s[i+1:]...)
		return insert(s, r.IntN(len(s)+1), p)
	case op == 4 && len(s) > 0 && s[0][0]>>4 == byte(codec.CONNECT) && len(s) < maxSessionPackets: // second CONNECT
		return insert(s, 1+r.IntN(len(s)), append([]byte(nil), s[0]...))
	case op == 5 && len(s) > 1: // truncate
		return s[:1+r.IntN(len(s)-1)]
	case op == 6 && len(m.seeds) > 0: // splice from another seed
		o := m.seeds[r.IntN(len(m.seeds))]
		a := r.IntN(len(o))
		b := a + 1 + r.IntN(min(4, len(o)-a))
		at := r.IntN(len(s) + 1)
		for k := b - 1; k >= a && len(s) < maxSessionPackets; k-- {
			s = insert(s, at, append([]byte(nil), o[k]...))
		}
		return s
	}
	if len(s) >= maxSessionPackets {
		return s
	}
	return insert(s, r.IntN(len(s)+1), m.generated())
}

func insert(s Session, i int, p []byte) Session {
	s = append(s, nil)
	copy(s[i+1:], s[i:])
	s[i] = p
	return s
}

// generated is a fresh packet of a random type, valid for the session's
// version, for the other mutations to work on.
func (m *mutator) generated() []byte {
	id := m.packetID(1)
	var p codec.Packet
	switch m.rng.IntN(11) {
	case 0:
		p = &codec.Ping{Kind: codec.PINGREQ}
	case 1:
		p = &codec.Ack{Kind: codec.PUBREL, PacketID: id}
	case 2:
		p = &codec.Ack{Kind: codec.PUBACK, PacketID: id}
	case 3:
		p = &codec.Ack{Kind: codec.PUBREC, PacketID: id}
	case 4:
		p = &codec.Ack{Kind: codec.PUBCOMP, PacketID: id}
	case 5:
		p = &codec.Subscribe{PacketID: id, Subscriptions: []codec.Subscription{{Filter: []byte("x/#"), QoS: byte(m.rng.IntN(3))}}}
	case 6:
		p = &codec.Unsubscribe{PacketID: id, Filters: [][]byte{[]byte("x/#")}}
	case 7:
		p = &codec.Publish{QoS: byte(m.rng.IntN(3)), PacketID: id, Topic: []byte("x/y"), Payload: []byte("p")}
	case 8:
		p = &codec.Disconnect{}
	case 9:
		p = &codec.Auth{ReasonCode: codec.ReasonCode(0x18)}
	default:
		p = &codec.Connect{ProtocolName: []byte("MQTT"), ProtocolLevel: m.v, CleanStart: true, ClientID: []byte("g"), KeepAlive: 30}
	}
	return p.Append(nil, m.v)
}

// packetID picks a packet identifier: 0, small ones that collide with the
// seeds' own, the largest, or any.
func (m *mutator) packetID(old uint16) uint16 {
	switch m.rng.IntN(6) {
	case 0:
		return 0
	case 1:
		return 65535
	case 2:
		return old
	case 3:
		return uint16(m.rng.IntN(65536))
	}
	return uint16(1 + m.rng.IntN(4))
}

// structural decodes the packet leniently, changes one field and encodes it
// again: field values may become invalid on purpose. A packet that does not
// decode gets a byte-level mutation instead.
func (m *mutator) structural(raw []byte) []byte {
	m.dec = codec.Decoder{Lenient: true, Version: m.v}
	p, n, err := m.dec.Decode(raw)
	if err != nil || n != len(raw) {
		return m.bytes(raw)
	}
	switch p := p.(type) {
	case *codec.Connect:
		m.connect(p)
	case *codec.Publish:
		m.publish(p)
	case *codec.Ack:
		m.ack(p)
	case *codec.Subscribe:
		m.subscribe(p)
	case *codec.Unsubscribe:
		m.unsubscribe(p)
	case *codec.Disconnect:
		p.ReasonCode = m.reason()
	case *codec.Auth:
		p.ReasonCode = m.reason()
		if m.rng.IntN(2) == 0 {
			p.Props.AuthMethod = m.text(p.Props.AuthMethod)
			p.Props.Set(codec.PropAuthMethod)
		}
	default:
		return m.header(raw)
	}
	out := p.Append(nil, m.v)
	if len(out) > maxPacketBytes {
		return raw
	}
	return out
}

func (m *mutator) connect(c *codec.Connect) {
	r := m.rng
	switch r.IntN(14) {
	case 0:
		c.ProtocolName = []byte(pick(r, "MQTT", "MQIsdp", "mqtt", "MQTT\x00", "", "MQTTT", "MQT"))
	case 1:
		c.ProtocolLevel = codec.Version(pick(r, 0, 1, 2, 3, 4, 5, 6, 7, 0x83, 0x84, 0x85, 0xff))
	case 2:
		c.Reserved = !c.Reserved
	case 3:
		c.CleanStart = !c.CleanStart
	case 4:
		c.WillFlag = !c.WillFlag
	case 5:
		c.WillQoS = byte(r.IntN(4))
	case 6:
		c.WillRetain = !c.WillRetain
	case 7:
		if r.IntN(2) == 0 {
			c.UsernameFlag = !c.UsernameFlag
		} else {
			c.PasswordFlag = !c.PasswordFlag
		}
	case 8:
		c.KeepAlive = uint16(pick(r, 0, 1, 2, 65535, r.IntN(65536)))
	case 9:
		c.ClientID = m.clientID(c.ClientID)
	case 10:
		c.WillTopic = m.topic(c.WillTopic)
	case 11:
		if r.IntN(2) == 0 {
			c.Username = m.text(c.Username)
		} else {
			c.Password = m.binary(c.Password)
		}
	case 12:
		m.props(&c.Props)
	default:
		m.props(&c.WillProps)
	}
}

func (m *mutator) publish(p *codec.Publish) {
	switch m.rng.IntN(7) {
	case 0:
		p.QoS = byte(m.rng.IntN(4))
		if p.QoS > 0 && p.PacketID == 0 {
			p.PacketID = 1
		}
	case 1:
		p.Dup = !p.Dup
	case 2:
		p.Retain = !p.Retain
	case 3:
		p.Topic = m.topic(p.Topic)
	case 4:
		p.PacketID = m.packetID(p.PacketID)
	case 5:
		p.Payload = m.binary(p.Payload)
	default:
		m.props(&p.Props)
	}
}

func (m *mutator) ack(a *codec.Ack) {
	switch m.rng.IntN(3) {
	case 0:
		a.PacketID = m.packetID(a.PacketID)
	case 1:
		a.ReasonCode = m.reason()
	default:
		m.props(&a.Props)
	}
}

func (m *mutator) subscribe(s *codec.Subscribe) {
	r := m.rng
	if len(s.Subscriptions) == 0 {
		s.Subscriptions = append(s.Subscriptions, codec.Subscription{Filter: []byte("x/#")})
	}
	sub := &s.Subscriptions[r.IntN(len(s.Subscriptions))]
	switch r.IntN(9) {
	case 0:
		s.PacketID = m.packetID(s.PacketID)
	case 1:
		s.Subscriptions = s.Subscriptions[:0]
	case 2:
		s.Subscriptions = append(s.Subscriptions, *sub)
	case 3, 4:
		sub.Filter = m.filter(sub.Filter)
	case 5:
		sub.QoS = byte(r.IntN(4))
	case 6:
		switch r.IntN(3) {
		case 0:
			sub.NoLocal = !sub.NoLocal
		case 1:
			sub.RetainAsPublished = !sub.RetainAsPublished
		default:
			sub.RetainHandling = byte(r.IntN(4))
		}
	case 7:
		sub.Reserved = byte(pick(r, 0x40, 0x80, 0xC0, 0x04, 0x10, 0xFC))
	default:
		m.props(&s.Props)
	}
}

func (m *mutator) unsubscribe(u *codec.Unsubscribe) {
	switch m.rng.IntN(5) {
	case 0:
		u.PacketID = m.packetID(u.PacketID)
	case 1:
		u.Filters = u.Filters[:0]
	case 2:
		if len(u.Filters) > 0 {
			u.Filters = append(u.Filters, u.Filters[0])
		}
	case 3:
		if len(u.Filters) > 0 {
			i := m.rng.IntN(len(u.Filters))
			u.Filters[i] = m.filter(u.Filters[i])
		}
	default:
		m.props(&u.Props)
	}
}

// reason picks a reason code: success, common failures, codes only a server
// may send, and undefined ones.
func (m *mutator) reason() codec.ReasonCode {
	return codec.ReasonCode(pick(m.rng, 0x00, 0x04, 0x10, 0x18, 0x19, 0x80, 0x81, 0x82, 0x83, 0x87, 0x8E, 0x92, 0x93, 0x97, 0x9C, 0xA2, 0x05, 0x7F, 0xFF))
}

// props sets one property with a semantic edge case: values the spec
// forbids (0, over a maximum), properties a client must not send, or ones
// not allowed on this packet type at all.
func (m *mutator) props(p *codec.Properties) {
	r := m.rng
	switch r.IntN(12) {
	case 0:
		p.TopicAlias = uint16(pick(r, 0, 1, 2, 100, 101, 65535))
		p.Set(codec.PropTopicAlias)
	case 1:
		p.SubscriptionIDs = append(p.SubscriptionIDs, pick(r, 0, 1, 42, 268435455))
	case 2:
		p.PayloadFormat = byte(pick(r, 0, 1, 2, 0xff))
		p.Set(codec.PropPayloadFormat)
	case 3:
		p.SessionExpiry = uint32(pick(r, 0, 1, 0xFFFFFFFF))
		p.Set(codec.PropSessionExpiry)
	case 4:
		p.ReceiveMaximum = uint16(pick(r, 0, 1, 65535))
		p.Set(codec.PropReceiveMaximum)
	case 5:
		p.MaximumPacketSize = uint32(pick(r, 0, 1, 16, 0xFFFFFFFF))
		p.Set(codec.PropMaximumPacketSize)
	case 6:
		p.ResponseTopic = m.topic(p.ResponseTopic)
		p.Set(codec.PropResponseTopic)
	case 7:
		p.AuthMethod = m.text(p.AuthMethod)
		p.Set(codec.PropAuthMethod)
	case 8:
		p.User = append(p.User, codec.UserProperty{Key: m.text([]byte("k")), Value: m.text([]byte("v"))})
	case 9:
		p.RequestProblemInfo = byte(pick(r, 0, 1, 2))
		p.Set(codec.PropRequestProblemInfo)
	case 10:
		p.AssignedClientID = []byte("server-only")
		p.Set(codec.PropAssignedClientID)
	default:
		p.ContentType = m.text(p.ContentType)
		p.Set(codec.PropContentType)
	}
}

// text mutates a UTF-8 string: ill-formed UTF-8, U+0000, U+FEFF, encoded
// surrogates, control and non-characters, empty or as long as allowed.
func (m *mutator) text(s []byte) []byte {
	r := m.rng
	bad := [][]byte{
		{0xC0, 0x80},             // over-long U+0000
		{0xFF},                   // never valid
		{0x80},                   // lone continuation byte
		{0xE2, 0x82},             // truncated sequence
		{0xF4, 0x90, 0x80, 0x80}, // above U+10FFFF
		{0x00},                   // U+0000
		{0xEF, 0xBB, 0xBF},       // U+FEFF, valid and never to be stripped
		{0xED, 0xA0, 0x80},       // U+D800, a surrogate
		{0x01},                   // U+0001, a control character
		{0x7F},                   // U+007F
		{0xC2, 0x85},             // U+0085, a C1 control
		{0xEF, 0xBF, 0xBF},       // U+FFFF, a non-character
	}
	switch k := r.IntN(len(bad) + 3); {
	case k < len(bad):
		at := 0
		if len(s) > 0 {
			at = r.IntN(len(s) + 1)
		}
		out := append(append(append([]byte(nil), s[:at]...), bad[k]...), s[at:]...)
		return out
	case k == len(bad):
		return []byte{}
	case k == len(bad)+1:
		return bytes.Repeat([]byte("a"), 65535)
	}
	return bytes.Repeat([]byte("b"), 1+r.IntN(300))
}

// binary mutates binary data (a payload or a password).
func (m *mutator) binary(b []byte) []byte {
	switch m.rng.IntN(4) {
	case 0:
		return nil
	case 1:
		return bytes.Repeat([]byte{0xA5}, 1<<16+m.rng.IntN(1024))
	case 2:
		return m.text(b)
	}
	return append(append([]byte(nil), b...), b...)
}

// clientID mutates a client identifier: empty (server-assigned), longer
// than the 23 bytes every server must accept, or not UTF-8.
func (m *mutator) clientID(id []byte) []byte {
	switch m.rng.IntN(4) {
	case 0:
		return []byte{}
	case 1:
		return bytes.Repeat([]byte("c"), 24+m.rng.IntN(100))
	case 2:
		return []byte(pick(m.rng, "a+b", "#", "a/b", "$SYS", " "))
	}
	return m.text(id)
}

// topic mutates a topic name: wildcards anywhere, $-topics, shared
// subscription syntax, empty levels, or a bad string.
func (m *mutator) topic(t []byte) []byte {
	r := m.rng
	switch r.IntN(6) {
	case 0:
		return insertAt(r, t, pick(r, "+", "#", "/+", "/#", "+/", "#/"))
	case 1:
		return []byte(pick(r, "#", "+", "", "/", "//", "a/+/b", "a/#", "$SYS/x", "$share/g/x", "$", "a\x00b"))
	case 2:
		return append([]byte(pick(r, "$SYS/", "$share/g/", "/", "$")), t...)
	case 3:
		return append(append([]byte(nil), t...), pick(r, "/", "//", "/+", "/#")...)
	}
	return m.text(t)
}

// filter mutates a topic filter: wildcards in the wrong place, shared
// subscription names that are empty or hold wildcards, $SYS.
func (m *mutator) filter(f []byte) []byte {
	r := m.rng
	switch r.IntN(5) {
	case 0:
		return []byte(pick(r, "a/#/b", "a#", "#a", "+a/b", "a/b+", "#/", "##", "++", "", "$share//a", "$share/g+/a",
			"$share/g#/a", "$share/g", "$share/g/", "$share/", "$SYS/#", "+/+/#", "#", "+", "$share/g/#", "$share/g/+/x"))
	case 1:
		return insertAt(r, f, pick(r, "+", "#", "a#", "+a", "/#/"))
	case 2:
		return append([]byte(pick(r, "$share/g/", "$share//", "$share/+/", "$SYS/")), f...)
	}
	return m.text(f)
}

func insertAt(r *rand.Rand, s []byte, ins string) []byte {
	at := 0
	if len(s) > 0 {
		at = r.IntN(len(s) + 1)
	}
	return append(append(append([]byte(nil), s[:at]...), ins...), s[at:]...)
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }
