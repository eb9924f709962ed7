package codec

import (
	"encoding/hex"
	"strconv"
	"strings"
)

// ParseError locates a notation error: Col is the 1-based byte column.
type ParseError struct {
	Col int
	Msg string
}

func (e *ParseError) Error() string { return "col " + strconv.Itoa(e.Col) + ": " + e.Msg }

type tokKind byte

const (
	tWord tokKind = iota + 1
	tString
	tPunct
)

type tok struct {
	kind tokKind
	text string // word, punctuation, or the unquoted string
	pos  int
}

func lex(s string) ([]tok, error) {
	var out []tok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			i++
		case c == '"':
			q, err := strconv.QuotedPrefix(s[i:])
			if err != nil {
				return nil, &ParseError{i + 1, "unterminated or invalid string"}
			}
			u, _ := strconv.Unquote(q)
			out = append(out, tok{tString, u, i})
			i += len(q)
		case strings.IndexByte("={}()[]", c) >= 0:
			out = append(out, tok{tPunct, s[i : i+1], i})
			i++
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			out = append(out, tok{tWord, s[i:j], i})
			i = j
		default:
			return nil, &ParseError{i + 1, "unexpected character " + strconv.QuoteRune(rune(c))}
		}
	}
	return out, nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '$' || c == '*'
}

// node is one field of the notation: name, name=value, name{...} or name(...).
type node struct {
	name  string
	pos   int
	val   *tok   // name=value, or a bare string inside (...)
	val2  *tok   // the value of a "k"="v" pair inside (...)
	list  []tok  // name=[...]
	group []node // name{...}
	args  []node // name(...)
	kind  byte   // '=', '{', '(', '[' or 0 for a bare word
}

type parser struct {
	toks []tok
	i    int
	end  int // position reported at end of input
}

func (p *parser) peek() *tok {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *parser) errAt(t *tok, msg string) error {
	if t == nil {
		return &ParseError{p.end + 1, msg + " at end of input"}
	}
	return &ParseError{t.pos + 1, msg}
}

func (p *parser) punct(s string) bool {
	if t := p.peek(); t != nil && t.kind == tPunct && t.text == s {
		p.i++
		return true
	}
	return false
}

// nodes parses fields until the closing punctuation close ("" = end of input).
func (p *parser) nodes(close string, inParens bool) ([]node, error) {
	var out []node
	for {
		t := p.peek()
		if t == nil {
			if close != "" {
				return nil, p.errAt(nil, "missing '"+close+"'")
			}
			return out, nil
		}
		if t.kind == tPunct && t.text == close {
			p.i++
			return out, nil
		}
		if t.kind == tString && inParens {
			p.i++
			n := node{pos: t.pos, val: t}
			if p.punct("=") {
				v := p.peek()
				if v == nil || v.kind != tString {
					return nil, p.errAt(v, "expected a quoted value after '='")
				}
				p.i++
				n.val2 = v
			}
			out = append(out, n)
			continue
		}
		if t.kind != tWord {
			return nil, p.errAt(t, "expected a field name, found "+strconv.Quote(t.text))
		}
		p.i++
		n := node{name: t.text, pos: t.pos}
		switch {
		case p.punct("="):
			v := p.peek()
			switch {
			case v == nil || v.kind == tPunct && v.text != "[":
				return nil, p.errAt(v, "expected a value after "+t.text+"=")
			case v.kind == tPunct:
				p.i++
				n.kind = '['
				for {
					e := p.peek()
					if e == nil {
						return nil, p.errAt(nil, "missing ']'")
					}
					p.i++
					if e.kind == tPunct && e.text == "]" {
						break
					}
					if e.kind == tPunct {
						return nil, p.errAt(e, "unexpected "+strconv.Quote(e.text)+" in a list")
					}
					n.list = append(n.list, *e)
				}
			default:
				p.i++
				n.kind, n.val = '=', v
			}
		case p.punct("{"):
			g, err := p.nodes("}", false)
			if err != nil {
				return nil, err
			}
			n.kind, n.group = '{', g
		case p.punct("("):
			a, err := p.nodes(")", true)
			if err != nil {
				return nil, err
			}
			n.kind, n.args = '(', a
		}
		out = append(out, n)
	}
}

