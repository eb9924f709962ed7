package codec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hx decodes hex written with spaces between bytes.
func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err, s)
	return b
}

// Lenient decoding either reads the packet and lists the violation, or
// fails too because the bytes cannot be read as a packet at all.
const (
	readable   = true
	structural = false
)

// Packet prefixes used below. CONNECT variable headers are 10 bytes: name
// (offsets 2-7), level (8), flags (9), keep alive (10-11); in 5.0 the
// property length is at 12.
const (
	connect311 = "00 04 4d 51 54 54 04"
	connect5   = "00 04 4d 51 54 54 05"
)

// Each row breaks one rule. Offsets count from the packet's first byte.
var violations = []struct {
	name    string
	v       Version
	from    Role
	wire    string
	rule    string // "" where the spec tags no statement
	reason  ReasonCode
	field   string
	offset  int
	lenient bool
}{
	// Reserved fixed-header flags, every type.
	{"CONNECT flags 0001", V311, 0, "11 0c " + connect311 + " 02 00 3c 00 00", "MQTT-2.2.2-1", MalformedPacket, "flags", 0, readable},
	{"CONNACK flags 0001", V311, 0, "21 02 00 00", "MQTT-2.2.2-1", MalformedPacket, "flags", 0, readable},
	{"PUBACK flags 0010", V5, 0, "42 02 00 01", "MQTT-2.1.3-1", MalformedPacket, "flags", 0, readable},
	{"PUBREC flags 1000", V311, 0, "58 02 00 01", "MQTT-2.2.2-1", MalformedPacket, "flags", 0, readable},
	{"PUBREL flags 0000", V311, 0, "60 02 00 01", "MQTT-3.6.1-1", MalformedPacket, "flags", 0, readable},
	{"PUBREL flags 0011", V5, 0, "63 02 00 01", "MQTT-3.6.1-1", MalformedPacket, "flags", 0, readable},
	{"PUBCOMP flags 1111", V5, 0, "7f 02 00 01", "MQTT-2.1.3-1", MalformedPacket, "flags", 0, readable},
	{"SUBSCRIBE flags 0000", V311, 0, "80 06 00 01 00 01 61 00", "MQTT-3.8.1-1", MalformedPacket, "flags", 0, readable},
	{"SUBACK flags 0010", V311, 0, "92 03 00 01 00", "MQTT-2.2.2-1", MalformedPacket, "flags", 0, readable},
	{"UNSUBSCRIBE flags 0000", V5, 0, "a0 06 00 01 00 00 01 61", "MQTT-3.10.1-1", MalformedPacket, "flags", 0, readable},
	{"UNSUBACK flags 0001", V311, 0, "b1 02 00 01", "MQTT-2.2.2-1", MalformedPacket, "flags", 0, readable},
	{"PINGREQ flags 0001", V311, 0, "c1 00", "MQTT-2.2.2-1", MalformedPacket, "flags", 0, readable},
	{"PINGRESP flags 0100", V5, 0, "d4 00", "MQTT-2.1.3-1", MalformedPacket, "flags", 0, readable},
	{"DISCONNECT flags 0010 in 3.1.1", V311, 0, "e2 00", "MQTT-3.14.1-1", MalformedPacket, "flags", 0, readable},
	{"DISCONNECT flags 0001 in 5.0", V5, 0, "e1 00", "MQTT-3.14.1-1", MalformedPacket, "flags", 0, readable},
	{"AUTH flags 0001", V5, 0, "f1 00", "MQTT-3.15.1-1", MalformedPacket, "flags", 0, readable},

	// CONNECT properties: Authentication Data needs an Authentication Method.
	{"auth data without auth method", V5, 0, "10 11 " + connect5 + " 02 00 3c 04 16 00 01 aa 00 00", "", ProtocolError, "auth-data", 12, readable},

	// PUBLISH flags.
	{"PUBLISH QoS 3 in 3.1.1", V311, 0, "36 05 00 01 61 00 01", "MQTT-3.3.1-4", MalformedPacket, "qos", 0, readable},
	{"PUBLISH QoS 3 in 5.0", V5, 0, "36 06 00 01 61 00 01 00", "MQTT-3.3.1-4", MalformedPacket, "qos", 0, readable},
	{"PUBLISH DUP with QoS 0", V311, 0, "38 03 00 01 61", "MQTT-3.3.1-2", MalformedPacket, "dup", 0, readable},

	// Variable Byte Integers.
	{"remaining length not minimal", V5, 0, "c0 80 00", "MQTT-1.5.5-1", MalformedPacket, "remaining length", 1, readable},
	{"remaining length of 5 bytes", V5, 0, "c0 80 80 80 80 01", "", MalformedPacket, "remaining length", 1, structural},
	{"remaining length of 5 bytes in 3.1.1", V311, 0, "c0 80 80 80 80 01", "", MalformedPacket, "remaining length", 1, structural},
	{"property length not minimal", V5, 0, "40 05 00 01 00 80 00", "MQTT-1.5.5-1", MalformedPacket, "property length", 5, readable},
	{"property length of 5 bytes", V5, 0, "40 08 00 01 00 80 80 80 80 00", "", MalformedPacket, "property length", 5, structural},
	{"subscription identifier not minimal", V5, 0, "82 0a 00 01 03 0b 81 00 00 01 61 00", "MQTT-1.5.5-1", MalformedPacket, "subscription-id", 6, readable},
	{"subscription identifier of 5 bytes", V5, 0, "82 0d 00 01 06 0b 81 81 81 81 01 00 01 61 00", "", MalformedPacket, "subscription-id", 6, structural},

	// Remaining Length against content.
	{"remaining length beyond PUBACK content", V311, 0, "40 03 00 01 00", "", MalformedPacket, "remaining length", 4, structural},
	{"remaining length ends inside packet id", V311, 0, "40 01 00", "", MalformedPacket, "packet id", 2, structural},
	{"remaining length ends before client id", V311, 0, "10 0a " + connect311 + " 02 00 3c", "", MalformedPacket, "client id", 12, structural},
	{"PINGREQ with a body", V311, 0, "c0 01 00", "", MalformedPacket, "remaining length", 1, structural},
	{"DISCONNECT with a body in 3.1.1", V311, 0, "e0 01 00", "", MalformedPacket, "remaining length", 1, structural},

	// UTF-8 Encoded Strings.
	{"ill-formed UTF-8 in 3.1.1", V311, 0, "30 05 00 03 61 ff 62", "MQTT-1.5.3-1", MalformedPacket, "topic", 5, readable},
	{"ill-formed UTF-8 in 5.0", V5, 0, "30 06 00 03 61 ff 62 00", "MQTT-1.5.4-1", MalformedPacket, "topic", 5, readable},
	{"U+0000 in a 5.0 topic", V5, 0, "30 06 00 03 61 00 62 00", "MQTT-1.5.4-2", MalformedPacket, "topic", 5, readable},
	{"U+0000 in a 3.1.1 client id", V311, 0, "10 0f " + connect311 + " 02 00 3c 00 03 61 00 62", "MQTT-1.5.3-2", MalformedPacket, "client id", 15, readable},
	{"encoded surrogate in 3.1.1", V311, 0, "30 05 00 03 ed a0 80", "MQTT-1.5.3-1", MalformedPacket, "topic", 4, readable},
	{"encoded surrogate in 5.0", V5, 0, "30 06 00 03 ed a0 80 00", "MQTT-1.5.4-1", MalformedPacket, "topic", 4, readable},
	{"string length beyond the packet", V311, 0, "30 03 00 05 61", "", MalformedPacket, "topic", 2, structural},

	// Topic Names.
	{"'#' in a PUBLISH topic", V311, 0, "30 05 00 03 61 2f 23", "MQTT-3.3.2-2", TopicNameInvalid, "topic", 6, readable},
	{"'+' in a PUBLISH topic", V5, 0, "30 06 00 03 61 2b 62 00", "MQTT-3.3.2-2", TopicNameInvalid, "topic", 5, readable},
	{"'#' in a 3.1.1 will topic", V311, 0, "10 11 " + connect311 + " 06 00 3c 00 00 00 01 23 00 00", "MQTT-4.7.1-1", TopicNameInvalid, "will topic", 16, readable},
	{"'+' in a 5.0 will topic", V5, 0, "10 13 " + connect5 + " 06 00 3c 00 00 00 00 00 01 2b 00 00", "MQTT-4.7.0-1", TopicNameInvalid, "will topic", 18, readable},
	{"empty topic name in 3.1.1", V311, 0, "30 02 00 00", "MQTT-4.7.3-1", ProtocolError, "topic", 4, readable},
	{"empty topic name without topic alias", V5, 0, "30 03 00 00 00", "MQTT-4.7.3-1", ProtocolError, "topic", 4, readable},

	// Topic Filters.
	{"filter a/b# in 3.1.1", V311, 0, "82 09 00 01 00 04 61 2f 62 23 00", "MQTT-4.7.1-2", TopicFilterInvalid, "topic filter", 9, readable},
	{"filter #/a in 3.1.1", V311, 0, "82 08 00 01 00 03 23 2f 61 00", "MQTT-4.7.1-2", TopicFilterInvalid, "topic filter", 6, readable},
	{"filter a+ in 3.1.1", V311, 0, "82 07 00 01 00 02 61 2b 00", "MQTT-4.7.1-3", TopicFilterInvalid, "topic filter", 7, readable},
	{"filter a+ in 5.0", V5, 0, "82 08 00 01 00 00 02 61 2b 00", "MQTT-4.7.1-2", TopicFilterInvalid, "topic filter", 8, readable},
	{"filter +a/b in 5.0", V5, 0, "82 0a 00 01 00 00 04 2b 61 2f 62 00", "MQTT-4.7.1-2", TopicFilterInvalid, "topic filter", 7, readable},
	{"filter a/b# in 5.0", V5, 0, "82 0a 00 01 00 00 04 61 2f 62 23 00", "MQTT-4.7.1-1", TopicFilterInvalid, "topic filter", 10, readable},
	{"UNSUBSCRIBE filter #a", V311, 0, "a2 06 00 01 00 02 23 61", "MQTT-4.7.1-2", TopicFilterInvalid, "topic filter", 6, readable},
	{"empty topic filter", V311, 0, "82 05 00 01 00 00 00", "MQTT-4.7.3-1", ProtocolError, "topic filter", 6, readable},
	{"empty share name", V5, 0, "82 0f 00 01 00 00 09 24 73 68 61 72 65 2f 2f 61 00", "MQTT-4.8.2-1", TopicFilterInvalid, "topic filter", 14, readable},
	{"wildcard in share name", V5, 0, "82 11 00 01 00 00 0b 24 73 68 61 72 65 2f 67 2b 2f 61 00", "MQTT-4.8.2-2", TopicFilterInvalid, "topic filter", 15, readable},
	{"share name without filter", V5, 0, "82 0e 00 01 00 00 08 24 73 68 61 72 65 2f 67 00", "MQTT-4.8.2-2", TopicFilterInvalid, "topic filter", 15, readable},

	// Packet Identifiers.
	{"PUBLISH QoS 1 id 0 in 3.1.1", V311, FromClient, "32 05 00 01 61 00 00", "MQTT-2.3.1-1", ProtocolError, "packet id", 5, readable},
	{"PUBLISH QoS 1 id 0 from a 5.0 client", V5, FromClient, "32 06 00 01 61 00 00 00", "MQTT-2.2.1-3", ProtocolError, "packet id", 5, readable},
	{"PUBLISH QoS 2 id 0 from a 5.0 server", V5, FromServer, "34 06 00 01 61 00 00 00", "MQTT-2.2.1-4", ProtocolError, "packet id", 5, readable},
	{"SUBSCRIBE id 0", V5, 0, "82 07 00 00 00 00 01 61 00", "MQTT-2.2.1-3", ProtocolError, "packet id", 2, readable},
	{"UNSUBSCRIBE id 0", V311, 0, "a2 05 00 00 00 01 61", "MQTT-2.3.1-1", ProtocolError, "packet id", 2, readable},
	{"PUBACK id 0 in 3.1.1", V311, 0, "40 02 00 00", "MQTT-2.3.1-6", ProtocolError, "packet id", 2, readable},
	{"PUBREC id 0 in 5.0", V5, 0, "50 02 00 00", "MQTT-2.2.1-5", ProtocolError, "packet id", 2, readable},
	{"PUBCOMP id 0 in 3.1.1", V311, 0, "70 02 00 00", "", ProtocolError, "packet id", 2, readable},
	{"SUBACK id 0 in 5.0", V5, 0, "90 04 00 00 00 00", "MQTT-2.2.1-6", ProtocolError, "packet id", 2, readable},
	{"UNSUBACK id 0 in 3.1.1", V311, 0, "b0 02 00 00", "MQTT-2.3.1-7", ProtocolError, "packet id", 2, readable},

	// CONNECT.
	{"unknown protocol name", V311, 0, "10 0c 00 04 4d 51 54 58 04 02 00 3c 00 00", "MQTT-3.1.2-1", UnsupportedProtocolVersion, "protocol name", 2, structural},
	{"unsupported protocol level", V311, 0, "10 0c 00 04 4d 51 54 54 06 02 00 3c 00 00", "MQTT-3.1.2-2", UnsupportedProtocolVersion, "protocol level", 8, structural},
	{"MQIsdp with level 4", V311, 0, "10 0e 00 06 4d 51 49 73 64 70 04 02 00 3c 00 00", "MQTT-3.1.2-2", UnsupportedProtocolVersion, "protocol level", 10, structural},
	{"CONNECT reserved bit", V311, 0, "10 0c " + connect311 + " 03 00 3c 00 00", "MQTT-3.1.2-3", MalformedPacket, "connect flags", 9, readable},
	{"CONNECT reserved bit in 5.0", V5, 0, "10 0d " + connect5 + " 03 00 3c 00 00 00", "MQTT-3.1.2-3", MalformedPacket, "connect flags", 9, readable},
	{"will QoS without will flag in 3.1.1", V311, 0, "10 0c " + connect311 + " 0a 00 3c 00 00", "MQTT-3.1.2-13", MalformedPacket, "will qos", 9, readable},
	{"will QoS without will flag in 5.0", V5, 0, "10 0d " + connect5 + " 0a 00 3c 00 00 00", "MQTT-3.1.2-11", MalformedPacket, "will qos", 9, readable},
	{"will QoS 3 in 3.1.1", V311, 0, "10 11 " + connect311 + " 1e 00 3c 00 00 00 01 74 00 00", "MQTT-3.1.2-14", MalformedPacket, "will qos", 9, readable},
	{"will QoS 3 in 5.0", V5, 0, "10 13 " + connect5 + " 1e 00 3c 00 00 00 00 00 01 74 00 00", "MQTT-3.1.2-12", MalformedPacket, "will qos", 9, readable},
	{"will retain without will flag in 3.1.1", V311, 0, "10 0c " + connect311 + " 22 00 3c 00 00", "MQTT-3.1.2-15", MalformedPacket, "will retain", 9, readable},
	{"will retain without will flag in 5.0", V5, 0, "10 0d " + connect5 + " 22 00 3c 00 00 00", "MQTT-3.1.2-13", MalformedPacket, "will retain", 9, readable},
	{"password without user name in 3.1.1", V311, 0, "10 0f " + connect311 + " 42 00 3c 00 00 00 01 70", "MQTT-3.1.2-22", MalformedPacket, "password flag", 9, readable},

	// 5.0 properties.
	{"Session Expiry Interval twice", V5, 0, "10 17 " + connect5 + " 02 00 3c 0a 11 00 00 00 0a 11 00 00 00 0a 00 00", "", ProtocolError, "session-expiry", 18, readable},
	{"Topic Alias twice", V5, 0, "30 0a 00 01 61 06 23 00 01 23 00 02", "", ProtocolError, "topic-alias", 9, readable},
	{"Reason String twice", V5, 0, "40 0c 00 01 00 08 1f 00 01 78 1f 00 01 79", "", ProtocolError, "reason-string", 10, readable},
	{"Subscription Identifier twice in SUBSCRIBE", V5, 0, "82 0b 00 01 04 0b 01 0b 02 00 01 61 00", "", ProtocolError, "subscription-id", 7, readable},
	{"Topic Alias on CONNECT", V5, 0, "10 10 " + connect5 + " 02 00 3c 03 23 00 01 00 00", "", MalformedPacket, "topic-alias", 13, readable},
	{"Session Expiry Interval on PUBLISH", V5, 0, "30 09 00 01 61 05 11 00 00 00 01", "", MalformedPacket, "session-expiry", 6, readable},
	{"unknown property 0x05", V5, 0, "40 06 00 01 00 02 05 00", "", MalformedPacket, "property identifier", 6, structural},
	{"Topic Alias 0", V5, 0, "30 07 00 01 61 03 23 00 00", "MQTT-3.3.2-8", TopicAliasInvalid, "topic-alias", 6, readable},
	{"Subscription Identifier 0", V5, 0, "82 09 00 01 02 0b 00 00 01 61 00", "", ProtocolError, "subscription-id", 5, readable},
	{"Receive Maximum 0", V5, 0, "10 10 " + connect5 + " 02 00 3c 03 21 00 00 00 00", "", ProtocolError, "receive-maximum", 13, readable},
	{"Will Payload Format Indicator 2", V5, 0, "10 15 " + connect5 + " 06 00 3c 00 00 00 02 01 02 00 01 74 00 00", "", ProtocolError, "payload-format", 16, readable},
	{"property length beyond the packet", V5, 0, "40 04 00 01 00 05", "", MalformedPacket, "property length", 5, structural},
	{"Response Topic with a wildcard", V5, 0, "30 0a 00 01 61 06 08 00 03 61 2f 23", "MQTT-3.3.2-14", ProtocolError, "response-topic", 6, readable},
	{"Subscription Identifier in a client PUBLISH", V5, FromClient, "30 06 00 01 61 02 0b 05", "MQTT-3.3.4-6", ProtocolError, "subscription-id", 0, readable},

	// SUBSCRIBE and UNSUBSCRIBE payloads.
	{"SUBSCRIBE without filters in 3.1.1", V311, 0, "82 02 00 01", "MQTT-3.8.3-3", ProtocolError, "payload", 4, readable},
	{"SUBSCRIBE without filters in 5.0", V5, 0, "82 03 00 01 00", "MQTT-3.8.3-2", ProtocolError, "payload", 5, readable},
	{"UNSUBSCRIBE without filters in 3.1.1", V311, 0, "a2 02 00 01", "MQTT-3.10.3-2", ProtocolError, "payload", 4, readable},
	{"UNSUBSCRIBE without filters in 5.0", V5, 0, "a2 03 00 01 00", "MQTT-3.10.3-2", ProtocolError, "payload", 5, readable},
	{"reserved option bits in 3.1.1", V311, 0, "82 06 00 01 00 01 61 04", "MQTT-3.8.3-4", MalformedPacket, "subscription options", 7, readable},
	{"reserved option bits in 5.0", V5, 0, "82 07 00 01 00 00 01 61 40", "MQTT-3.8.3-5", MalformedPacket, "subscription options", 8, readable},
	{"requested QoS 3 in 3.1.1", V311, 0, "82 06 00 01 00 01 61 03", "MQTT-3.8.3-4", MalformedPacket, "subscription options", 7, readable},
	{"maximum QoS 3 in 5.0", V5, 0, "82 07 00 01 00 00 01 61 03", "", ProtocolError, "subscription options", 8, readable},
	{"retain handling 3", V5, 0, "82 07 00 01 00 00 01 61 30", "", ProtocolError, "subscription options", 8, readable},
	{"No Local on a shared subscription", V5, 0, "82 10 00 01 00 00 0a 24 73 68 61 72 65 2f 67 2f 61 04", "MQTT-3.8.3-4", ProtocolError, "subscription options", 17, readable},

	// Packet types.
	{"AUTH in 3.1.1", V311, 0, "f0 00", "", MalformedPacket, "packet type", 0, structural},
	{"packet type 0", V311, 0, "00 00", "", MalformedPacket, "packet type", 0, structural},
	{"packet type 0 in 5.0", V5, 0, "00 00", "", MalformedPacket, "packet type", 0, structural},
	{"CONNACK from a client", V311, FromClient, "20 02 00 00", "", ProtocolError, "packet type", 0, readable},
	{"SUBACK from a client", V5, FromClient, "90 04 00 01 00 00", "", ProtocolError, "packet type", 0, readable},
	{"PINGRESP from a client", V311, FromClient, "d0 00", "", ProtocolError, "packet type", 0, readable},
	{"PINGREQ from a server", V5, FromServer, "c0 00", "", ProtocolError, "packet type", 0, readable},
	{"SUBSCRIBE from a server", V311, FromServer, "82 06 00 01 00 01 61 00", "", ProtocolError, "packet type", 0, readable},

	// Reason codes that the packet type does not have.
	{"CONNACK return code 6 in 3.1.1", V311, 0, "20 02 00 06", "", ProtocolError, "reason code", 3, readable},
	{"CONNACK reason 0x01 in 5.0", V5, 0, "20 03 00 01 00", "MQTT-3.2.2-8", ProtocolError, "reason code", 3, readable},
	{"PUBACK reason 0x81", V5, 0, "40 03 00 01 81", "MQTT-3.4.2-1", ProtocolError, "reason code", 4, readable},
	{"PUBREC reason 0x04", V5, 0, "50 03 00 01 04", "MQTT-3.5.2-1", ProtocolError, "reason code", 4, readable},
	{"PUBREL reason 0x10", V5, 0, "62 03 00 01 10", "MQTT-3.6.2-1", ProtocolError, "reason code", 4, readable},
	{"PUBCOMP reason 0x80", V5, 0, "70 03 00 01 80", "MQTT-3.7.2-1", ProtocolError, "reason code", 4, readable},
	{"SUBACK return code 3 in 3.1.1", V311, 0, "90 03 00 01 03", "MQTT-3.9.3-2", ProtocolError, "reason code", 4, readable},
	{"SUBACK reason 0x03 in 5.0", V5, 0, "90 04 00 01 00 03", "MQTT-3.9.3-2", ProtocolError, "reason code", 5, readable},
	{"UNSUBACK reason 0x01", V5, 0, "b0 04 00 01 00 01", "MQTT-3.11.3-2", ProtocolError, "reason code", 5, readable},
	{"DISCONNECT reason 0x01", V5, 0, "e0 01 01", "MQTT-3.14.2-1", ProtocolError, "reason code", 2, readable},
	{"AUTH reason 0x01", V5, 0, "f0 01 01", "MQTT-3.15.2-1", ProtocolError, "reason code", 2, readable},
	{"CONNACK reserved acknowledge flags in 3.1.1", V311, 0, "20 02 02 00", "", MalformedPacket, "acknowledge flags", 2, readable},
	{"CONNACK reserved acknowledge flags in 5.0", V5, 0, "20 03 02 00 00", "MQTT-3.2.2-1", MalformedPacket, "acknowledge flags", 2, readable},
}

