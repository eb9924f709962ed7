package codec

import "strconv"

// Role says who sent the bytes being decoded, for the rules that bind only
// one side (a client PUBLISH must not carry a Subscription Identifier; only a
// server sends CONNACK). RoleUnknown skips those checks.
type Role byte

const (
	RoleUnknown Role = iota
	FromClient
	FromServer
)

// Decoder decodes packets of one connection into values it owns and reuses,
// in the manner of gopacket's DecodingLayer: the packet returned by Decode is
// valid until the next call to Decode and aliases the input buffer.
type Decoder struct {
	// Version is the connection's protocol level. A CONNECT sets it; until
	// then packets are read as 3.1.1 (5.0 once Version is V5).
	Version Version
	// From is who sent the packets; it enables the one-sided rules.
	From Role
	// Lenient records spec violations in Violations instead of failing, so
	// tools can show what a peer really sent. Structural damage still fails.
	Lenient bool
	// MaxPacketSize, when non-zero, rejects larger packets (fixed header
	// included) before their body is looked at.
	MaxPacketSize int
	// Violations lists what the last packet broke, in lenient mode.
	Violations []*Error

	Connect     Connect
	Connack     Connack
	Publish     Publish
	Ack         Ack
	Subscribe   Subscribe
	Suback      Suback
	Unsubscribe Unsubscribe
	Ping        Ping
	Disconnect  Disconnect
	Auth        Auth
}

// violate reports a rule broken by an otherwise readable packet: an error in
// strict mode, a note in lenient mode.
func (d *Decoder) violate(e *Error) error {
	if d.Lenient {
		d.Violations = append(d.Violations, e)
		return nil
	}
	return e
}

func (d *Decoder) version() Version {
	if d.Version == 0 {
		return V311
	}
	return d.Version
}

// Decode reads one packet from the start of b. It returns the packet, the
// bytes it used, and ErrShortBuffer when b holds only part of it.
func (d *Decoder) Decode(b []byte) (Packet, int, error) {
	v := d.version()
	fh, err := ParseFixedHeader(b, v)
	if err != nil {
		return nil, 0, err
	}
	total := fh.Size + fh.Remaining
	if d.MaxPacketSize > 0 && total > d.MaxPacketSize {
		return nil, 0, tooLarge(fh.Type, total, d.MaxPacketSize, v)
	}
	if len(b) < total {
		return nil, 0, ErrShortBuffer
	}
	p, err := d.DecodeBody(fh, b[:total])
	return p, total, err
}

// tooLarge reports a packet over the receiver's Maximum Packet Size (a
// local limit in 3.1.1, where the Remaining Length is all there is).
func tooLarge(t Type, total, max int, v Version) *Error {
	return &Error{Reason: PacketTooLarge, Type: t, Field: "remaining length", Offset: 1,
		Msg: "packet of " + strconv.Itoa(total) + " bytes exceeds the maximum packet size " + strconv.Itoa(max) +
			section(v, "2.2.3", "3.1.2.11.4")}
}