// Parse reads one packet in the text notation produced by Format.
func Parse(s string) (Packet, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := parser{toks: toks, end: len(s)}
	head := p.peek()
	if head == nil || head.kind != tWord {
		return nil, p.errAt(head, "expected a packet type such as PUBLISH")
	}
	t, ok := TypeByName(head.text)
	if !ok {
		return nil, p.errAt(head, "unknown packet type "+strconv.Quote(head.text))
	}
	p.i++
	fields, err := p.nodes("", false)
	if err != nil {
		return nil, err
	}
	b := builder{}
	var pkt Packet
	switch t {
	case CONNECT:
		c := &Connect{ProtocolLevel: V311}
		pkt, err = c, b.connect(c, fields)
	case CONNACK:
		c := &Connack{}
		pkt, err = c, b.each(fields, func(n *node) error {
			switch n.name {
			case "session-present":
				return b.flag(n, &c.SessionPresent)
			case "ack-flags":
				return b.byteVal(n, &c.AckFlags)
			case "reason":
				return b.reason(n, &c.ReasonCode)
			case "props":
				return b.props(n, &c.Props)
			}
			return b.unknown(n, t)
		})
	case PUBLISH:
		c := &Publish{}
		pkt, err = c, b.each(fields, func(n *node) error {
			switch n.name {
			case "dup":
				return b.flag(n, &c.Dup)
			case "retain":
				return b.flag(n, &c.Retain)
			case "qos":
				return b.byteVal(n, &c.QoS)
			case "id":
				return b.u16(n, &c.PacketID)
			case "topic":
				return b.data(n, &c.Topic)
			case "payload":
				return b.data(n, &c.Payload)
			case "props":
				return b.props(n, &c.Props)
			}
			return b.unknown(n, t)
		})
	case PUBACK, PUBREC, PUBREL, PUBCOMP:
		c := &Ack{Kind: t}
		pkt, err = c, b.each(fields, func(n *node) error {
			switch n.name {
			case "id":
				return b.u16(n, &c.PacketID)
			case "reason":
				return b.reason(n, &c.ReasonCode)
			case "props":
				return b.props(n, &c.Props)
			}
			return b.unknown(n, t)
		})
	case SUBSCRIBE:
		c := &Subscribe{}
		pkt, err = c, b.each(fields, func(n *node) error {
			switch n.name {
			case "id":
				return b.u16(n, &c.PacketID)
			case "props":
				return b.props(n, &c.Props)
			case "sub":
				s, err := b.subscription(n)
				c.Subscriptions = append(c.Subscriptions, s)
				return err
			}
			return b.unknown(n, t)
		})
	case SUBACK, UNSUBACK:
		c := &Suback{Kind: t}
		pkt, err = c, b.each(fields, func(n *node) error {
			switch n.name {
			case "id":
				return b.u16(n, &c.PacketID)
			case "props":
				return b.props(n, &c.Props)
			case "reasons":
				if n.kind != '[' {
					return &ParseError{n.pos + 1, "reasons takes a list: reasons=[granted-qos-1 0x80]"}
				}
				c.ReasonCodes = []byte{}
				for _, e := range n.list {
					rc, err := reasonTok(&e)
					if err != nil {
						return err
					}
					c.ReasonCodes = append(c.ReasonCodes, byte(rc))
				}
				return nil
			}
			return b.unknown(n, t)
		})
	case UNSUBSCRIBE:
		c := &Unsubscribe{}
		pkt, err = c, b.each(fields, func(n *node) error {
			switch n.name {
			case "id":
				return b.u16(n, &c.PacketID)
			case "props":
				return b.props(n, &c.Props)
			case "filter":
				var f []byte
				err := b.data(n, &f)
				c.Filters = append(c.Filters, f)
				return err
			}
			return b.unknown(n, t)
		})
	case PINGREQ, PINGRESP:
		pkt, err = &Ping{Kind: t}, b.each(fields, func(n *node) error { return b.unknown(n, t) })
	case DISCONNECT:
		c := &Disconnect{}
		pkt, err = c, b.reasonProps(fields, t, &c.ReasonCode, &c.Props)
	case AUTH:
		c := &Auth{}
		pkt, err = c, b.reasonProps(fields, t, &c.ReasonCode, &c.Props)
	default:
		return nil, p.errAt(head, "packet type "+head.text+" has no notation")
	}
	if err != nil {
		return nil, err
	}
	return pkt, nil
}

