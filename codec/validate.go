package codec

import "bytes"

func hasWildcard(s []byte) bool { return !hasNoWildcard(s) }

// isShared reports a 5.0 shared subscription filter ("$share/...").
func isShared(f []byte) bool { return bytes.HasPrefix(f, []byte("$share/")) }

// CheckTopicName checks a PUBLISH or Will topic (UTF-8 rules are checked
// when the string is read).
func CheckTopicName(s []byte, v Version) error {
	if e := checkTopicName(s, v); e != nil {
		return e
	}
	return nil
}

func checkTopicName(s []byte, v Version) *Error {
	if len(s) == 0 {
		return protocolErr(0, "", 0, "MQTT-4.7.3-1", "empty topic name")
	}
	if hasNoWildcard(s) {
		return nil
	}
	for i, c := range s {
		if c == '+' || c == '#' {
			return &Error{Rule: "MQTT-3.3.2-2", Reason: TopicNameInvalid, Offset: i, Msg: "wildcard '" + string(c) + "' in a topic name"}
		}
	}
	return nil
}

// CheckTopicFilter checks the wildcard syntax of a SUBSCRIBE or UNSUBSCRIBE
// topic filter, and for 5.0 the form of a shared subscription.
func CheckTopicFilter(s []byte, v Version) error {
	if e := checkTopicFilter(s, v); e != nil {
		return e
	}
	return nil
}

func checkTopicFilter(s []byte, v Version) *Error {
	if len(s) == 0 {
		return protocolErr(0, "", 0, "MQTT-4.7.3-1", "empty topic filter")
	}
	off := 0
	if v == V5 && isShared(s) {
		rest := s[len("$share/"):]
		slash := bytes.IndexByte(rest, '/')
		name := rest
		if slash >= 0 {
			name = rest[:slash]
		}
		if len(name) == 0 {
			return &Error{Rule: rule(v, "", "MQTT-4.8.2-1"), Reason: TopicFilterInvalid, Offset: len("$share/"),
				Msg: "empty share name"}
		}
		if i := bytes.IndexAny(name, "+#"); i >= 0 {
			return &Error{Rule: rule(v, "", "MQTT-4.8.2-2"), Reason: TopicFilterInvalid, Offset: len("$share/") + i,
				Msg: "share name contains a wildcard"}
		}
		if slash < 0 || slash == len(rest)-1 {
			return &Error{Rule: rule(v, "", "MQTT-4.8.2-2"), Reason: TopicFilterInvalid, Offset: len(s),
				Msg: "shared subscription has no topic filter after the share name"}
		}
		off = len("$share/") + slash + 1
	}
	f := s[off:]
	for i := nextWildcard(f, 0); i < len(f); i = nextWildcard(f, i+1) {
		switch f[i] {
		case '#':
			if i != len(f)-1 || (i > 0 && f[i-1] != '/') {
				return &Error{Rule: rule(v, "MQTT-4.7.1-2", "MQTT-4.7.1-1"), Reason: TopicFilterInvalid, Offset: off + i,
					Msg: "'#' must be the last character and fill a whole level"}
			}
		case '+':
			if (i > 0 && f[i-1] != '/') || (i < len(f)-1 && f[i+1] != '/') {
				return &Error{Rule: rule(v, "MQTT-4.7.1-3", "MQTT-4.7.1-2"), Reason: TopicFilterInvalid, Offset: off + i,
					Msg: "'+' must fill a whole level"}
			}
		}
	}
	return nil
}

// reasonSet is a 256-bit set of the reason codes a packet may carry.
type reasonSet [4]uint64

func reasons(codes ...byte) reasonSet {
	var s reasonSet
	for _, c := range codes {
		s[c>>6] |= 1 << (c & 63)
	}
	return s
}

func (s *reasonSet) has(c ReasonCode) bool { return s[c>>6]&(1<<(c&63)) != 0 }

// The reason codes of section 2.4, per packet type, for 5.0.
var reasonsV5 = [16]reasonSet{
	CONNACK: reasons(0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90,
		0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F),
	PUBACK:   reasons(0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99),
	PUBREC:   reasons(0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99),
	PUBREL:   reasons(0x00, 0x92),
	PUBCOMP:  reasons(0x00, 0x92),
	SUBACK:   reasons(0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2),
	UNSUBACK: reasons(0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91),
	DISCONNECT: reasons(0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93,
		0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2),
	AUTH: reasons(0x00, 0x18, 0x19),
}

var reasonsV3 = [16]reasonSet{
	CONNACK: reasons(0, 1, 2, 3, 4, 5),
	SUBACK:  reasons(0, 1, 2, 0x80),
}

// reasonRules names the statement that obliges a sender to use only the
// listed codes.
var reasonRulesV5 = [16]string{CONNACK: "MQTT-3.2.2-8", PUBACK: "MQTT-3.4.2-1", PUBREC: "MQTT-3.5.2-1",
	PUBREL: "MQTT-3.6.2-1", PUBCOMP: "MQTT-3.7.2-1", SUBACK: "MQTT-3.9.3-2", UNSUBACK: "MQTT-3.11.3-2",
	DISCONNECT: "MQTT-3.14.2-1", AUTH: "MQTT-3.15.2-1"}

// ValidReason reports whether packet type t may carry rc in version v.
func ValidReason(t Type, rc ReasonCode, v Version) bool {
	if v == V5 {
		return reasonsV5[t].has(rc)
	}
	return reasonsV3[t].has(rc)
}

func (c *cursor) checkReason(rc ReasonCode, at int) error {
	if ValidReason(c.t, rc, c.v) {
		return nil
	}
	r, msg := reasonRulesV5[c.t], "0x"+hex2(byte(rc))+" is not a reason code of "+c.t.String()
	if c.v != V5 {
		r = rule(c.v, "MQTT-3.9.3-2", "")
		if c.t == CONNACK {
			r, msg = "", msg+" (section 3.2.2.3)"
		}
	}
	return c.d.violate(protocolErr(c.t, "reason code", at, r, msg))
}
