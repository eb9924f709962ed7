package codec

// PropID identifies a 5.0 property (section 2.2.2.2).
type PropID byte

const (
	PropPayloadFormat        PropID = 0x01
	PropMessageExpiry        PropID = 0x02
	PropContentType          PropID = 0x03
	PropResponseTopic        PropID = 0x08
	PropCorrelationData      PropID = 0x09
	PropSubscriptionID       PropID = 0x0B
	PropSessionExpiry        PropID = 0x11
	PropAssignedClientID     PropID = 0x12
	PropServerKeepAlive      PropID = 0x13
	PropAuthMethod           PropID = 0x15
	PropAuthData             PropID = 0x16
	PropRequestProblemInfo   PropID = 0x17
	PropWillDelay            PropID = 0x18
	PropRequestResponseInfo  PropID = 0x19
	PropResponseInfo         PropID = 0x1A
	PropServerReference      PropID = 0x1C
	PropReasonString         PropID = 0x1F
	PropReceiveMaximum       PropID = 0x21
	PropTopicAliasMaximum    PropID = 0x22
	PropTopicAlias           PropID = 0x23
	PropMaximumQoS           PropID = 0x24
	PropRetainAvailable      PropID = 0x25
	PropUser                 PropID = 0x26
	PropMaximumPacketSize    PropID = 0x27
	PropWildcardSubAvailable PropID = 0x28
	PropSubIDAvailable       PropID = 0x29
	PropSharedSubAvailable   PropID = 0x2A
)

// PropKind is a property's data type.
type PropKind byte

const (
	KindByte PropKind = iota + 1
	KindU16
	KindU32
	KindVarint
	KindString
	KindBinary
	KindPair
)

// willProps stands for the Will Properties in the CONNECT payload in the
// "allowed on" masks; type 0 is otherwise unused.
const willProps Type = 0

func on(ts ...Type) uint16 {
	var m uint16
	for _, t := range ts {
		m |= 1 << t
	}
	return m
}

// PropInfo describes one property: its notation name, type, where it may
// appear, and whether it may repeat.
type PropInfo struct {
	ID      PropID
	Name    string
	Kind    PropKind
	On      uint16 // bit t set: allowed on packet type t (bit 0: Will Properties)
	Repeats bool   // User Property anywhere, Subscription Identifier in PUBLISH
	bit     uint64
}

var propTable = [...]PropInfo{
	{ID: PropPayloadFormat, Name: "payload-format", Kind: KindByte, On: on(PUBLISH, willProps)},
	{ID: PropMessageExpiry, Name: "message-expiry", Kind: KindU32, On: on(PUBLISH, willProps)},
	{ID: PropContentType, Name: "content-type", Kind: KindString, On: on(PUBLISH, willProps)},
	{ID: PropResponseTopic, Name: "response-topic", Kind: KindString, On: on(PUBLISH, willProps)},
	{ID: PropCorrelationData, Name: "correlation-data", Kind: KindBinary, On: on(PUBLISH, willProps)},
	{ID: PropSubscriptionID, Name: "subscription-id", Kind: KindVarint, On: on(PUBLISH, SUBSCRIBE), Repeats: true},
	{ID: PropSessionExpiry, Name: "session-expiry", Kind: KindU32, On: on(CONNECT, CONNACK, DISCONNECT)},
	{ID: PropAssignedClientID, Name: "assigned-client-id", Kind: KindString, On: on(CONNACK)},
	{ID: PropServerKeepAlive, Name: "server-keep-alive", Kind: KindU16, On: on(CONNACK)},
	{ID: PropAuthMethod, Name: "auth-method", Kind: KindString, On: on(CONNECT, CONNACK, AUTH)},
	{ID: PropAuthData, Name: "auth-data", Kind: KindBinary, On: on(CONNECT, CONNACK, AUTH)},
	{ID: PropRequestProblemInfo, Name: "request-problem-info", Kind: KindByte, On: on(CONNECT)},
	{ID: PropWillDelay, Name: "will-delay", Kind: KindU32, On: on(willProps)},
	{ID: PropRequestResponseInfo, Name: "request-response-info", Kind: KindByte, On: on(CONNECT)},
	{ID: PropResponseInfo, Name: "response-info", Kind: KindString, On: on(CONNACK)},
	{ID: PropServerReference, Name: "server-reference", Kind: KindString, On: on(CONNACK, DISCONNECT)},
	{ID: PropReasonString, Name: "reason-string", Kind: KindString,
		On: on(CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH)},
	{ID: PropReceiveMaximum, Name: "receive-maximum", Kind: KindU16, On: on(CONNECT, CONNACK)},
	{ID: PropTopicAliasMaximum, Name: "topic-alias-maximum", Kind: KindU16, On: on(CONNECT, CONNACK)},
	{ID: PropTopicAlias, Name: "topic-alias", Kind: KindU16, On: on(PUBLISH)},
	{ID: PropMaximumQoS, Name: "maximum-qos", Kind: KindByte, On: on(CONNACK)},
	{ID: PropRetainAvailable, Name: "retain-available", Kind: KindByte, On: on(CONNACK)},
	{ID: PropUser, Name: "user", Kind: KindPair, Repeats: true,
		On: on(CONNECT, CONNACK, PUBLISH, willProps, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK,
			UNSUBSCRIBE, UNSUBACK, DISCONNECT, AUTH)},
	{ID: PropMaximumPacketSize, Name: "maximum-packet-size", Kind: KindU32, On: on(CONNECT, CONNACK)},
	{ID: PropWildcardSubAvailable, Name: "wildcard-sub-available", Kind: KindByte, On: on(CONNACK)},
	{ID: PropSubIDAvailable, Name: "subscription-id-available", Kind: KindByte, On: on(CONNACK)},
	{ID: PropSharedSubAvailable, Name: "shared-sub-available", Kind: KindByte, On: on(CONNACK)},
}

