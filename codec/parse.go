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

// Token is one lexical element of the notation.
type Token struct {
	Kind tokKind
	Text string // word, punctuation, or the unquoted string
	Pos  int    // 0-based byte offset in the input
}

// StringToken builds a quoted-string token, for code that fills in patterns.
func StringToken(s string) Token { return Token{Kind: tString, Text: s} }

// WordToken builds an unquoted word token (a number, name or hex bytes).
func WordToken(s string) Token { return Token{Kind: tWord, Text: s} }

// IsString reports a quoted string token (Text is unquoted).
func (t *Token) IsString() bool { return t.Kind == tString }

func lex(s string) ([]Token, error) {
	var out []Token
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
			out = append(out, Token{tString, u, i})
			i += len(q)
		case strings.IndexByte("={}()[]", c) >= 0:
			out = append(out, Token{tPunct, s[i : i+1], i})
			i++
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			out = append(out, Token{tWord, s[i:j], i})
			i = j
		default:
			return nil, &ParseError{i + 1, "unexpected character " + strconv.QuoteRune(rune(c))}
		}
	}
	return out, nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '$' || c == '*' || c == '!' || c == '|'
}

// Field is one element of the notation: name, name=value, name=[...],
// name{...} or name(...). Tools that match packets against patterns walk
// this tree instead of re-parsing the text.
type Field struct {
	Name  string
	Pos   int
	Val   *Token  // name=value, or a bare string inside (...)
	Val2  *Token  // the value of a "k"="v" pair inside (...)
	List  []Token // name=[...]
	Group []Field // name{...}
	Args  []Field // name(...)
	Kind  byte    // '=', '{', '(', '[' or 0 for a bare word
}

type parser struct {
	toks []Token
	i    int
	end  int // position reported at end of input
}

func (p *parser) peek() *Token {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *parser) errAt(t *Token, msg string) error {
	if t == nil {
		return &ParseError{p.end + 1, msg + " at end of input"}
	}
	return &ParseError{t.Pos + 1, msg}
}

func (p *parser) punct(s string) bool {
	if t := p.peek(); t != nil && t.Kind == tPunct && t.Text == s {
		p.i++
		return true
	}
	return false
}

// nodes parses fields until the closing punctuation close ("" = end of input).
func (p *parser) nodes(close string, inParens bool) ([]Field, error) {
	var out []Field
	for {
		t := p.peek()
		if t == nil {
			if close != "" {
				return nil, p.errAt(nil, "missing '"+close+"'")
			}
			return out, nil
		}
		if t.Kind == tPunct && t.Text == close {
			p.i++
			return out, nil
		}
		if t.Kind == tString && inParens {
			p.i++
			n := Field{Pos: t.Pos, Val: t}
			if p.punct("=") {
				v := p.peek()
				if v == nil || v.Kind != tString {
					return nil, p.errAt(v, "expected a quoted value after '='")
				}
				p.i++
				n.Val2 = v
			}
			out = append(out, n)
			continue
		}
		if t.Kind != tWord {
			return nil, p.errAt(t, "expected a field name, found "+strconv.Quote(t.Text))
		}
		p.i++
		n := Field{Name: t.Text, Pos: t.Pos}
		switch {
		case p.punct("="):
			v := p.peek()
			switch {
			case v == nil || v.Kind == tPunct && v.Text != "[":
				return nil, p.errAt(v, "expected a value after "+t.Text+"=")
			case v.Kind == tPunct:
				p.i++
				n.Kind = '['
				for {
					e := p.peek()
					if e == nil {
						return nil, p.errAt(nil, "missing ']'")
					}
					p.i++
					if e.Kind == tPunct && e.Text == "]" {
						break
					}
					if e.Kind == tPunct {
						return nil, p.errAt(e, "unexpected "+strconv.Quote(e.Text)+" in a list")
					}
					n.List = append(n.List, *e)
				}
			default:
				p.i++
				n.Kind, n.Val = '=', v
			}
		case p.punct("{"):
			g, err := p.nodes("}", false)
			if err != nil {
				return nil, err
			}
			n.Kind, n.Group = '{', g
		case p.punct("("):
			a, err := p.nodes(")", true)
			if err != nil {
				return nil, err
			}
			n.Kind, n.Args = '(', a
		}
		out = append(out, n)
	}
}

