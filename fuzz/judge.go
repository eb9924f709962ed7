package fuzz

import (
	"errors"
	"strings"
	"unicode/utf8"

	"mqttspec/codec"
	"mqttspec/conformance"
)

// Kind is the class of a finding.
type Kind string

const (
	// Crash: the broker stopped accepting connections, or its process exited.
	Crash Kind = "crash"
	// Hang: the broker accepts connections but no longer answers them.
	Hang Kind = "hang"
	// AcceptedInvalid: the broker read a malformed packet or a protocol
	// error and went on as if nothing happened.
	AcceptedInvalid Kind = "accepted-invalid"
	// InvalidAnswer: the broker sent a packet the codec rejects.
	InvalidAnswer Kind = "invalid-answer"
	// Divergence: the reference broker answers the same session differently.
	Divergence Kind = "divergence"
)

// verdict is what one execution found, before deduplication.
type verdict struct {
	kind   Kind
	key    string     // the statement ID, else the field at fault, else the difference
	ptype  codec.Type // the packet at fault
	detail string
	// statements are the IDs of the requirements involved, as the spec of
	// version names them.
	statements []string
	version    codec.Version
}

// signature identifies a finding for deduplication: kind, statement (or
// field) and packet type.
func (v *verdict) signature() string {
	return string(v.kind) + "|" + v.key + "|" + v.ptype.String()
}

// offence is the first packet of a session a conforming broker must not
// accept: malformed, a protocol error, or out of order.
type offence struct {
	index int // packet number in the stream, from 0
	ptype codec.Type
	err   *codec.Error
}

// firstOffence decodes the stream strictly, as a broker reads what a client
// sends, and returns the first packet the codec rejects, or nil. Reading
// stops at a DISCONNECT (a broker closes there) and at an incomplete packet.
func firstOffence(stream []byte) *offence {
	d := codec.Decoder{From: codec.FromClient}
	for off, i := 0, 0; off < len(stream); i++ {
		p, n, err := d.Decode(stream[off:])
		if errors.Is(err, codec.ErrShortBuffer) {
			return nil
		}
		t := codec.Type(stream[off] >> 4)
		if err != nil {
			e, ok := codec.AsError(err)
			if !ok {
				e = &codec.Error{Type: t, Msg: err.Error()}
			}
			return &offence{index: i, ptype: t, err: e}
		}
		switch {
		case i == 0 && t != codec.CONNECT:
			return &offence{index: i, ptype: t, err: &codec.Error{Rule: "MQTT-3.1.0-1", Reason: codec.ProtocolError, Type: t,
				Field: "packet type", Msg: "the first packet is " + t.String() + ", not CONNECT"}}
		case i > 0 && t == codec.CONNECT:
			return &offence{index: i, ptype: t, err: &codec.Error{Rule: "MQTT-3.1.0-2", Reason: codec.ProtocolError, Type: t,
				Field: "packet type", Msg: "a second CONNECT on the connection"}}
		case p.Type() == codec.DISCONNECT:
			return nil
		}
		off += n
	}
	return nil
}

// closeRule is the statement that makes a broker close the connection on a
// malformed packet or protocol error.
func closeRule(v codec.Version) string {
	if v == codec.V5 {
		return "MQTT-4.13.1-1"
	}
	return "MQTT-4.8.0-1"
}