// propIndex maps an identifier byte to its row in propTable (+1; 0 = unknown).
var propIndex [256]uint8

func init() {
	for i := range propTable {
		propTable[i].bit = 1 << uint(i)
		propIndex[propTable[i].ID] = uint8(i + 1)
	}
}

// LookupProp returns the description of property id.
func LookupProp(id PropID) (PropInfo, bool) {
	i := propIndex[id]
	if i == 0 {
		return PropInfo{}, false
	}
	return propTable[i-1], true
}

// PropByName returns the property whose notation name is s.
func PropByName(s string) (PropInfo, bool) {
	for _, p := range propTable {
		if p.Name == s {
			return p, true
		}
	}
	return PropInfo{}, false
}

// Props lists every 5.0 property in identifier order.
func Props() []PropInfo { return propTable[:] }

// UserProperty is one name/value pair; both alias the decoded packet.
type UserProperty struct {
	Key, Value []byte
}

// Properties holds the 5.0 properties of a packet (or of a Will). Single-use
// properties are plain fields whose presence is tracked in a bit set, so a
// zero value (Session Expiry 0, Maximum QoS 0) is distinct from absence.
// Decoding reuses the User and SubscriptionIDs slices' capacity.
type Properties struct {
	present uint64

	PayloadFormat        byte
	MessageExpiry        uint32
	ContentType          []byte
	ResponseTopic        []byte
	CorrelationData      []byte
	SubscriptionIDs      []int
	SessionExpiry        uint32
	AssignedClientID     []byte
	ServerKeepAlive      uint16
	AuthMethod           []byte
	AuthData             []byte
	RequestProblemInfo   byte
	WillDelay            uint32
	RequestResponseInfo  byte
	ResponseInfo         []byte
	ServerReference      []byte
	ReasonString         []byte
	ReceiveMaximum       uint16
	TopicAliasMaximum    uint16
	TopicAlias           uint16
	MaximumQoS           byte
	RetainAvailable      byte
	User                 []UserProperty
	MaximumPacketSize    uint32
	WildcardSubAvailable byte
	SubIDAvailable       byte
	SharedSubAvailable   byte
}

// Has reports whether property id is present.
func (p *Properties) Has(id PropID) bool {
	i := propIndex[id]
	return i != 0 && p.present&propTable[i-1].bit != 0
}

// Set marks property id present; its value is the matching field. User
// properties and subscription identifiers are present when their slices are
// non-empty and need no Set.
func (p *Properties) Set(id PropID) *Properties {
	if i := propIndex[id]; i != 0 {
		p.present |= propTable[i-1].bit
	}
	return p
}

// Clear marks property id absent.
func (p *Properties) Clear(id PropID) {
	if i := propIndex[id]; i != 0 {
		p.present &^= propTable[i-1].bit
	}
	switch id {
	case PropUser:
		p.User = p.User[:0]
	case PropSubscriptionID:
		p.SubscriptionIDs = p.SubscriptionIDs[:0]
	}
}

// Empty reports whether no property is present.
func (p *Properties) Empty() bool {
	return p.present == 0 && len(p.User) == 0 && len(p.SubscriptionIDs) == 0
}