// builder turns parsed fields into packet values.
type builder struct{}

func (builder) each(ns []node, f func(*node) error) error {
	for i := range ns {
		if err := f(&ns[i]); err != nil {
			return err
		}
	}
	return nil
}

func (builder) unknown(n *node, t Type) error {
	return &ParseError{n.pos + 1, "unknown field " + strconv.Quote(n.name) + " for " + t.String()}
}

func (builder) flag(n *node, dst *bool) error {
	if n.kind != 0 {
		return &ParseError{n.pos + 1, n.name + " is a flag and takes no value"}
	}
	*dst = true
	return nil
}

func (builder) number(n *node, max uint64) (uint64, error) {
	if n.kind != '=' || n.val.kind != tWord {
		return 0, &ParseError{n.pos + 1, n.name + " needs a number: " + n.name + "=N"}
	}
	v, err := strconv.ParseUint(n.val.text, 0, 64)
	if err != nil || v > max {
		return 0, &ParseError{n.val.pos + 1, n.name + ": " + strconv.Quote(n.val.text) + " is not a number in 0.." + strconv.FormatUint(max, 10)}
	}
	return v, nil
}

func (b builder) byteVal(n *node, dst *byte) error {
	v, err := b.number(n, 255)
	*dst = byte(v)
	return err
}

func (b builder) u16(n *node, dst *uint16) error {
	v, err := b.number(n, 65535)
	*dst = uint16(v)
	return err
}

func (b builder) u32(n *node, dst *uint32) error {
	v, err := b.number(n, 1<<32-1)
	*dst = uint32(v)
	return err
}

// data reads a quoted string or 0x-hex bytes.
func (builder) data(n *node, dst *[]byte) error {
	if n.kind != '=' {
		return &ParseError{n.pos + 1, n.name + " needs a value: " + n.name + "=\"...\" or " + n.name + "=0x..."}
	}
	v, err := dataTok(n.val)
	*dst = v
	return err
}

func dataTok(t *tok) ([]byte, error) {
	if t.kind == tString {
		return []byte(t.text), nil
	}
	if strings.HasPrefix(t.text, "0x") {
		b, err := hex.DecodeString(t.text[2:])
		if err == nil {
			return b, nil
		}
	}
	return nil, &ParseError{t.pos + 1, "expected a quoted string or 0x-hex bytes, found " + strconv.Quote(t.text)}
}

func reasonTok(t *tok) (ReasonCode, error) {
	if rc, ok := ReasonByName(t.text); ok && t.kind == tWord {
		return rc, nil
	}
	if v, err := strconv.ParseUint(t.text, 0, 8); err == nil && t.kind == tWord {
		return ReasonCode(v), nil
	}
	return 0, &ParseError{t.pos + 1, "unknown reason code " + strconv.Quote(t.text)}
}

func (builder) reason(n *node, dst *ReasonCode) error {
	if n.kind != '=' {
		return &ParseError{n.pos + 1, "reason needs a value: reason=NAME or reason=0x87"}
	}
	rc, err := reasonTok(n.val)
	*dst = rc
	return err
}

func (b builder) reasonProps(fields []node, t Type, rc *ReasonCode, props *Properties) error {
	return b.each(fields, func(n *node) error {
		switch n.name {
		case "reason":
			return b.reason(n, rc)
		case "props":
			return b.props(n, props)
		}
		return b.unknown(n, t)
	})
}

