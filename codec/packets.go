package codec

// Packet is any decoded or to-be-encoded control packet.
type Packet interface {
	Type() Type
	// Append encodes the packet for protocol version v onto dst. It writes
	// the fields as they are, valid or not, so tests can build bad packets.
	Append(dst []byte, v Version) []byte
}

// Connect is the CONNECT packet. ProtocolLevel decides how the rest of the
// connection's packets are read.
type Connect struct {
	ProtocolName  []byte
	ProtocolLevel Version
	Reserved      bool // connect flags bit 0, must be 0
	CleanStart    bool // Clean Session in 3.1.1
	WillFlag      bool
	WillQoS       byte
	WillRetain    bool
	PasswordFlag  bool
	UsernameFlag  bool
	KeepAlive     uint16
	Props         Properties
	ClientID      []byte
	WillProps     Properties
	WillTopic     []byte
	WillPayload   []byte
	Username      []byte
	Password      []byte
}

// Connack is the CONNACK packet; ReasonCode holds the 3.1.1 return code too.
type Connack struct {
	SessionPresent bool
	AckFlags       byte // bits 7-1 of the acknowledge flags, reserved (must be 0)
	ReasonCode     ReasonCode
	Props          Properties
}

// Publish is the PUBLISH packet.
type Publish struct {
	Dup      bool
	QoS      byte
	Retain   bool
	Topic    []byte
	PacketID uint16
	Props    Properties
	Payload  []byte
}

// Ack is PUBACK, PUBREC, PUBREL or PUBCOMP: they share one layout.
type Ack struct {
	Kind       Type
	PacketID   uint16
	ReasonCode ReasonCode
	Props      Properties
}

// Subscription is one topic filter and its options in a SUBSCRIBE.
type Subscription struct {
	Filter            []byte
	QoS               byte
	NoLocal           bool
	RetainAsPublished bool
	RetainHandling    byte
	Reserved          byte // option bits that must be 0, in place (0xC0 in 5.0, 0xFC in 3.1.1)
}

func (s *Subscription) options() byte {
	o := s.QoS | s.RetainHandling<<4 | s.Reserved
	if s.NoLocal {
		o |= 0x04
	}
	if s.RetainAsPublished {
		o |= 0x08
	}
	return o
}

// Subscribe is the SUBSCRIBE packet.
type Subscribe struct {
	PacketID      uint16
	Props         Properties
	Subscriptions []Subscription
}

// Suback is SUBACK or UNSUBACK (5.0 UNSUBACK carries reason codes too).
// ReasonCodes aliases the input.
type Suback struct {
	Kind        Type
	PacketID    uint16
	Props       Properties
	ReasonCodes []byte
}

// Unsubscribe is the UNSUBSCRIBE packet.
type Unsubscribe struct {
	PacketID uint16
	Props    Properties
	Filters  [][]byte
}

// Ping is PINGREQ or PINGRESP.
type Ping struct{ Kind Type }

// Disconnect is DISCONNECT; in 3.1.1 it has no fields.
type Disconnect struct {
	ReasonCode ReasonCode
	Props      Properties
}

// Auth is the 5.0 AUTH packet.
type Auth struct {
	ReasonCode ReasonCode
	Props      Properties
}

func (*Connect) Type() Type     { return CONNECT }
func (*Connack) Type() Type     { return CONNACK }
func (*Publish) Type() Type     { return PUBLISH }
func (a *Ack) Type() Type       { return a.Kind }
func (*Subscribe) Type() Type   { return SUBSCRIBE }
func (s *Suback) Type() Type    { return s.Kind }
func (*Unsubscribe) Type() Type { return UNSUBSCRIBE }
func (p *Ping) Type() Type      { return p.Kind }
func (*Disconnect) Type() Type  { return DISCONNECT }
func (*Auth) Type() Type        { return AUTH }

// Flags is the fixed-header flag nibble a PUBLISH carries.
func (p *Publish) Flags() byte {
	f := p.QoS << 1
	if p.Dup {
		f |= 0x08
	}
	if p.Retain {
		f |= 0x01
	}
	return f
}

// header appends the fixed header for a body of n bytes.
func header(dst []byte, t Type, flags byte, n int) []byte {
	return AppendVarint(append(dst, byte(t)<<4|flags), n)
}

func propsSize(p *Properties) int {
	n := p.size()
	return varintLen(n) + n
}

func (p *Connect) Append(dst []byte, _ Version) []byte {
	v := p.ProtocolLevel
	n := 2 + len(p.ProtocolName) + 1 + 1 + 2 + 2 + len(p.ClientID)
	if v == V5 {
		n += propsSize(&p.Props)
	}
	if p.WillFlag {
		if v == V5 {
			n += propsSize(&p.WillProps)
		}
		n += 4 + len(p.WillTopic) + len(p.WillPayload)
	}
	if p.UsernameFlag {
		n += 2 + len(p.Username)
	}
	if p.PasswordFlag {
		n += 2 + len(p.Password)
	}
	dst = header(dst, CONNECT, 0, n)
	dst = appendBinary(dst, p.ProtocolName)
	var flags byte
	if p.Reserved {
		flags |= 0x01
	}
	if p.CleanStart {
		flags |= 0x02
	}
	if p.WillFlag {
		flags |= 0x04
	}
	flags |= p.WillQoS << 3
	if p.WillRetain {
		flags |= 0x20
	}
	if p.PasswordFlag {
		flags |= 0x40
	}
	if p.UsernameFlag {
		flags |= 0x80
	}
	dst = append(dst, byte(v), flags)
	dst = appendU16(dst, p.KeepAlive)
	if v == V5 {
		dst = p.Props.appendTo(dst)
	}
	dst = appendBinary(dst, p.ClientID)
	if p.WillFlag {
		if v == V5 {
			dst = p.WillProps.appendTo(dst)
		}
		dst = appendBinary(dst, p.WillTopic)
		dst = appendBinary(dst, p.WillPayload)
	}
	if p.UsernameFlag {
		dst = appendBinary(dst, p.Username)
	}
	if p.PasswordFlag {
		dst = appendBinary(dst, p.Password)
	}
	return dst
}

