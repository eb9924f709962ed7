package codec

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Format renders p in the text notation, for example
//
//	PUBLISH qos=1 retain id=7 topic="a/b" props{message-expiry=10 user("k"="v")} payload="hi"
//
// Parse reads it back into an equal packet.
func Format(p Packet) string { return string(AppendText(nil, p)) }

// AppendText appends the notation of p to dst.
func AppendText(dst []byte, p Packet) []byte {
	w := textWriter{b: dst}
	switch p := p.(type) {
	case *Connect:
		w.connect(p)
	case *Connack:
		w.word("CONNACK")
		w.flag("session-present", p.SessionPresent)
		if p.AckFlags != 0 {
			w.hexNum("ack-flags", p.AckFlags)
		}
		w.reason(CONNACK, p.ReasonCode, true)
		w.props("props", &p.Props)
	case *Publish:
		w.word("PUBLISH")
		w.flag("dup", p.Dup)
		if p.QoS != 0 {
			w.num("qos", int(p.QoS))
		}
		w.flag("retain", p.Retain)
		if p.QoS != 0 || p.PacketID != 0 {
			w.num("id", int(p.PacketID))
		}
		w.str("topic", p.Topic)
		w.props("props", &p.Props)
		w.data("payload", p.Payload, false)
	case *Ack:
		w.word(p.Kind.String())
		w.num("id", int(p.PacketID))
		w.reason(p.Kind, p.ReasonCode, false)
		w.props("props", &p.Props)
	case *Subscribe:
		w.word("SUBSCRIBE")
		w.num("id", int(p.PacketID))
		w.props("props", &p.Props)
		for i := range p.Subscriptions {
			w.subscription(&p.Subscriptions[i])
		}
	case *Suback:
		w.word(p.Kind.String())
		w.num("id", int(p.PacketID))
		w.props("props", &p.Props)
		if p.ReasonCodes != nil {
			w.sep()
			w.b = append(w.b, "reasons=["...)
			for i, rc := range p.ReasonCodes {
				if i > 0 {
					w.b = append(w.b, ' ')
				}
				w.b = append(w.b, ReasonCode(rc).Name(p.Kind)...)
			}
			w.b = append(w.b, ']')
		}
	case *Unsubscribe:
		w.word("UNSUBSCRIBE")
		w.num("id", int(p.PacketID))
		w.props("props", &p.Props)
		for _, f := range p.Filters {
			w.str("filter", f)
		}
	case *Ping:
		w.word(p.Kind.String())
	case *Disconnect:
		w.word("DISCONNECT")
		w.reason(DISCONNECT, p.ReasonCode, false)
		w.props("props", &p.Props)
	case *Auth:
		w.word("AUTH")
		w.reason(AUTH, p.ReasonCode, false)
		w.props("props", &p.Props)
	}
	return w.b
}

type textWriter struct{ b []byte }

func (w *textWriter) sep() {
	if n := len(w.b); n > 0 && w.b[n-1] != '{' && w.b[n-1] != '(' {
		w.b = append(w.b, ' ')
	}
}

func (w *textWriter) word(s string) { w.sep(); w.b = append(w.b, s...) }

func (w *textWriter) flag(name string, on bool) {
	if on {
		w.word(name)
	}
}

func (w *textWriter) num(name string, v int) {
	w.word(name)
	w.b = append(w.b, '=')
	w.b = strconv.AppendInt(w.b, int64(v), 10)
}

func (w *textWriter) hexNum(name string, v byte) {
	w.word(name)
	w.b = append(w.b, "=0x"...)
	w.b = append(w.b, hexDigits[v>>4], hexDigits[v&15])
}

func (w *textWriter) str(name string, s []byte) {
	w.word(name)
	w.b = append(w.b, '=')
	w.b = appendQuoted(w.b, s)
}

// data writes bytes as a quoted string when they read as text and as 0x-hex
// otherwise; both forms parse back to the same bytes.
func (w *textWriter) data(name string, s []byte, always bool) {
	if len(s) == 0 && !always {
		return
	}
	w.word(name)
	w.b = append(w.b, '=')
	if b, ok := appendPlain(w.b, s); ok {
		w.b = b
		return
	}
	if isText(s) {
		w.b = strconv.AppendQuote(w.b, string(s))
		return
	}
	w.b = append(w.b, "0x"...)
	for _, c := range s {
		w.b = append(w.b, hexDigits[c>>4], hexDigits[c&15])
	}
}

// appendQuoted is strconv.AppendQuote(b, string(s)). Printable ASCII, which
// is what most topics and payloads are, comes out as it is but for a backslash
// before quotes and backslashes, so it is copied here without AppendQuote's
// string conversion and rune by rune walk.
func appendQuoted(b, s []byte) []byte {
	if q, ok := appendPlain(b, s); ok {
		return q
	}
	return strconv.AppendQuote(b, string(s))
}