// reset empties p keeping the capacity of its slices. Decoding, Parse and
// Set mark every property they give a value, so properties with nothing
// marked hold nothing, and clearing them (a third of a 3.1.1 PUBLISH
// decode) can be skipped.
func (p *Properties) reset() {
	if p.present == 0 && len(p.User) == 0 && len(p.SubscriptionIDs) == 0 {
		return
	}
	user, ids := p.User[:0], p.SubscriptionIDs[:0]
	*p = Properties{User: user, SubscriptionIDs: ids}
}

// AddUser appends a user property.
func (p *Properties) AddUser(k, v string) *Properties {
	p.User = append(p.User, UserProperty{Key: []byte(k), Value: []byte(v)})
	return p
}

// addUser appends a decoded user property, set in place (like
// subscriptions in subscribe) when the slice has room from an earlier
// packet.
func (p *Properties) addUser(k, v []byte) {
	if n := len(p.User); n < cap(p.User) {
		p.User = p.User[:n+1]
		p.User[n].Key, p.User[n].Value = k, v
	} else {
		p.User = append(p.User, UserProperty{Key: k, Value: v})
	}
}

func (p *Properties) byteField(id PropID) *byte {
	switch id {
	case PropPayloadFormat:
		return &p.PayloadFormat
	case PropRequestProblemInfo:
		return &p.RequestProblemInfo
	case PropRequestResponseInfo:
		return &p.RequestResponseInfo
	case PropMaximumQoS:
		return &p.MaximumQoS
	case PropRetainAvailable:
		return &p.RetainAvailable
	case PropWildcardSubAvailable:
		return &p.WildcardSubAvailable
	case PropSubIDAvailable:
		return &p.SubIDAvailable
	case PropSharedSubAvailable:
		return &p.SharedSubAvailable
	}
	return nil
}

func (p *Properties) u16Field(id PropID) *uint16 {
	switch id {
	case PropServerKeepAlive:
		return &p.ServerKeepAlive
	case PropReceiveMaximum:
		return &p.ReceiveMaximum
	case PropTopicAliasMaximum:
		return &p.TopicAliasMaximum
	case PropTopicAlias:
		return &p.TopicAlias
	}
	return nil
}

func (p *Properties) u32Field(id PropID) *uint32 {
	switch id {
	case PropMessageExpiry:
		return &p.MessageExpiry
	case PropSessionExpiry:
		return &p.SessionExpiry
	case PropWillDelay:
		return &p.WillDelay
	case PropMaximumPacketSize:
		return &p.MaximumPacketSize
	}
	return nil
}

func (p *Properties) bytesField(id PropID) *[]byte {
	switch id {
	case PropContentType:
		return &p.ContentType
	case PropResponseTopic:
		return &p.ResponseTopic
	case PropCorrelationData:
		return &p.CorrelationData
	case PropAssignedClientID:
		return &p.AssignedClientID
	case PropAuthMethod:
		return &p.AuthMethod
	case PropAuthData:
		return &p.AuthData
	case PropResponseInfo:
		return &p.ResponseInfo
	case PropServerReference:
		return &p.ServerReference
	case PropReasonString:
		return &p.ReasonString
	}
	return nil
}

// size is the encoded length of the properties, without the length prefix.
func (p *Properties) size() int {
	n := 0
	for m := p.encoded(); m != 0; m &= m - 1 {
		pi := lowestRow(m)
		switch pi.ID {
		case PropUser:
			for _, u := range p.User {
				n += 1 + 4 + len(u.Key) + len(u.Value)
			}
			continue
		case PropSubscriptionID:
			for _, id := range p.SubscriptionIDs {
				n += 1 + varintLen(id)
			}
			continue
		}
		switch pi.Kind {
		case KindByte:
			n += 2
		case KindU16:
			n += 3
		case KindU32:
			n += 5
		case KindString, KindBinary:
			n += 3 + len(*p.bytesField(pi.ID))
		}
	}
	return n
}

// appendTo writes the property length and the properties in identifier order.
func (p *Properties) appendTo(dst []byte) []byte {
	dst = AppendVarint(dst, p.size())
	for m := p.encoded(); m != 0; m &= m - 1 {
		pi := lowestRow(m)
		switch pi.ID {
		case PropUser:
			for _, u := range p.User {
				dst = append(dst, byte(PropUser))
				dst = appendBinary(dst, u.Key)
				dst = appendBinary(dst, u.Value)
			}
			continue
		case PropSubscriptionID:
			for _, id := range p.SubscriptionIDs {
				dst = append(dst, byte(PropSubscriptionID))
				dst = AppendVarint(dst, id)
			}
			continue
		}
		dst = append(dst, byte(pi.ID))
		switch pi.Kind {
		case KindByte:
			dst = append(dst, *p.byteField(pi.ID))
		case KindU16:
			dst = appendU16(dst, *p.u16Field(pi.ID))
		case KindU32:
			dst = appendU32(dst, *p.u32Field(pi.ID))
		case KindString, KindBinary:
			dst = appendBinary(dst, *p.bytesField(pi.ID))
		}
	}
	return dst
}