// TestViolations decodes each row strictly, expecting the rule, reason,
// field and offset, then leniently, expecting the same finding either as a
// listed violation or, for unreadable bytes, as the error.
func TestViolations(t *testing.T) {
	lists := map[Version]map[string]bool{V311: loadStatements(t, V311), V5: loadStatements(t, V5)}
	for _, tc := range violations {
		t.Run(tc.name, func(t *testing.T) {
			wire := hx(t, tc.wire)
			if tc.rule != "" {
				require.True(t, lists[tc.v][tc.rule], "%s is not a statement of MQTT %s", tc.rule, tc.v)
			}
			check := func(e *Error) {
				t.Helper()
				assert.Equal(t, tc.rule, e.Rule, "rule of %v", e)
				assert.Equal(t, tc.reason, e.Reason, "reason of %v", e)
				assert.Equal(t, tc.field, e.Field, "field of %v", e)
				assert.Equal(t, tc.offset, e.Offset, "offset of %v", e)
				assert.Equal(t, Type(wire[0]>>4), e.Type, "type of %v", e)
				if e.Rule == "" {
					assert.Contains(t, e.Msg, "(section ", "an untagged rule names its section: %v", e)
				}
			}

			d := Decoder{Version: tc.v, From: tc.from}
			_, _, err := d.Decode(wire)
			e, ok := AsError(err)
			require.True(t, ok, "strict decoding must fail with *Error, got %v", err)
			check(e)

			d = Decoder{Version: tc.v, From: tc.from, Lenient: true}
			p, n, err := d.Decode(wire)
			if tc.lenient == structural {
				e, ok := AsError(err)
				require.True(t, ok, "lenient decoding of unreadable bytes must fail, got %v", err)
				check(e)
				return
			}
			require.NoError(t, err, "lenient decoding must read the packet")
			require.Equal(t, len(wire), n)
			require.Equal(t, Type(wire[0]>>4), p.Type())
			require.NotEmpty(t, d.Violations)
			check(d.Violations[0])
		})
	}
}