// knownStatements keeps the IDs that the spec of version v has.
func knownStatements(v codec.Version, ids ...string) []string {
	if v == codec.V31 {
		v = codec.V311
	}
	known := map[string]bool{}
	for _, s := range conformance.Statements(v) {
		known[s.ID] = true
	}
	var out []string
	for _, id := range ids {
		if id != "" && known[id] && !contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func errKey(e *codec.Error) string {
	if e.Rule != "" {
		return e.Rule
	}
	return e.Field
}

// judge looks at one exchange for the two findings the codec alone can
// establish: an invalid answer, and an offending packet the broker read
// without closing the connection or refusing it.
func judge(x *exchange, off *offence, v codec.Version) *verdict {
	if x.dialErr != nil {
		return nil
	}
	if bad := invalidAnswer(x, answerVersion(x, v)); bad != nil {
		return bad
	}
	// MQTT 3.1 states no requirement on what a receiver does with a bad
	// packet, and the codec's rules are 3.1.1's: a 3.1 broker that reads on
	// breaks no statement.
	if off == nil || v == codec.V31 || !x.probeAnswered() || turnedDown(x.answers, v) {
		return nil
	}
	return &verdict{kind: AcceptedInvalid, key: errKey(off.err), ptype: off.ptype, version: v,
		statements: knownStatements(v, off.err.Rule, closeRule(v)),
		detail:     "the broker went on after packet " + itoa(off.index+1) + " (" + off.ptype.String() + "): " + off.err.Error()}
}

// answerVersion is the version the broker's answers are read in: the
// session's, unless its CONNECT names no known protocol (name and level);
// then the broker may answer in either form (it may go on "in accordance
// with some other specification", MQTT-3.1.2-1; mosquitto reads levels
// 0x83-0x85 as a bridge's 3.1, 3.1.1 and 5.0) and the first CONNACK tells
// which it chose.
func answerVersion(x *exchange, v codec.Version) codec.Version {
	if knownProtocol(x.sent) || len(x.answers) == 0 {
		return v
	}
	a := x.answers[0]
	switch {
	case a[0]>>4 != byte(codec.CONNACK):
		return v
	case decodesAs(a, codec.V311):
		return codec.V311
	case decodesAs(a, codec.V5):
		return codec.V5
	}
	return v
}

// invalidAnswer decodes the broker's packets strictly, as a client reads
// them.
func invalidAnswer(x *exchange, v codec.Version) *verdict {
	if x.badFrame != nil {
		return &verdict{kind: InvalidAnswer, key: "framing", version: v, detail: "the broker's bytes cannot be framed: " + x.badFrame.Error()}
	}
	d := codec.Decoder{From: codec.FromServer, Version: v}
	for i, a := range x.answers {
		_, _, err := d.Decode(a)
		if err == nil {
			continue
		}
		e, ok := codec.AsError(err)
		if !ok {
			e = &codec.Error{Type: codec.Type(a[0] >> 4), Msg: err.Error()}
		}
		return &verdict{kind: InvalidAnswer, key: errKey(e), ptype: codec.Type(a[0] >> 4), version: v,
			statements: knownStatements(v, e.Rule),
			detail:     "answer " + itoa(i+1) + " is invalid: " + e.Error()}
	}
	return nil
}

func decodesAs(a []byte, vs ...codec.Version) bool {
	for _, v := range vs {
		d := codec.Decoder{From: codec.FromServer, Version: v}
		if _, _, err := d.Decode(a); err == nil {
			return true
		}
	}
	return false
}

// turnedDown reports an answer that turns something down: a refusing CONNACK,
// a server DISCONNECT, or an acknowledgement with a failure reason code. A
// broker may refuse a bad packet that way instead of closing.
func turnedDown(answers [][]byte, v codec.Version) bool {
	d := codec.Decoder{Lenient: true, Version: v}
	for _, a := range answers {
		p, _, err := d.Decode(a)
		if err != nil {
			continue
		}
		switch p := p.(type) {
		case *codec.Connack:
			if p.ReasonCode != 0 {
				return true
			}
		case *codec.Disconnect:
			return true
		case *codec.Ack:
			if p.ReasonCode >= 0x80 {
				return true
			}
		case *codec.Suback:
			for _, rc := range p.ReasonCodes {
				if rc >= 0x80 {
					return true
				}
			}
		}
	}
	return false
}

// summary is the normalized form of an exchange that two conforming
// brokers must agree on: each answer's type and whether it grants or
// refuses (the failure reason codes the spec leaves to the broker, 0x10 "no
// matching subscribers" and the like are not compared), the QoS a SUBACK
// grants, and how the exchange ended. Left out: deliveries, which a broker
// may make before or after the acknowledgement, so that a connection the
// client closes may or may not see them; a server DISCONNECT (closing is
// the requirement, the DISCONNECT before it a SHOULD); and the reason code
// of the PUBREL and PUBCOMP that answer an unknown packet identifier, which
// only informs.
func summary(x *exchange, v codec.Version) []string {
	d := codec.Decoder{Lenient: true, Version: answerVersion(x, v)}
	out := make([]string, 0, len(x.answers)+1)
	for _, a := range x.answers {
		p, _, err := d.Decode(a)
		switch {
		case err != nil:
			out = append(out, "invalid "+codec.Type(a[0]>>4).String())
		case p.Type() != codec.PUBLISH && p.Type() != codec.DISCONNECT:
			out = append(out, answerItem(p))
		}
	}
	switch {
	case x.probeAnswered():
		out = append(out, "end: read everything")
	case x.closed:
		out = append(out, "end: closed")
	default:
		out = append(out, "end: no answer")
	}
	return out
}

func answerItem(p codec.Packet) string {
	t := p.Type().String()
	outcome := func(rc codec.ReasonCode) string {
		if rc >= 0x80 {
			return t + " refused"
		}
		return t + " ok"
	}
	switch p := p.(type) {
	case *codec.Connack:
		if p.ReasonCode != 0 {
			return t + " refused"
		}
		return t + " ok"
	case *codec.Ack:
		if p.Kind == codec.PUBREL || p.Kind == codec.PUBCOMP {
			return t
		}
		return outcome(p.ReasonCode)
	case *codec.Suback:
		codes := make([]string, len(p.ReasonCodes))
		for i, rc := range p.ReasonCodes {
			switch {
			case rc >= 0x80:
				codes[i] = "refused"
			case p.Kind == codec.SUBACK:
				codes[i] = codec.ReasonCode(rc).Name(p.Kind)
			default:
				codes[i] = "ok"
			}
		}
		return t + " [" + strings.Join(codes, " ") + "]"
	case *codec.Auth:
		return t + " " + p.ReasonCode.Name(codec.AUTH)
	}
	return t
}

// discretionary reports a session whose handling the spec leaves to the
// broker, so that two conforming brokers may answer it differently: text
// with control characters or non-characters (a receiver MAY close, 1.5.3 in
// 3.1.1, 1.5.4 in 5.0), client identifiers beyond the 23 letters and
// digits every server accepts (MQTT-3.1.3-5), topics and filters starting
// with '$' (4.7.2), an empty client identifier (MQTT-3.1.3-6), a UTF-8
// payload format indicator on a payload that is
// not UTF-8 (3.3.2.3.2), and authentication methods (each broker has its
// own).
func discretionary(stream []byte) bool {
	d := codec.Decoder{Lenient: true}
	for off := 0; off < len(stream); {
		p, n, err := d.Decode(stream[off:])
		if err != nil {
			return false
		}
		off += n
		if mayRefuse(p) {
			return true
		}
	}
	return false
}

func mayRefuse(p codec.Packet) bool {
	var texts [][]byte
	var props []*codec.Properties
	switch p := p.(type) {
	case *codec.Connect:
		if len(p.ClientID) == 0 || len(p.ClientID) > 23 || strings.Trim(string(p.ClientID), alnum) != "" || p.Props.Has(codec.PropAuthMethod) {
			return true
		}
		texts = append(texts, p.WillTopic, p.Username)
		props = append(props, &p.Props, &p.WillProps)
		if len(p.WillTopic) > 0 && p.WillTopic[0] == '$' {
			return true
		}
	case *codec.Publish:
		if len(p.Topic) > 0 && p.Topic[0] == '$' || p.Props.PayloadFormat == 1 && !utf8.Valid(p.Payload) {
			return true
		}
		texts = append(texts, p.Topic)
		props = append(props, &p.Props)
	case *codec.Subscribe:
		for _, s := range p.Subscriptions {
			if len(s.Filter) > 0 && s.Filter[0] == '$' {
				return true
			}
			texts = append(texts, s.Filter)
		}
		props = append(props, &p.Props)
	case *codec.Unsubscribe:
		texts = append(texts, p.Filters...)
		props = append(props, &p.Props)
	case *codec.Ack:
		props = append(props, &p.Props)
	case *codec.Disconnect:
		props = append(props, &p.Props)
	case *codec.Auth:
		return true
	}
	for _, pr := range props {
		texts = append(texts, pr.ContentType, pr.ResponseTopic, pr.ReasonString)
		for _, u := range pr.User {
			texts = append(texts, u.Key, u.Value)
		}
	}
	for _, t := range texts {
		if unusualText(t) {
			return true
		}
	}
	return false
}

const alnum = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// unusualText reports the code points the spec lets a receiver refuse:
// control characters and non-characters.
func unusualText(s []byte) bool {
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		s = s[n:]
		if r <= 0x1F || r >= 0x7F && r <= 0x9F || r >= 0xFDD0 && r <= 0xFDEF || r&0xFFFE == 0xFFFE {
			return true
		}
	}
	return false
}

// knownProtocol reports a session whose first CONNECT names a protocol
// name and level pair of MQTT 3.1, 3.1.1 or 5.0.
func knownProtocol(stream []byte) bool {
	d := codec.Decoder{Lenient: true}
	p, _, err := d.Decode(stream)
	if err != nil || p.Type() != codec.CONNECT {
		return false
	}
	c := p.(*codec.Connect)
	switch string(c.ProtocolName) {
	case "MQIsdp":
		return c.ProtocolLevel == codec.V31
	case "MQTT":
		return c.ProtocolLevel == codec.V311 || c.ProtocolLevel == codec.V5
	}
	return false
}