// readProperties decodes a property block for packet type on (willProps for
// the Will Properties) and checks each property against section 2.2.2.2 and
// the value rules of the packet it appears in. p is empty: every packet
// decoder resets its properties when it starts.
func (c *cursor) readProperties(p *Properties, on Type) error {
	lenAt := c.i
	n, err := c.varint("property length")
	if err != nil {
		return err
	}
	if n > c.left() {
		return malformed(c.t, "property length", lenAt, "", "property length overruns the packet (section 2.2.2.1)")
	}
	outer := c.end
	c.end = c.i + n
	if on == PUBLISH {
		err = c.publishProperties(p)
	} else {
		err = c.propertyList(p, on, false)
	}
	c.end = outer
	return err
}

// Presence bits of the properties publishProperties reads (bit i is row i of
// propTable; TestPublishPropertyBits keeps them in step).
const (
	bitPayloadFormat   = 1 << 0
	bitMessageExpiry   = 1 << 1
	bitContentType     = 1 << 2
	bitCorrelationData = 1 << 4
	bitUser            = 1 << 22
)

// publishProperties reads a PUBLISH property block up to c.end. The
// properties most messages carry are read here when they appear for the
// first time and are plainly valid, which leaves none of propertyList's
// checks to make; a switch on the identifier compiles to a jump table,
// cheaper than its table walk. Anything else goes to propertyList, one
// property at a time.
func (c *cursor) publishProperties(p *Properties) error {
	b, end := c.b, c.end
	for c.i < end {
		i := c.i
		switch PropID(b[i]) {
		case PropPayloadFormat:
			if p.present&bitPayloadFormat == 0 && end-i >= 2 && b[i+1] <= 1 {
				p.PayloadFormat, p.present, c.i = b[i+1], p.present|bitPayloadFormat, i+2
				continue
			}
		case PropMessageExpiry:
			if p.present&bitMessageExpiry == 0 && end-i >= 5 {
				p.MessageExpiry = uint32(b[i+1])<<24 | uint32(b[i+2])<<16 | uint32(b[i+3])<<8 | uint32(b[i+4])
				p.present, c.i = p.present|bitMessageExpiry, i+5
				continue
			}
		case PropContentType:
			if p.present&bitContentType == 0 {
				c.i++
				if s, ok := c.plainString(); ok {
					p.ContentType, p.present = s, p.present|bitContentType
					continue
				}
				c.i = i
			}
		case PropCorrelationData:
			if p.present&bitCorrelationData == 0 && end-i >= 3 {
				if j := i + 3 + (int(b[i+1])<<8 | int(b[i+2])); j <= end {
					p.CorrelationData, p.present, c.i = b[i+3:j], p.present|bitCorrelationData, j
					continue
				}
			}
		case PropUser:
			c.i++
			if k, ok := c.plainString(); ok {
				if v, ok := c.plainString(); ok {
					p.addUser(k, v)
					p.present |= bitUser
					continue
				}
			}
			c.i = i
		}
		if err := c.propertyList(p, PUBLISH, true); err != nil {
			return err
		}
	}
	return nil
}