// appendPlain appends s quoted if it is all printable ASCII, and reports
// whether it was; if not, what it returns is to be dropped.
func appendPlain(b, s []byte) ([]byte, bool) {
	b = append(b, '"')
	done := 0
	for i, c := range s {
		switch {
		case c < ' ' || c > '~':
			return b, false
		case c == '"' || c == '\\':
			b = append(b, s[done:i]...)
			b = append(b, '\\', c)
			done = i + 1
		}
	}
	b = append(b, s[done:]...)
	return append(b, '"'), true
}

// isText reports whether s is valid UTF-8 made of printable characters,
// newlines, tabs and carriage returns. ASCII is checked a byte at a time; the
// first non-ASCII byte hands the rest to the rune by rune check.
func isText(s []byte) bool {
	for i, c := range s {
		switch {
		case c >= utf8.RuneSelf:
			return isTextUTF8(s[i:])
		case c == 0x7f, c < ' ' && c != '\n' && c != '\t' && c != '\r':
			return false
		}
	}
	return true
}

func isTextUTF8(s []byte) bool {
	if !utf8.Valid(s) {
		return false
	}
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		if !unicode.IsPrint(r) && r != '\n' && r != '\t' && r != '\r' {
			return false
		}
		s = s[n:]
	}
	return true
}

func (w *textWriter) reason(t Type, rc ReasonCode, always bool) {
	if rc == 0 && !always {
		return
	}
	w.word("reason=")
	w.b = append(w.b, rc.Name(t)...)
}

func (w *textWriter) connect(p *Connect) {
	w.word("CONNECT")
	w.word("v=")
	switch p.ProtocolLevel {
	case V31, V311, V5:
		w.b = append(w.b, p.ProtocolLevel.String()...)
	default: // a level no version has: the raw number parses back
		w.b = strconv.AppendInt(w.b, int64(p.ProtocolLevel), 10)
	}
	std := "MQTT"
	if p.ProtocolLevel == V31 {
		std = "MQIsdp"
	}
	if string(p.ProtocolName) != std {
		w.str("proto", p.ProtocolName)
	}
	w.str("client-id", p.ClientID)
	w.flag("clean", p.CleanStart)
	w.num("keepalive", int(p.KeepAlive))
	w.flag("reserved", p.Reserved)
	if p.UsernameFlag {
		w.str("username", p.Username)
	}
	if p.PasswordFlag {
		w.data("password", p.Password, true)
	}
	if p.WillFlag {
		w.word("will{")
		w.str("topic", p.WillTopic)
		w.data("payload", p.WillPayload, true)
		if p.WillQoS != 0 {
			w.num("qos", int(p.WillQoS))
		}
		w.flag("retain", p.WillRetain)
		w.props("props", &p.WillProps)
		w.b = append(w.b, '}')
	} else {
		// Will QoS/Retain without the Will Flag: a malformed CONNECT that
		// scripts must still be able to write.
		if p.WillQoS != 0 {
			w.num("will-qos", int(p.WillQoS))
		}
		w.flag("will-retain", p.WillRetain)
	}
	w.props("props", &p.Props)
}

func (w *textWriter) subscription(s *Subscription) {
	w.word("sub(")
	w.b = appendQuoted(w.b, s.Filter)
	w.num("qos", int(s.QoS))
	w.flag("no-local", s.NoLocal)
	w.flag("rap", s.RetainAsPublished)
	if s.RetainHandling != 0 {
		w.num("rh", int(s.RetainHandling))
	}
	if s.Reserved != 0 {
		w.hexNum("reserved", s.Reserved)
	}
	w.b = append(w.b, ')')
}

func (w *textWriter) props(name string, p *Properties) {
	if p.Empty() {
		return
	}
	w.word(name)
	w.b = append(w.b, '{')
	for i := range propTable {
		pi := &propTable[i]
		switch pi.ID {
		case PropUser:
			for _, u := range p.User {
				w.word("user(")
				w.b = appendQuoted(w.b, u.Key)
				w.b = append(w.b, '=')
				w.b = appendQuoted(w.b, u.Value)
				w.b = append(w.b, ')')
			}
			continue
		case PropSubscriptionID:
			for _, id := range p.SubscriptionIDs {
				w.num(pi.Name, id)
			}
			continue
		}
		if p.present&pi.bit == 0 {
			continue
		}
		switch pi.Kind {
		case KindByte:
			w.num(pi.Name, int(*p.byteField(pi.ID)))
		case KindU16:
			w.num(pi.Name, int(*p.u16Field(pi.ID)))
		case KindU32:
			w.num(pi.Name, int(*p.u32Field(pi.ID)))
		case KindString:
			w.str(pi.Name, *p.bytesField(pi.ID))
		case KindBinary:
			w.data(pi.Name, *p.bytesField(pi.ID), true)
		}
	}
	w.b = append(w.b, '}')
}