// Inputs that look suspicious but break no rule of their version.
var accepted = []struct {
	name string
	v    Version
	from Role
	wire string
}{
	{"non-minimal remaining length in 3.1.1 (no such rule)", V311, 0, "c0 80 00"},
	{"password without user name in 5.0", V5, 0, "10 10 " + connect5 + " 42 00 3c 00 00 00 00 01 70"},
	{"empty topic name with a topic alias", V5, 0, "30 06 00 00 03 23 00 01"},
	{"$share/g is a plain filter in 3.1.1", V311, 0, "82 0d 00 01 00 08 24 73 68 61 72 65 2f 67 00"},
	{"No Local on a plain filter", V5, 0, "82 07 00 01 00 00 01 61 04"},
	{"Subscription Identifier in a server PUBLISH", V5, FromServer, "30 06 00 01 61 02 0b 05"},
	{"User Property twice", V5, 0, "40 10 00 01 00 0c 26 00 01 6b 00 00 26 00 01 6b 00 00"},
	{"two Subscription Identifiers in PUBLISH", V5, FromServer, "30 08 00 01 61 04 0b 01 0b 02"},
	{"filters #, +, +/+/#, a//b", V311, 0, "82 19 00 01 00 01 23 00 00 01 2b 00 00 05 2b 2f 2b 2f 23 00 00 04 61 2f 2f 62 00"},
	{"3.1.1 PUBACK flags 0000", V311, 0, "40 02 00 01"},
	{"5.0 PUBACK without reason code", V5, 0, "40 02 00 01"},
	{"3.1 CONNECT", V311, FromClient, "10 0e 00 06 4d 51 49 73 64 70 03 02 00 3c 00 00"},
}