// propertyList reads properties up to c.end, or only the next one when
// one is set (publishProperties' fallback): one table load (propRows)
// finds what each is and where it may appear; plain ASCII strings are read
// with plainString, anything else with the general readers, which name
// the fault.
func (c *cursor) propertyList(p *Properties, on Type, one bool) error {
	onBit := uint16(1) << on
	for c.i < c.end {
		at := c.i
		idv, err := int(c.b[at]), error(nil)
		if idv < 0x80 { // every identifier the spec defines fits in one byte
			c.i++
		} else if idv, err = c.longVarint("property identifier"); err != nil {
			return err
		}
		var r *propRow
		if idv < len(propRows) {
			r = &propRows[idv]
		}
		if r == nil || r.kind == 0 {
			return malformed(c.t, "property identifier", at, "", "unknown property identifier 0x"+hex2(byte(idv))+" (section 2.2.2.2)")
		}
		pi := &propTable[r.row]
		if r.on&onBit == 0 {
			where := c.t.String()
			if on == willProps {
				where = "Will Properties"
			}
			if err := c.d.violate(malformed(c.t, pi.Name, at, "", "property not valid on "+where+" (section 2.2.2.2)")); err != nil {
				return err
			}
		}
		repeats := r.repeats && (pi.ID == PropUser || on == PUBLISH)
		if p.present&r.bit != 0 && !repeats {
			if err := c.d.violate(protocolErr(c.t, pi.Name, at, "", "property included more than once"+propSection(on))); err != nil {
				return err
			}
		}
		p.present |= r.bit
		switch r.kind {
		case KindByte:
			b, err := c.u8(pi.Name)
			if err != nil {
				return err
			}
			*p.byteField(pi.ID) = b
		case KindU16:
			v, err := c.u16(pi.Name)
			if err != nil {
				return err
			}
			*p.u16Field(pi.ID) = v
		case KindU32:
			v, err := c.u32(pi.Name)
			if err != nil {
				return err
			}
			*p.u32Field(pi.ID) = v
		case KindVarint:
			v, err := c.varint(pi.Name)
			if err != nil {
				return err
			}
			p.SubscriptionIDs = append(p.SubscriptionIDs, v)
		case KindString:
			s, ok := c.plainString()
			if !ok {
				if s, err = c.str(pi.Name); err != nil {
					return err
				}
			}
			*p.bytesField(pi.ID) = s
		case KindBinary:
			s, err := c.binary(pi.Name)
			if err != nil {
				return err
			}
			*p.bytesField(pi.ID) = s
		case KindPair:
			k, ok := c.plainString()
			if !ok {
				if k, err = c.str("user property name"); err != nil {
					return err
				}
			}
			v, ok := c.plainString()
			if !ok {
				if v, err = c.str("user property value"); err != nil {
					return err
				}
			}
			p.addUser(k, v)
		}
		if r.valueRule {
			if err := c.checkPropValue(p, pi, on, at); err != nil {
				return err
			}
		}
		if one {
			return nil
		}
	}
	return nil
}

// propSections are the 5.0 sections on each packet's properties (index 0:
// the Will Properties); each property has its own subsection there.
var propSections = [16]string{"3.1.3.2", "3.1.2.11", "3.2.2.3", "3.3.2.3", "3.4.2.2", "3.5.2.2", "3.6.2.2",
	"3.7.2.2", "3.8.2.1", "3.9.2.1", "3.10.2.1", "3.11.2.1", "", "", "3.14.2.2", "3.15.2.2"}

func propSection(on Type) string { return " (section " + propSections[on] + ")" }

// checkPropValue enforces the value ranges the spec gives per property.
func (c *cursor) checkPropValue(p *Properties, pi *PropInfo, on Type, at int) error {
	bad := func(rule, msg string) error {
		if rule == "" {
			msg += propSection(on)
		}
		return c.d.violate(protocolErr(c.t, pi.Name, at, rule, msg))
	}
	switch pi.ID {
	case PropRequestProblemInfo, PropRequestResponseInfo, PropRetainAvailable, PropWildcardSubAvailable,
		PropSubIDAvailable, PropSharedSubAvailable, PropMaximumQoS:
		if b := *p.byteField(pi.ID); b > 1 {
			return bad("", "value must be 0 or 1")
		}
	case PropPayloadFormat:
		if p.PayloadFormat > 1 {
			return bad("", "payload format indicator must be 0 or 1")
		}
	case PropReceiveMaximum:
		if p.ReceiveMaximum == 0 {
			return bad("", "receive maximum of 0")
		}
	case PropMaximumPacketSize:
		if p.MaximumPacketSize == 0 {
			return bad("", "maximum packet size of 0")
		}
	case PropTopicAlias:
		if p.TopicAlias == 0 {
			// The receiver answers with Topic Alias invalid (section 3.3.4).
			return c.d.violate(&Error{Rule: rule(c.v, "", "MQTT-3.3.2-8"), Reason: TopicAliasInvalid, Type: c.t, Field: pi.Name,
				Offset: at, Msg: "topic alias 0"})
		}
	case PropSubscriptionID:
		if id := p.SubscriptionIDs[len(p.SubscriptionIDs)-1]; id == 0 {
			return bad("", "subscription identifier 0")
		}
	case PropResponseTopic:
		if hasWildcard(p.ResponseTopic) {
			r := rule(c.v, "", "MQTT-3.3.2-14")
			if on == willProps {
				// A Will's Response Topic has no statement of its own; it
				// is a Topic Name like any other.
				r = rule(c.v, "", "MQTT-4.7.0-1")
			}
			return bad(r, "response topic contains a wildcard")
		}
	}
	return nil
}