func (b builder) connect(c *Connect, fields []node) error {
	nameSet := false
	err := b.each(fields, func(n *node) error {
		switch n.name {
		case "v":
			if n.kind != '=' {
				return &ParseError{n.pos + 1, "v needs a version: v=3.1, v=3.1.1 or v=5.0"}
			}
			if v, ok := ParseVersion(n.val.text); ok {
				c.ProtocolLevel = v
				return nil
			}
			var lvl byte
			err := b.byteVal(n, &lvl)
			c.ProtocolLevel = Version(lvl)
			return err
		case "proto":
			nameSet = true
			return b.data(n, &c.ProtocolName)
		case "client-id":
			return b.data(n, &c.ClientID)
		case "clean":
			return b.flag(n, &c.CleanStart)
		case "reserved":
			return b.flag(n, &c.Reserved)
		case "keepalive":
			return b.u16(n, &c.KeepAlive)
		case "username":
			c.UsernameFlag = true
			return b.data(n, &c.Username)
		case "password":
			c.PasswordFlag = true
			return b.data(n, &c.Password)
		case "will-qos":
			return b.byteVal(n, &c.WillQoS)
		case "will-retain":
			return b.flag(n, &c.WillRetain)
		case "props":
			return b.props(n, &c.Props)
		case "will":
			if n.kind != '{' {
				return &ParseError{n.pos + 1, "will takes a group: will{topic=\"t\" payload=\"p\" qos=1 retain}"}
			}
			c.WillFlag = true
			return b.each(n.group, func(g *node) error {
				switch g.name {
				case "topic":
					return b.data(g, &c.WillTopic)
				case "payload":
					return b.data(g, &c.WillPayload)
				case "qos":
					return b.byteVal(g, &c.WillQoS)
				case "retain":
					return b.flag(g, &c.WillRetain)
				case "props":
					return b.props(g, &c.WillProps)
				}
				return &ParseError{g.pos + 1, "unknown will field " + strconv.Quote(g.name)}
			})
		}
		return b.unknown(n, CONNECT)
	})
	if !nameSet {
		c.ProtocolName = []byte("MQTT")
		if c.ProtocolLevel == V31 {
			c.ProtocolName = []byte("MQIsdp")
		}
	}
	if c.ClientID == nil {
		c.ClientID = []byte{}
	}
	return err
}

func (b builder) subscription(n *node) (Subscription, error) {
	var s Subscription
	if n.kind != '(' || len(n.args) == 0 || n.args[0].val == nil || n.args[0].val2 != nil {
		return s, &ParseError{n.pos + 1, "sub takes a filter and options: sub(\"a/#\" qos=1 no-local rap rh=2)"}
	}
	s.Filter = []byte(n.args[0].val.text)
	err := b.each(n.args[1:], func(a *node) error {
		switch a.name {
		case "qos":
			return b.byteVal(a, &s.QoS)
		case "no-local":
			return b.flag(a, &s.NoLocal)
		case "rap":
			return b.flag(a, &s.RetainAsPublished)
		case "rh":
			return b.byteVal(a, &s.RetainHandling)
		case "reserved":
			return b.byteVal(a, &s.Reserved)
		}
		return &ParseError{a.pos + 1, "unknown subscription option " + strconv.Quote(a.name)}
	})
	return s, err
}

func (b builder) props(n *node, p *Properties) error {
	if n.kind != '{' {
		return &ParseError{n.pos + 1, "props takes a group: props{message-expiry=10 user(\"k\"=\"v\")}"}
	}
	return b.each(n.group, func(g *node) error {
		if g.name == "user" {
			if g.kind != '(' || len(g.args) != 1 || g.args[0].val2 == nil {
				return &ParseError{g.pos + 1, "user takes one pair: user(\"key\"=\"value\")"}
			}
			p.User = append(p.User, UserProperty{Key: []byte(g.args[0].val.text), Value: []byte(g.args[0].val2.text)})
			return nil
		}
		pi, ok := PropByName(g.name)
		if !ok {
			return &ParseError{g.pos + 1, "unknown property " + strconv.Quote(g.name)}
		}
		if pi.ID == PropSubscriptionID {
			v, err := b.number(g, MaxRemaining)
			p.SubscriptionIDs = append(p.SubscriptionIDs, int(v))
			return err
		}
		p.Set(pi.ID)
		switch pi.Kind {
		case KindByte:
			return b.byteVal(g, p.byteField(pi.ID))
		case KindU16:
			return b.u16(g, p.u16Field(pi.ID))
		case KindU32:
			return b.u32(g, p.u32Field(pi.ID))
		}
		return b.data(g, p.bytesField(pi.ID))
	})
}
