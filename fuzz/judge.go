package fuzz

import (
	"errors"
	"strings"

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
	if bad := invalidAnswer(x, v); bad != nil {
		return bad
	}
	if off == nil || !x.probeAnswered() || turnedDown(x.answers, v) {
		return nil
	}
	return &verdict{kind: AcceptedInvalid, key: errKey(off.err), ptype: off.ptype, version: v,
		statements: knownStatements(v, off.err.Rule, closeRule(v)),
		detail:     "the broker went on after packet " + itoa(off.index+1) + " (" + off.ptype.String() + "): " + off.err.Error()}
}

// invalidAnswer decodes the broker's packets strictly, as a client reads
// them. When the session's CONNECT names no known level, a CONNACK of
// either 3.1.1 or 5.0 form is accepted: the broker cannot know which the
// client reads.
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
		if i == 0 && a[0]>>4 == byte(codec.CONNACK) && decodesAs(a, codec.V311, codec.V5) {
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

// summary is the normalized form of an exchange that two brokers must agree
// on: each answer's type and reason codes (deliveries only on the
// execution's own topics), and whether the broker read the whole session.
func summary(x *exchange, v codec.Version, prefix []byte) []string {
	d := codec.Decoder{Lenient: true, Version: v}
	out := make([]string, 0, len(x.answers)+1)
	for _, a := range x.answers {
		p, _, err := d.Decode(a)
		if err != nil {
			out = append(out, "invalid "+codec.Type(a[0]>>4).String())
			continue
		}
		out = append(out, answerItem(p, prefix)...)
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

func answerItem(p codec.Packet, prefix []byte) []string {
	t := p.Type().String()
	switch p := p.(type) {
	case *codec.Connack:
		return []string{t + " " + p.ReasonCode.Name(codec.CONNACK)}
	case *codec.Ack:
		return []string{t + " " + p.ReasonCode.Name(p.Kind)}
	case *codec.Suback:
		names := make([]string, len(p.ReasonCodes))
		for i, rc := range p.ReasonCodes {
			names[i] = codec.ReasonCode(rc).Name(p.Kind)
		}
		return []string{t + " [" + strings.Join(names, " ") + "]"}
	case *codec.Disconnect:
		return []string{t + " " + p.ReasonCode.Name(codec.DISCONNECT)}
	case *codec.Auth:
		return []string{t + " " + p.ReasonCode.Name(codec.AUTH)}
	case *codec.Publish:
		if !strings.Contains(string(p.Topic), string(prefix)) {
			return nil
		}
	}
	return []string{t}
}