func TestAccepted(t *testing.T) {
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			wire := hx(t, tc.wire)
			d := Decoder{Version: tc.v, From: tc.from}
			p, n, err := d.Decode(wire)
			require.NoError(t, err)
			require.Equal(t, len(wire), n)
			require.Equal(t, Type(wire[0]>>4), p.Type())
		})
	}
}

// TestPayloadFormatInLenientMode: checking a UTF-8 payload is optional for
// a receiver (section 3.3.2.3.2), so only lenient mode reports it.
func TestPayloadFormatInLenientMode(t *testing.T) {
	wire := hx(t, "30 07 00 01 61 02 01 01 ff")
	d := Decoder{Version: V5}
	_, _, err := d.Decode(wire)
	require.NoError(t, err)
	d.Lenient = true
	_, _, err = d.Decode(wire)
	require.NoError(t, err)
	require.Len(t, d.Violations, 1)
	e := d.Violations[0]
	require.Equal(t, PayloadFormatInvalid, e.Reason)
	require.Equal(t, "payload", e.Field)
	require.Equal(t, 8, e.Offset)
	require.Contains(t, e.Msg, "(section 3.3.2.3.2)")
}

// TestLenientListsEveryViolation: one packet can break several rules; the
// list has them in the order they occur and starts afresh with each packet.
func TestLenientListsEveryViolation(t *testing.T) {
	d := Decoder{Version: V311, Lenient: true}
	// SUBSCRIBE with flags 0000, id 0 and the filter "a+" at QoS 3.
	_, _, err := d.Decode(hx(t, "80 07 00 00 00 02 61 2b 03"))
	require.NoError(t, err)
	var rules []string
	for _, e := range d.Violations {
		rules = append(rules, e.Rule)
	}
	require.Equal(t, []string{"MQTT-3.8.1-1", "MQTT-2.3.1-1", "MQTT-4.7.1-3", "MQTT-3.8.3-4"}, rules)
	_, _, err = d.Decode(hx(t, "c0 00"))
	require.NoError(t, err)
	require.Empty(t, d.Violations)
}

