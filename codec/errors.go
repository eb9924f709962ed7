package codec

import (
	"errors"
	"strconv"
	"strings"
)

// ErrShortBuffer means the buffer ends before the packet does: read more.
var ErrShortBuffer = errors.New("mqtt: incomplete packet")

// Error is a malformed packet or a protocol error. It names the normative
// statement the input breaks and, for MQTT 5.0, the reason code a receiver
// answers with (Malformed Packet or Protocol Error).
type Error struct {
	Rule   string     // statement ID such as "MQTT-3.3.1-4"; empty when the spec tags none
	Reason ReasonCode // MalformedPacket or ProtocolError (or a more specific 5.0 code)
	Type   Type       // packet being read or checked; 0 before the type is known
	Field  string     // what was wrong: "qos", "topic", "property 0x23", ...
	Offset int        // byte offset of the offending field from the packet's first byte
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Type != 0 {
		b.WriteString(e.Type.String())
		b.WriteByte(' ')
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Rule != "" {
		b.WriteString(" [")
		b.WriteString(e.Rule)
		b.WriteByte(']')
	}
	b.WriteString(" at byte ")
	b.WriteString(strconv.Itoa(e.Offset))
	if e.Reason != 0 {
		b.WriteString(" (")
		b.WriteString(e.Reason.String())
		b.WriteByte(')')
	}
	return b.String()
}

// rule picks the statement ID of the version being read: the same requirement
// carries different IDs in 3.1.1 and 5.0, and some exist in only one.
func rule(v Version, id311, id5 string) string {
	if v == V5 {
		return id5
	}
	return id311
}

// section names the part of the spec of version v that a rule without a
// statement ID comes from, as a suffix for the error message.
func section(v Version, s311, s5 string) string {
	return " (section " + rule(v, s311, s5) + ")"
}

func malformed(t Type, field string, off int, rule, msg string) *Error {
	return &Error{Rule: rule, Reason: MalformedPacket, Type: t, Field: field, Offset: off, Msg: msg}
}

func protocolErr(t Type, field string, off int, rule, msg string) *Error {
	return &Error{Rule: rule, Reason: ProtocolError, Type: t, Field: field, Offset: off, Msg: msg}
}

// AsError returns the *Error inside err, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