// ParseFields splits a line of notation into its leading word (normally the
// packet type) and the field tree that follows, without interpreting them.
func ParseFields(s string) (Token, []Field, error) {
	toks, err := lex(s)
	if err != nil {
		return Token{}, nil, err
	}
	p := parser{toks: toks, end: len(s)}
	head := p.peek()
	if head == nil || head.Kind != tWord {
		return Token{}, nil, p.errAt(head, "expected a packet type such as PUBLISH")
	}
	p.i++
	fields, err := p.nodes("", false)
	return *head, fields, err
}

// Parse reads one packet in the text notation produced by Format.
func Parse(s string) (Packet, error) {
	h, fields, err := ParseFields(s)
	if err != nil {
		return nil, err
	}
	head := &h
	t, ok := TypeByName(head.Text)
	if !ok {
		return nil, &ParseError{head.Pos + 1, "unknown packet type " + strconv.Quote(head.Text)}
	}
	b := builder{}
	var pkt Packet
	switch t {
	case CONNECT:
		c := &Connect{ProtocolLevel: V311}
		pkt, err = c, b.connect(c, fields)
	case CONNACK:
		c := &Connack{}
		pkt, err = c, b.each(fields, func(n *Field) error {
			switch n.Name {
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
		pkt, err = c, b.each(fields, func(n *Field) error {
			switch n.Name {
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
		pkt, err = c, b.each(fields, func(n *Field) error {
			switch n.Name {
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
		pkt, err = c, b.each(fields, func(n *Field) error {
			switch n.Name {
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
		pkt, err = c, b.each(fields, func(n *Field) error {
			switch n.Name {
			case "id":
				return b.u16(n, &c.PacketID)
			case "props":
				return b.props(n, &c.Props)
			case "reasons":
				if n.Kind != '[' {
					return &ParseError{n.Pos + 1, "reasons takes a list: reasons=[granted-qos-1 0x80]"}
				}
				c.ReasonCodes = []byte{}
				for _, e := range n.List {
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
		pkt, err = c, b.each(fields, func(n *Field) error {
			switch n.Name {
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
		pkt, err = &Ping{Kind: t}, b.each(fields, func(n *Field) error { return b.unknown(n, t) })
	case DISCONNECT:
		c := &Disconnect{}
		pkt, err = c, b.reasonProps(fields, t, &c.ReasonCode, &c.Props)
	case AUTH:
		c := &Auth{}
		pkt, err = c, b.reasonProps(fields, t, &c.ReasonCode, &c.Props)
	default:
		return nil, &ParseError{head.Pos + 1, "packet type " + head.Text + " has no notation"}
	}
	if err != nil {
		return nil, err
	}
	return pkt, nil
}

// builder turns parsed fields into packet values.
type builder struct{}

func (builder) each(ns []Field, f func(*Field) error) error {
	for i := range ns {
		if err := f(&ns[i]); err != nil {
			return err
		}
	}
	return nil
}

func (builder) unknown(n *Field, t Type) error {
	return &ParseError{n.Pos + 1, "unknown field " + strconv.Quote(n.Name) + " for " + t.String()}
}

func (builder) flag(n *Field, dst *bool) error {
	if n.Kind != 0 {
		return &ParseError{n.Pos + 1, n.Name + " is a flag and takes no value"}
	}
	*dst = true
	return nil
}

func (builder) number(n *Field, max uint64) (uint64, error) {
	if n.Kind != '=' || n.Val.Kind != tWord {
		return 0, &ParseError{n.Pos + 1, n.Name + " needs a number: " + n.Name + "=N"}
	}
	v, err := strconv.ParseUint(n.Val.Text, 0, 64)
	if err != nil || v > max {
		return 0, &ParseError{n.Val.Pos + 1, n.Name + ": " + strconv.Quote(n.Val.Text) + " is not a number in 0.." + strconv.FormatUint(max, 10)}
	}
	return v, nil
}

func (b builder) byteVal(n *Field, dst *byte) error {
	v, err := b.number(n, 255)
	*dst = byte(v)
	return err
}

func (b builder) u16(n *Field, dst *uint16) error {
	v, err := b.number(n, 65535)
	*dst = uint16(v)
	return err
}

func (b builder) u32(n *Field, dst *uint32) error {
	v, err := b.number(n, 1<<32-1)
	*dst = uint32(v)
	return err
}

// data reads a quoted string or 0x-hex bytes.
func (builder) data(n *Field, dst *[]byte) error {
	if n.Kind != '=' {
		return &ParseError{n.Pos + 1, n.Name + " needs a value: " + n.Name + "=\"...\" or " + n.Name + "=0x..."}
	}
	v, err := dataTok(n.Val)
	*dst = v
	return err
}

// TokenBytes reads a token as bytes: a quoted string or 0x-hex.
func TokenBytes(t *Token) ([]byte, error) { return dataTok(t) }

func dataTok(t *Token) ([]byte, error) {
	if t.Kind == tString {
		return []byte(t.Text), nil
	}
	if strings.HasPrefix(t.Text, "0x") {
		b, err := hex.DecodeString(t.Text[2:])
		if err == nil {
			return b, nil
		}
	}
	return nil, &ParseError{t.Pos + 1, "expected a quoted string or 0x-hex bytes, found " + strconv.Quote(t.Text)}
}

// TokenReason reads a token as a reason code: a name or a number.
func TokenReason(t *Token) (ReasonCode, error) { return reasonTok(t) }

func reasonTok(t *Token) (ReasonCode, error) {
	if rc, ok := ReasonByName(t.Text); ok && t.Kind == tWord {
		return rc, nil
	}
	if v, err := strconv.ParseUint(t.Text, 0, 8); err == nil && t.Kind == tWord {
		return ReasonCode(v), nil
	}
	return 0, &ParseError{t.Pos + 1, "unknown reason code " + strconv.Quote(t.Text)}
}

func (builder) reason(n *Field, dst *ReasonCode) error {
	if n.Kind != '=' {
		return &ParseError{n.Pos + 1, "reason needs a value: reason=NAME or reason=0x87"}
	}
	rc, err := reasonTok(n.Val)
	*dst = rc
	return err
}

func (b builder) reasonProps(fields []Field, t Type, rc *ReasonCode, props *Properties) error {
	return b.each(fields, func(n *Field) error {
		switch n.Name {
		case "reason":
			return b.reason(n, rc)
		case "props":
			return b.props(n, props)
		}
		return b.unknown(n, t)
	})
}

func (b builder) connect(c *Connect, fields []Field) error {
	nameSet := false
	err := b.each(fields, func(n *Field) error {
		switch n.Name {
		case "v":
			if n.Kind != '=' {
				return &ParseError{n.Pos + 1, "v needs a version: v=3.1, v=3.1.1 or v=5.0"}
			}
			if v, ok := ParseVersion(n.Val.Text); ok {
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
			if n.Kind != '{' {
				return &ParseError{n.Pos + 1, "will takes a group: will{topic=\"t\" payload=\"p\" qos=1 retain}"}
			}
			c.WillFlag = true
			return b.each(n.Group, func(g *Field) error {
				switch g.Name {
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
				return &ParseError{g.Pos + 1, "unknown will field " + strconv.Quote(g.Name)}
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

func (b builder) subscription(n *Field) (Subscription, error) {
	var s Subscription
	if n.Kind != '(' || len(n.Args) == 0 || n.Args[0].Val == nil || n.Args[0].Val2 != nil {
		return s, &ParseError{n.Pos + 1, "sub takes a filter and options: sub(\"a/#\" qos=1 no-local rap rh=2)"}
	}
	s.Filter = []byte(n.Args[0].Val.Text)
	err := b.each(n.Args[1:], func(a *Field) error {
		switch a.Name {
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
		return &ParseError{a.Pos + 1, "unknown subscription option " + strconv.Quote(a.Name)}
	})
	return s, err
}

func (b builder) props(n *Field, p *Properties) error {
	if n.Kind != '{' {
		return &ParseError{n.Pos + 1, "props takes a group: props{message-expiry=10 user(\"k\"=\"v\")}"}
	}
	return b.each(n.Group, func(g *Field) error {
		if g.Name == "user" {
			if g.Kind != '(' || len(g.Args) != 1 || g.Args[0].Val2 == nil {
				return &ParseError{g.Pos + 1, "user takes one pair: user(\"key\"=\"value\")"}
			}
			p.User = append(p.User, UserProperty{Key: []byte(g.Args[0].Val.Text), Value: []byte(g.Args[0].Val2.Text)})
			return nil
		}
		pi, ok := PropByName(g.Name)
		if !ok {
			return &ParseError{g.Pos + 1, "unknown property " + strconv.Quote(g.Name)}
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