func TestMaxPacketSize(t *testing.T) {
	for v, w := range map[Version]string{
		V311: "30 0a 00 03 61 2f 62 68 65 6c 6c 6f",
		V5:   "30 0a 00 03 61 2f 62 00 68 65 6c 6c",
	} {
		wire := hx(t, w) // 12 bytes
		d := Decoder{Version: v, MaxPacketSize: 11}
		_, _, err := d.Decode(wire[:2]) // the fixed header is enough to refuse it
		e, ok := AsError(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, PacketTooLarge, e.Reason)
		require.Equal(t, "remaining length", e.Field)
		require.Equal(t, 1, e.Offset)
		require.Contains(t, e.Msg, "(section ")
		d.MaxPacketSize = 12
		_, n, err := d.Decode(wire)
		require.NoError(t, err)
		require.Equal(t, 12, n)
	}
}

// clientSession is a few packets of a 5.0 session, as a client sends them.
var clientSession = []string{
	`CONNECT v=5.0 client-id="c" clean keepalive=30 props{session-expiry=60}`,
	`SUBSCRIBE id=1 sub("a/#" qos=1)`,
	`PUBLISH qos=1 id=2 topic="a/b" props{user("k"="v")} payload="hello"`,
	`PINGREQ`,
	`DISCONNECT`,
}