func (p *Connack) Append(dst []byte, v Version) []byte {
	n := 2
	if v == V5 {
		n += propsSize(&p.Props)
	}
	dst = header(dst, CONNACK, 0, n)
	f := p.AckFlags &^ 1
	if p.SessionPresent {
		f |= 1
	}
	dst = append(dst, f, byte(p.ReasonCode))
	if v == V5 {
		dst = p.Props.appendTo(dst)
	}
	return dst
}

func (p *Publish) Append(dst []byte, v Version) []byte {
	n := 2 + len(p.Topic) + len(p.Payload)
	if p.QoS > 0 {
		n += 2
	}
	if v == V5 {
		n += propsSize(&p.Props)
	}
	dst = header(dst, PUBLISH, p.Flags(), n)
	dst = appendBinary(dst, p.Topic)
	if p.QoS > 0 {
		dst = appendU16(dst, p.PacketID)
	}
	if v == V5 {
		dst = p.Props.appendTo(dst)
	}
	return append(dst, p.Payload...)
}

// Append writes the shortest 5.0 form the spec allows: the reason code and
// properties are omitted when they are Success and empty.
func (p *Ack) Append(dst []byte, v Version) []byte {
	n := 2
	withProps := v == V5 && !p.Props.Empty()
	if v == V5 && (p.ReasonCode != 0 || withProps) {
		n++
	}
	if withProps {
		n += propsSize(&p.Props)
	}
	dst = header(dst, p.Kind, requiredFlags(p.Kind), n)
	dst = appendU16(dst, p.PacketID)
	if n > 2 {
		dst = append(dst, byte(p.ReasonCode))
	}
	if withProps {
		dst = p.Props.appendTo(dst)
	}
	return dst
}

func (p *Subscribe) Append(dst []byte, v Version) []byte {
	n := 2
	if v == V5 {
		n += propsSize(&p.Props)
	}
	for i := range p.Subscriptions {
		n += 3 + len(p.Subscriptions[i].Filter)
	}
	dst = header(dst, SUBSCRIBE, 0x2, n)
	dst = appendU16(dst, p.PacketID)
	if v == V5 {
		dst = p.Props.appendTo(dst)
	}
	for i := range p.Subscriptions {
		s := &p.Subscriptions[i]
		dst = appendBinary(dst, s.Filter)
		dst = append(dst, s.options())
	}
	return dst
}

func (p *Suback) Append(dst []byte, v Version) []byte {
	n := 2 + len(p.ReasonCodes)
	if v == V5 {
		n += propsSize(&p.Props)
	}
	dst = header(dst, p.Kind, 0, n)
	dst = appendU16(dst, p.PacketID)
	if v == V5 {
		dst = p.Props.appendTo(dst)
	}
	return append(dst, p.ReasonCodes...)
}

func (p *Unsubscribe) Append(dst []byte, v Version) []byte {
	n := 2
	if v == V5 {
		n += propsSize(&p.Props)
	}
	for _, f := range p.Filters {
		n += 2 + len(f)
	}
	dst = header(dst, UNSUBSCRIBE, 0x2, n)
	dst = appendU16(dst, p.PacketID)
	if v == V5 {
		dst = p.Props.appendTo(dst)
	}
	for _, f := range p.Filters {
		dst = appendBinary(dst, f)
	}
	return dst
}

func (p *Ping) Append(dst []byte, _ Version) []byte { return append(dst, byte(p.Kind)<<4, 0) }

// reasonAndProps appends the optional 5.0 reason code and properties shared
// by DISCONNECT and AUTH, omitting what the spec lets a sender omit.
func reasonAndProps(dst []byte, t Type, rc ReasonCode, props *Properties, v Version) []byte {
	if v != V5 || (rc == 0 && props.Empty()) {
		return append(dst, byte(t)<<4, 0)
	}
	if props.Empty() && t == DISCONNECT {
		return append(dst, byte(t)<<4, 1, byte(rc))
	}
	dst = header(dst, t, 0, 1+propsSize(props))
	dst = append(dst, byte(rc))
	return props.appendTo(dst)
}

func (p *Disconnect) Append(dst []byte, v Version) []byte {
	return reasonAndProps(dst, DISCONNECT, p.ReasonCode, &p.Props, v)
}

func (p *Auth) Append(dst []byte, v Version) []byte {
	return reasonAndProps(dst, AUTH, p.ReasonCode, &p.Props, v)
}

// PropertiesOf returns the 5.0 properties a packet carries (for CONNECT the
// connection's, not the Will's), or nil for PINGREQ and PINGRESP.
func PropertiesOf(p Packet) *Properties {
	switch p := p.(type) {
	case *Connect:
		return &p.Props
	case *Connack:
		return &p.Props
	case *Publish:
		return &p.Props
	case *Ack:
		return &p.Props
	case *Subscribe:
		return &p.Props
	case *Suback:
		return &p.Props
	case *Unsubscribe:
		return &p.Props
	case *Disconnect:
		return &p.Props
	case *Auth:
		return &p.Props
	}
	return nil
}