// DecodeBody decodes a packet whose fixed header has been read; pkt is the
// whole packet, fixed header included.
func (d *Decoder) DecodeBody(fh FixedHeader, pkt []byte) (Packet, error) {
	d.Violations = d.Violations[:0]
	v := d.version()
	// A last length byte of 0 after a continuation adds nothing.
	if v == V5 && fh.Size > 2 && pkt[fh.Size-1] == 0 {
		if err := d.violate(malformed(fh.Type, "remaining length", 1, rule(v, "", "MQTT-1.5.5-1"),
			"Variable Byte Integer not encoded in the minimum number of bytes")); err != nil {
			return nil, err
		}
	}
	if fh.Type == CONNECT {
		v = 0 // the packet names its own version
	}
	// Set field by field: a composite literal here is built in a temporary
	// and copied with wide loads that stall on the narrow stores before them.
	var c cursor
	c.b, c.i, c.end, c.t, c.v, c.d = pkt, fh.Size, len(pkt), fh.Type, v, d
	if !flagsOK(fh) {
		if err := c.checkFlags(fh); err != nil {
			return nil, err
		}
	}
	var p Packet
	var err error
	switch fh.Type {
	case CONNECT:
		p, err = &d.Connect, c.connect(&d.Connect)
		if err == nil || d.Connect.ProtocolLevel != 0 {
			d.Version = d.Connect.ProtocolLevel
		}
	case CONNACK:
		p, err = &d.Connack, c.connack(&d.Connack)
	case PUBLISH:
		p, err = &d.Publish, c.publish(&d.Publish, fh.Flags)
	case PUBACK, PUBREC, PUBREL, PUBCOMP:
		d.Ack.Kind = fh.Type
		p, err = &d.Ack, c.ack(&d.Ack)
	case SUBSCRIBE:
		p, err = &d.Subscribe, c.subscribe(&d.Subscribe)
	case SUBACK, UNSUBACK:
		d.Suback.Kind = fh.Type
		p, err = &d.Suback, c.suback(&d.Suback)
	case UNSUBSCRIBE:
		p, err = &d.Unsubscribe, c.unsubscribe(&d.Unsubscribe)
	case PINGREQ, PINGRESP:
		d.Ping.Kind = fh.Type
		p, err = &d.Ping, c.empty()
	case DISCONNECT:
		p, err = &d.Disconnect, c.reasonAndProps(&d.Disconnect.ReasonCode, &d.Disconnect.Props)
	case AUTH:
		if v != V5 {
			return nil, malformed(AUTH, "packet type", 0, "", "AUTH (type 15) is reserved before MQTT 5.0 (section 2.2.1)")
		}
		p, err = &d.Auth, c.reasonAndProps(&d.Auth.ReasonCode, &d.Auth.Props)
	default:
		return nil, malformed(fh.Type, "packet type", 0, "", "reserved packet type 0"+section(v, "2.2.1", "2.1.2"))
	}
	if err != nil {
		return nil, err
	}
	if c.i != len(pkt) {
		return nil, malformed(fh.Type, "remaining length", c.i, "", "remaining length exceeds the packet's content by "+strconv.Itoa(len(pkt)-c.i)+" bytes"+section(v, "2.2.3", "2.1.4"))
	}
	if d.mayBreakDirection(c.t) {
		if err := d.directionRules(p, &c); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// checkFlags enforces the reserved fixed-header flags and the PUBLISH
// flag combinations that are always malformed.
func (c *cursor) checkFlags(fh FixedHeader) error {
	if fh.Type == PUBLISH {
		qos := fh.Flags >> 1 & 3
		if qos == 3 {
			return c.d.violate(malformed(PUBLISH, "qos", 0, "MQTT-3.3.1-4", "both QoS bits set (QoS 3)"))
		}
		if qos == 0 && fh.Flags&0x08 != 0 {
			return c.d.violate(malformed(PUBLISH, "dup", 0, "MQTT-3.3.1-2", "DUP set on a QoS 0 message"))
		}
		return nil
	}
	if want := requiredFlags(fh.Type); fh.Flags != want && fh.Type != 0 {
		return c.d.violate(malformed(fh.Type, "flags", 0, flagsRule(fh.Type, c.v),
			"reserved flags 0x"+hex2(fh.Flags)+", must be 0x"+hex2(want)))
	}
	return nil
}

// flagsRule names the statement on a packet type's reserved flags: some
// types repeat the general rule in their own section.
func flagsRule(t Type, v Version) string {
	switch t {
	case PUBREL:
		return "MQTT-3.6.1-1"
	case SUBSCRIBE:
		return "MQTT-3.8.1-1"
	case UNSUBSCRIBE:
		return "MQTT-3.10.1-1"
	case DISCONNECT:
		return "MQTT-3.14.1-1"
	case AUTH: // a reserved type before 5.0
		return rule(v, "MQTT-2.2.2-1", "MQTT-3.15.1-1")
	}
	return rule(v, "MQTT-2.2.2-1", "MQTT-2.1.3-1")
}

// directionRules checks what depends on who sent the packet.
func (d *Decoder) directionRules(p Packet, c *cursor) error {
	switch d.From {
	case FromClient:
		switch c.t { // the packet's type, without an interface call
		case CONNACK, SUBACK, UNSUBACK, PINGRESP:
			return d.violate(protocolErr(p.Type(), "packet type", 0, "", "a client never sends "+p.Type().String()+
				section(c.v, "2.2.1", "2.1.2")))
		case PUBLISH:
			if len(d.Publish.Props.SubscriptionIDs) > 0 {
				return d.violate(protocolErr(PUBLISH, "subscription-id", 0, rule(c.v, "", "MQTT-3.3.4-6"),
					"a PUBLISH from a client carries a Subscription Identifier"))
			}
		}
	case FromServer:
		switch c.t { // the packet's type, without an interface call
		case CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ:
			return d.violate(protocolErr(p.Type(), "packet type", 0, "", "a server never sends "+p.Type().String()+
				section(c.v, "2.2.1", "2.1.2")))
		}
	}
	return nil
}

func (c *cursor) empty() error {
	if c.left() != 0 {
		// Chapter 3 has one section per type, in type order; x.1 is the fixed header.
		n := strconv.Itoa(int(c.t))
		return malformed(c.t, "remaining length", 1, "", c.t.String()+" must have a remaining length of 0 (section 3."+n+".1)")
	}
	return nil
}

func (c *cursor) packetID(required bool) (uint16, error) {
	at := c.i
	id, err := c.u16("packet id")
	if err == nil && id == 0 && required {
		r := c.packetIDRule()
		msg := "packet identifier 0"
		if r == "" {
			msg += section(c.v, "2.3.1", "2.2.1")
		}
		err = c.d.violate(protocolErr(c.t, "packet id", at, r, msg))
	}
	return id, err
}

// packetIDRule names the statement a zero packet identifier breaks: senders
// must pick non-zero identifiers, and an acknowledgement must echo one.
func (c *cursor) packetIDRule() string {
	switch c.t {
	case PUBLISH, SUBSCRIBE, UNSUBSCRIBE:
		if c.t == PUBLISH && c.d.From == FromServer {
			return rule(c.v, "MQTT-2.3.1-1", "MQTT-2.2.1-4")
		}
		return rule(c.v, "MQTT-2.3.1-1", "MQTT-2.2.1-3")
	case PUBACK, PUBREC, PUBREL:
		return rule(c.v, "MQTT-2.3.1-6", "MQTT-2.2.1-5")
	case PUBCOMP: // 3.1.1 leaves PUBCOMP out of the statement
		return rule(c.v, "", "MQTT-2.2.1-5")
	}
	return rule(c.v, "MQTT-2.3.1-7", "MQTT-2.2.1-6")
}

func (c *cursor) connect(p *Connect) error {
	// Field by field, as in publish: a whole-struct assignment would copy
	// both property sets.
	p.ProtocolName, p.ProtocolLevel, p.KeepAlive = nil, 0, 0
	p.Reserved, p.CleanStart, p.WillFlag, p.WillQoS, p.WillRetain = false, false, false, 0, false
	p.PasswordFlag, p.UsernameFlag = false, false
	p.ClientID, p.WillTopic, p.WillPayload, p.Username, p.Password = nil, nil, nil, nil, nil
	p.Props.reset()
	p.WillProps.reset()
	var err error
	nameAt := c.i
	if p.ProtocolName, err = c.str("protocol name"); err != nil {
		return err
	}
	lvl, err := c.u8("protocol level")
	if err != nil {
		return err
	}
	p.ProtocolLevel = Version(lvl)
	c.v = p.ProtocolLevel
	switch {
	case p.ProtocolLevel == V31 && string(p.ProtocolName) == "MQIsdp",
		(p.ProtocolLevel == V311 || p.ProtocolLevel == V5) && string(p.ProtocolName) == "MQTT":
	case string(p.ProtocolName) != "MQTT" && string(p.ProtocolName) != "MQIsdp":
		return &Error{Rule: "MQTT-3.1.2-1", Reason: UnsupportedProtocolVersion,
			Type: CONNECT, Field: "protocol name", Offset: nameAt, Msg: "unknown protocol name " + quote(p.ProtocolName)}
	default:
		c.v = V311
		return &Error{Rule: "MQTT-3.1.2-2", Reason: UnsupportedProtocolVersion,
			Type: CONNECT, Field: "protocol level", Offset: c.i - 1,
			Msg: "protocol level " + strconv.Itoa(int(lvl)) + " with name " + quote(p.ProtocolName) + " is not supported"}
	}
	flagsAt := c.i
	flags, err := c.u8("connect flags")
	if err != nil {
		return err
	}
	p.Reserved = flags&0x01 != 0
	p.CleanStart = flags&0x02 != 0
	p.WillFlag = flags&0x04 != 0
	p.WillQoS = flags >> 3 & 3
	p.WillRetain = flags&0x20 != 0
	p.PasswordFlag = flags&0x40 != 0
	p.UsernameFlag = flags&0x80 != 0
	if p.Reserved {
		if err := c.d.violate(malformed(CONNECT, "connect flags", flagsAt, "MQTT-3.1.2-3", "reserved flag bit 0 is set")); err != nil {
			return err
		}
	}
	if err := c.checkWillFlags(p, flagsAt); err != nil {
		return err
	}
	if p.KeepAlive, err = c.u16("keep alive"); err != nil {
		return err
	}
	if c.v == V5 {
		propsAt := c.i
		if err := c.readProperties(&p.Props, CONNECT); err != nil {
			return err
		}
		if p.Props.Has(PropAuthData) && !p.Props.Has(PropAuthMethod) {
			if err := c.d.violate(protocolErr(CONNECT, "auth-data", propsAt, "",
				"Authentication Data without an Authentication Method (section 3.1.2.11.10)")); err != nil {
				return err
			}
		}
	}
	if p.ClientID, err = c.str("client id"); err != nil {
		return err
	}
	if p.WillFlag {
		if c.v == V5 {
			if err := c.readProperties(&p.WillProps, willProps); err != nil {
				return err
			}
		}
		topicAt := c.i
		var plain bool // as in publish: one pass settles a plain topic
		if p.WillTopic, plain = c.plainTopicName(); !plain {
			if p.WillTopic, err = c.str("will topic"); err != nil {
				return err
			}
		}
		var e *Error
		if !plain {
			e = checkTopicName(p.WillTopic, c.v)
		}
		if e != nil {
			if e.Reason == TopicNameInvalid { // the wildcard rule of PUBLISH is 3.3.2-2; for any topic name it is in 4.7
				e.Rule = rule(c.v, "MQTT-4.7.1-1", "MQTT-4.7.0-1")
			}
			e.Type, e.Field, e.Offset = CONNECT, "will topic", topicAt+2+e.Offset
			if err := c.d.violate(e); err != nil {
				return err
			}
		}
		if p.WillPayload, err = c.binary("will payload"); err != nil {
			return err
		}
	}
	if p.UsernameFlag {
		if p.Username, err = c.str("user name"); err != nil {
			return err
		}
	}
	if p.PasswordFlag {
		if p.Password, err = c.binary("password"); err != nil {
			return err
		}
	}
	return nil
}

func (c *cursor) checkWillFlags(p *Connect, at int) error {
	var e *Error
	switch {
	case !p.WillFlag && p.WillQoS != 0:
		e = malformed(CONNECT, "will qos", at, rule(c.v, "MQTT-3.1.2-13", "MQTT-3.1.2-11"), "will QoS set without the will flag")
	case p.WillQoS == 3:
		e = malformed(CONNECT, "will qos", at, rule(c.v, "MQTT-3.1.2-14", "MQTT-3.1.2-12"), "will QoS 3")
	case !p.WillFlag && p.WillRetain:
		e = malformed(CONNECT, "will retain", at, rule(c.v, "MQTT-3.1.2-15", "MQTT-3.1.2-13"), "will retain set without the will flag")
	case c.v != V5 && p.PasswordFlag && !p.UsernameFlag:
		e = malformed(CONNECT, "password flag", at, rule(c.v, "MQTT-3.1.2-22", ""), "password flag set without the user name flag")
	}
	if e == nil {
		return nil
	}
	return c.d.violate(e)
}

func (c *cursor) connack(p *Connack) error {
	p.Props.reset()
	flags, err := c.u8("acknowledge flags")
	if err != nil {
		return err
	}
	p.SessionPresent = flags&1 != 0
	p.AckFlags = flags &^ 1
	if p.AckFlags != 0 {
		msg := "reserved acknowledge flags are set"
		if c.v != V5 {
			msg += " (section 3.2.2.1)"
		}
		if err := c.d.violate(malformed(CONNACK, "acknowledge flags", c.i-1, rule(c.v, "", "MQTT-3.2.2-1"), msg)); err != nil {
			return err
		}
	}
	rc, err := c.u8("reason code")
	if err != nil {
		return err
	}
	p.ReasonCode = ReasonCode(rc)
	if err := c.checkReason(p.ReasonCode, c.i-1); err != nil {
		return err
	}
	if c.v == V5 {
		return c.readProperties(&p.Props, CONNACK)
	}
	return nil
}

func (c *cursor) publish(p *Publish, flags byte) error {
	// Field by field: assigning a whole Publish would copy Props twice,
	// which costs more than the rest of the decode.
	p.Dup, p.QoS, p.Retain = flags&0x08 != 0, flags>>1&3, flags&1 != 0
	p.Topic, p.PacketID, p.Payload = nil, 0, nil
	p.Props.reset()
	topicAt := c.i
	var err error
	var plain bool
	if p.Topic, plain = c.plainTopicName(); !plain {
		if p.Topic, err = c.str("topic"); err != nil {
			return err
		}
	}
	if p.QoS > 0 {
		// A non-zero identifier, read inline: every PUBLISH but QoS 0 has one.
		if i := c.i; c.end-i >= 2 && c.b[i]|c.b[i+1] != 0 {
			p.PacketID, c.i = uint16(c.b[i])<<8|uint16(c.b[i+1]), i+2
		} else if p.PacketID, err = c.packetID(true); err != nil {
			return err
		}
	}
	if c.v == V5 {
		// A one-byte property length that fits is read here, a call
		// shorter than readProperties, which reads (and faults) any other.
		if i := c.i; i < c.end && c.b[i] < 0x80 && int(c.b[i]) < c.end-i {
			outer := c.end
			c.i, c.end = i+1, i+1+int(c.b[i])
			err = c.publishProperties(&p.Props)
			c.end = outer
		} else {
			err = c.readProperties(&p.Props, PUBLISH)
		}
		if err != nil {
			return err
		}
	}
	// 5.0 allows an empty topic when a Topic Alias stands for it.
	if !plain && (len(p.Topic) > 0 || !p.Props.Has(PropTopicAlias)) {
		if e := checkTopicName(p.Topic, c.v); e != nil {
			e.Type, e.Field, e.Offset = PUBLISH, "topic", topicAt+2+e.Offset
			if err := c.d.violate(e); err != nil {
				return err
			}
		}
	}
	p.Payload = c.b[c.i:c.end]
	c.i = c.end
	// A receiver may check this but need not; report it only in lenient
	// mode so strict decoding stays on MUST rules and allocates nothing.
	if c.d.Lenient && c.v == V5 && p.Props.PayloadFormat == 1 && p.Props.Has(PropPayloadFormat) {
		if e := checkUTF8(p.Payload, V5); e != nil {
			e.Type, e.Field, e.Offset, e.Rule = PUBLISH, "payload", c.i-len(p.Payload)+e.Offset, ""
			e.Reason, e.Msg = PayloadFormatInvalid, "payload format indicator says UTF-8 but "+e.Msg+" (section 3.3.2.3.2)"
			c.d.Violations = append(c.d.Violations, e)
		}
	}
	return nil
}

func (c *cursor) ack(p *Ack) error {
	p.Props.reset()
	p.ReasonCode = 0
	var err error
	if p.PacketID, err = c.packetID(true); err != nil {
		return err
	}
	if c.v != V5 {
		return nil
	}
	if c.left() == 0 {
		return nil
	}
	rc, err := c.u8("reason code")
	if err != nil {
		return err
	}
	p.ReasonCode = ReasonCode(rc)
	if err := c.checkReason(p.ReasonCode, c.i-1); err != nil {
		return err
	}
	if c.left() == 0 {
		return nil
	}
	return c.readProperties(&p.Props, p.Kind)
}

func (c *cursor) subscribe(p *Subscribe) error {
	p.Props.reset()
	p.Subscriptions = p.Subscriptions[:0]
	var err error
	if p.PacketID, err = c.packetID(true); err != nil {
		return err
	}
	if c.v == V5 {
		if err := c.readProperties(&p.Props, SUBSCRIBE); err != nil {
			return err
		}
	}
	if c.left() == 0 {
		return c.d.violate(protocolErr(SUBSCRIBE, "payload", c.i, rule(c.v, "MQTT-3.8.3-3", "MQTT-3.8.3-2"), "no topic filter"))
	}
	for c.left() > 0 {
		at := c.i
		f, err := c.str("topic filter")
		if err != nil {
			return err
		}
		optAt := c.i
		o, err := c.u8("subscription options")
		if err != nil {
			return err
		}
		// Filled in place: building it on the stack and appending a copy
		// stalls on reading back the narrow stores just made.
		n := len(p.Subscriptions)
		if n < cap(p.Subscriptions) {
			p.Subscriptions = p.Subscriptions[:n+1]
		} else {
			p.Subscriptions = append(p.Subscriptions, Subscription{})
		}
		s := &p.Subscriptions[n]
		*s = Subscription{}
		s.Filter, s.QoS = f, o&3
		if c.v == V5 {
			s.NoLocal, s.RetainAsPublished, s.RetainHandling, s.Reserved = o&4 != 0, o&8 != 0, o>>4&3, o&0xC0
		} else {
			s.Reserved = o & 0xFC
		}
		if err := c.checkSubscription(s, at, optAt); err != nil {
			return err
		}
	}
	return nil
}

func (c *cursor) checkSubscription(s *Subscription, at, optAt int) error {
	if e := checkTopicFilter(s.Filter, c.v); e != nil {
		e.Type, e.Field, e.Offset = SUBSCRIBE, "topic filter", at+2+e.Offset
		if err := c.d.violate(e); err != nil {
			return err
		}
	}
	var e *Error
	switch {
	case s.Reserved != 0:
		e = malformed(SUBSCRIBE, "subscription options", optAt, rule(c.v, "MQTT-3.8.3-4", "MQTT-3.8.3-5"), "reserved option bits are set")
	case s.QoS == 3 && c.v == V5:
		e = protocolErr(SUBSCRIBE, "subscription options", optAt, "", "maximum QoS 3 (section 3.8.3.1)")
	case s.QoS == 3:
		e = malformed(SUBSCRIBE, "subscription options", optAt, rule(c.v, "MQTT-3.8.3-4", ""), "requested QoS 3")
	case s.RetainHandling == 3:
		e = protocolErr(SUBSCRIBE, "subscription options", optAt, "", "retain handling 3 (section 3.8.3.1)")
	case s.NoLocal && isShared(s.Filter):
		e = protocolErr(SUBSCRIBE, "subscription options", optAt, rule(c.v, "", "MQTT-3.8.3-4"), "No Local on a shared subscription")
	}
	if e == nil {
		return nil
	}
	return c.d.violate(e)
}

func (c *cursor) suback(p *Suback) error {
	p.Props.reset()
	var err error
	if p.PacketID, err = c.packetID(true); err != nil {
		return err
	}
	p.ReasonCodes = nil
	if c.v == V5 {
		if err := c.readProperties(&p.Props, p.Kind); err != nil {
			return err
		}
	} else if p.Kind == UNSUBACK {
		return nil
	}
	p.ReasonCodes = c.b[c.i:c.end]
	for i, rc := range p.ReasonCodes {
		if err := c.checkReason(ReasonCode(rc), c.i+i); err != nil {
			return err
		}
	}
	c.i = c.end
	return nil
}

func (c *cursor) unsubscribe(p *Unsubscribe) error {
	p.Props.reset()
	p.Filters = p.Filters[:0]
	var err error
	if p.PacketID, err = c.packetID(true); err != nil {
		return err
	}
	if c.v == V5 {
		if err := c.readProperties(&p.Props, UNSUBSCRIBE); err != nil {
			return err
		}
	}
	if c.left() == 0 {
		return c.d.violate(protocolErr(UNSUBSCRIBE, "payload", c.i, "MQTT-3.10.3-2", "no topic filter"))
	}
	for c.left() > 0 {
		at := c.i
		f, err := c.str("topic filter")
		if err != nil {
			return err
		}
		p.Filters = append(p.Filters, f)
		if e := checkTopicFilter(f, c.v); e != nil {
			e.Type, e.Field, e.Offset = UNSUBSCRIBE, "topic filter", at+2+e.Offset
			if err := c.d.violate(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// reasonAndProps reads the optional reason code and properties of a 5.0
// DISCONNECT or AUTH; in 3.1.1 DISCONNECT has no body.
func (c *cursor) reasonAndProps(rc *ReasonCode, props *Properties) error {
	props.reset()
	*rc = 0
	if c.v != V5 {
		return c.empty()
	}
	if c.left() == 0 {
		return nil
	}
	b, err := c.u8("reason code")
	if err != nil {
		return err
	}
	*rc = ReasonCode(b)
	if err := c.checkReason(*rc, c.i-1); err != nil {
		return err
	}
	if c.left() == 0 {
		return nil
	}
	return c.readProperties(props, c.t)
}

func quote(b []byte) string { return strconv.Quote(string(b)) }