func encodeStream(t *testing.T, texts []string, v Version) []byte {
	t.Helper()
	var b []byte
	for _, s := range texts {
		p, err := Parse(s)
		require.NoError(t, err, s)
		b = p.Append(b, v)
	}
	return b
}

// TestReaderOneByteAtATime: a peer that trickles bytes yields the same packets.
func TestReaderOneByteAtATime(t *testing.T) {
	wire := encodeStream(t, clientSession, V5)
	r := NewReader(iotest.OneByteReader(bytes.NewReader(wire)), 16)
	r.From = FromClient
	for _, want := range clientSession {
		p, err := r.ReadPacket()
		require.NoError(t, err)
		require.Equal(t, want, Format(p))
	}
	_, err := r.ReadPacket()
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, V5, r.Version, "the CONNECT sets the version")
}

func TestReaderEOFInsidePacket(t *testing.T) {
	wire := encodeStream(t, clientSession[:3], V5)
	for _, cut := range []int{len(wire) - 1, len(wire) - 5} {
		r := NewReader(bytes.NewReader(wire[:cut]), 0)
		_, err := r.ReadPacket()
		require.NoError(t, err)
		_, err = r.ReadPacket()
		require.NoError(t, err)
		_, err = r.ReadPacket()
		require.ErrorIs(t, err, io.ErrUnexpectedEOF, "cut at %d of %d", cut, len(wire))
	}
	r := NewReader(bytes.NewReader(hx(t, "30")), 0)
	_, err := r.ReadPacket()
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "EOF inside the fixed header")
}

