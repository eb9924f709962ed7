package broker

import (
	"errors"
	"unicode/utf8"

	"mqttspec/codec"
)

// ErrClosed is returned by Serve and ServeConn once the broker is closed.
var ErrClosed = errors.New("broker: closed")

// closeError ends a connection for a reason the broker detected. Before the CONNECT is accepted
// it is answered with a CONNACK carrying the reason (5.0) or the matching return code (3.1.1,
// where one exists); after, a 5.0 client gets a DISCONNECT with it and a 3.1.1 client a close.
type closeError struct {
	reason codec.ReasonCode // the 5.0 reason code; 0 sends nothing
	rule   string           // the statement the client broke, if the spec tags one
	msg    string
}

func (e *closeError) Error() string {
	s := e.msg
	if e.rule != "" {
		s += " [" + e.rule + "]"
	}
	if e.reason != 0 {
		s += " (" + e.reason.String() + ")"
	}
	return s
}

func protocolError(rule, msg string) *closeError {
	return &closeError{reason: codec.ProtocolError, rule: rule, msg: msg}
}

// fromCodec turns a decoding error into the close it calls for.
func fromCodec(e *codec.Error) *closeError {
	ce := &closeError{reason: e.Reason, rule: e.Rule, msg: e.Error()}
	if e.Rule == "MQTT-3.3.2-8" {
		// Section 3.3.2.3.4 names Topic Alias invalid for a Topic Alias of 0.
		ce.reason = codec.TopicAliasInvalid
	}
	return ce
}

// connackCodeV3 maps a 5.0 CONNACK reason code to the 3.1.1 return code with the same meaning;
// ok is false when 3.1.1 has none and the connection is closed without a CONNACK.
func connackCodeV3(rc codec.ReasonCode) (codec.ReasonCode, bool) {
	switch rc {
	case codec.UnsupportedProtocolVersion:
		return codec.RefusedProtocolVersion, true
	case codec.ClientIdentifierNotValid:
		return codec.RefusedIdentifierRejected, true
	case codec.ServerUnavailable, codec.ServerBusy:
		return codec.RefusedServerUnavailable, true
	case codec.BadUserNameOrPassword:
		return codec.RefusedBadUserNameOrPasswd, true
	case codec.NotAuthorized, codec.Banned:
		return codec.RefusedNotAuthorized, true
	}
	return 0, false
}

// setReasonString adds a Reason String; the connection drops it again where the client did not
// ask for problem information or its Maximum Packet Size leaves no room.
func setReasonString(p *codec.Properties, s string) {
	p.ReasonString = []byte(truncateUTF8(s, maxReasonString))
	p.Set(codec.PropReasonString)
}

// maxReasonString bounds a Reason String: it may quote what the client sent
// (a 65,535-byte authentication method, say), and must still fit its
// two-byte length prefix.
const maxReasonString = 1024

// truncateUTF8 shortens s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// disconnected is how the read loop ends when the client sends DISCONNECT.
type disconnected struct {
	reason codec.ReasonCode
}

func (d *disconnected) Error() string {
	return "client sent DISCONNECT " + d.reason.Name(codec.DISCONNECT)
}

// errClosing ends the read loop when another goroutine closed the connection (take-over,
// shutdown, write failure).
var errClosing = errors.New("connection closed by the broker")
