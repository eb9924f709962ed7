package broker

import "testing"

// TestMalformed sends broken packets after a successful CONNECT: a 5.0 client gets a DISCONNECT
// with the reason code the spec names [MQTT-4.13.1-1], then the connection closes; a 3.1.1
// client is just closed.
func TestMalformed(t *testing.T) {
	rows := []struct {
		name, ids, send, reason string
		send311                 string // the same fault in 3.1.1 form; empty when 3.1.1 has none
	}{
		{"PUBLISH with QoS 3", "MQTT-3.3.1-4", "raw 3604000174 00", "malformed-packet", "raw 3603000174"},
		{"PUBLISH QoS 0 with DUP", "MQTT-3.3.1-2", "raw 3804000174 00", "malformed-packet", "raw 3803000174"},
		{"PUBLISH topic with a wildcard", "MQTT-3.3.2-2 MQTT-4.7.0-1", "raw 3006 0003 612f2b 00", "topic-name-invalid", "raw 3005 0003 612f2b"},
		{"PUBLISH topic not UTF-8", "MQTT-1.5.4-1", "raw 3005 0002 c328 00", "malformed-packet", "raw 3004 0002 c328"},
		{"PUBLISH topic with U+0000", "MQTT-1.5.4-2 MQTT-4.7.3-2", "raw 3005 0002 6100 00", "malformed-packet", "raw 3004 0002 6100"},
		{"PUBLISH QoS 1 with packet identifier 0", "MQTT-2.2.1-3", "raw 3206 0001 74 0000 00", "protocol-error", "raw 3205 0001 74 0000"},
		{"PUBLISH with a Subscription Identifier", "MQTT-3.3.4-6", `> PUBLISH topic="t" props{subscription-id=1} payload="x"`, "protocol-error", ""},
		{"PUBLISH with Topic Alias 0", "MQTT-3.3.2-8 section 3.3.2.3.4 reason 0x94", "raw 3007 0001 74 03 230000", "topic-alias-invalid", ""},
		{"PUBLISH with an unknown property", "section 2.2.2.2", "raw 3005 0001 74 01 7f", "malformed-packet", ""},
		{"PUBREL with wrong flags", "MQTT-3.6.1-1", "raw 6002 0001", "malformed-packet", "raw 6002 0001"},
		{"SUBSCRIBE with wrong flags", "MQTT-3.8.1-1", "raw 8007 0001 00 0001 74 00", "malformed-packet", "raw 8006 0001 0001 74 00"},
		{"SUBSCRIBE with reserved option bits", "MQTT-3.8.3-5 (5.0), MQTT-3.8.3-4 (3.1.1)", "raw 8207 0001 00 0001 74 c0", "malformed-packet", "raw 8206 0001 0001 74 c0"},
		{"SUBSCRIBE without a topic filter", "MQTT-3.8.3-2 (5.0), MQTT-3.8.3-3 (3.1.1)", "raw 8203 0001 00", "protocol-error", "raw 8202 0001"},
		{"SUBSCRIBE with a bad wildcard", "MQTT-4.7.1-1 MQTT-4.7.1-2", `> SUBSCRIBE id=1 sub("a/b#" qos=0)`, "topic-filter-invalid", `> SUBSCRIBE id=1 sub("a/b#" qos=0)`},
		{"SUBSCRIBE No Local on a shared subscription", "MQTT-3.8.3-4", `> SUBSCRIBE id=1 sub("$share/g/t" qos=0 no-local)`, "protocol-error", ""},
		{"SUBSCRIBE shared without a filter", "MQTT-4.8.2-2", `> SUBSCRIBE id=1 sub("$share/g" qos=0)`, "topic-filter-invalid", ""},
		{"UNSUBSCRIBE with wrong flags", "MQTT-3.10.1-1", "raw a006 0001 00 0001 74", "malformed-packet", "raw a005 0001 0001 74"},
		{"UNSUBSCRIBE without a topic filter", "MQTT-3.10.3-2", "raw a203 0001 00", "protocol-error", "raw a202 0001"},
		{"CONNACK from a client", "section 3.2 (server to client only)", "raw 2003 000000", "protocol-error", "raw 2002 0000"},
		{"SUBACK from a client", "section 3.9 (server to client only)", "raw 9004 0001 00 00", "protocol-error", "raw 9003 0001 00"},
		{"reserved packet type 0", "section 2.1.2", "raw 0000", "malformed-packet", "raw 0000"},
		{"remaining length over four bytes", "MQTT-1.5.5-1", "raw 30ffffffff7f", "malformed-packet", "raw 30ffffffff7f"},
		{"PINGREQ with a body", "section 3.12.1", "raw c00100", "malformed-packet", "raw c00100"},
		{"DISCONNECT with an invalid reason code", "MQTT-3.14.2-1", "raw e00103", "protocol-error", ""},
		{"DISCONNECT with a body in 3.1.1", "MQTT-3.14.1-1", "", "", "raw e00100"},
		{"AUTH from a client that named no method", "MQTT-4.12.0-7", "raw f000", "protocol-error", "raw f000"},
	}
	var cases []scriptCase
	for _, r := range rows {
		if r.send != "" {
			cases = append(cases, scriptCase{name: "5.0 " + r.name, ids: "5.0:" + r.ids + " MQTT-4.13.1-1",
				lines: []string{`c > CONNECT v=5.0 client-id="c" clean`, `c < ` + connack5,
					"c " + r.send, `c < DISCONNECT reason=` + r.reason + `...`, `c closed`}})
		}
		if r.send311 != "" {
			cases = append(cases, scriptCase{name: "3.1.1 " + r.name, ids: "3.1.1:" + r.ids,
				lines: []string{`c > CONNECT v=3.1.1 client-id="c" clean`, `c < CONNACK reason=success`,
					"c " + r.send311, `c closed`}})
		}
	}
	runScripts(t, cases)
}