// TestReaderHugeAnnouncement: a fixed header that promises 256 MB and then
// ends must not make the reader reserve that much.
func TestReaderHugeAnnouncement(t *testing.T) {
	wire := hx(t, "30 ff ff ff 7f")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := NewReader(bytes.NewReader(wire), 0)
	_, err := r.ReadPacket()
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<10))

	// Bytes that do arrive are buffered, in proportion to what came.
	body := append(wire, make([]byte, 100<<10)...)
	runtime.ReadMemStats(&before)
	r = NewReader(iotest.HalfReader(bytes.NewReader(body)), 0)
	_, err = r.ReadPacket()
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(512<<10))
}

func TestReaderMaxPacketSize(t *testing.T) {
	wire := encodeStream(t, []string{`PINGREQ`, `PUBLISH topic="a/b" payload="0123456789"`, `PINGREQ`}, V311)
	r := NewReader(bytes.NewReader(wire), 0)
	r.MaxPacketSize = 10
	_, err := r.ReadPacket()
	require.NoError(t, err)
	_, err = r.ReadPacket()
	e, ok := AsError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, PacketTooLarge, e.Reason)
	require.Equal(t, PUBLISH, e.Type)
}

// TestReaderViolationsPerPacket: in lenient mode each packet's list holds
// only its own violations.
func TestReaderViolationsPerPacket(t *testing.T) {
	r := NewReader(bytes.NewReader(hx(t, "c1 00 c0 00 38 03 00 01 61")), 0)
	r.Lenient = true
	want := [][]string{{"MQTT-2.2.2-1"}, nil, {"MQTT-3.3.1-2"}}
	for i, w := range want {
		_, err := r.ReadPacket()
		require.NoError(t, err)
		var got []string
		for _, e := range r.Violations {
			got = append(got, e.Rule)
		}
		require.Equal(t, w, got, "packet %d", i)
	}
	_, err := r.ReadPacket()
	require.True(t, errors.Is(err, io.EOF))
}
