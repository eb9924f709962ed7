package broker

import (
	"fmt"
	"testing"
)

// subscribed is the start of many scripts: s subscribes to "t" at qos, p connects; both speak v.
func subscribed(v string, qos int) []string {
	ack := `CONNACK reason=success`
	if v == "5.0" {
		ack = connack5
	}
	return []string{
		`s > CONNECT v=` + v + ` client-id="s" clean`, `s < ` + ack,
		fmt.Sprintf(`s > SUBSCRIBE id=1 sub("t" qos=%d)`, qos), fmt.Sprintf(`s < SUBACK id=1 reasons=[granted-qos-%d]`, qos),
		`p > CONNECT v=` + v + ` client-id="p" clean`, `p < ` + ack,
	}
}

func lines(parts ...[]string) []string {
	var all []string
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

func TestQoS(t *testing.T) {
	var cases []scriptCase
	for _, v := range []string{"3.1.1", "5.0"} {
		cases = append(cases,
			scriptCase{name: v + " QoS 0", ids: "MQTT-4.3.1-1 MQTT-3.3.1-2", lines: lines(subscribed(v, 2), []string{
				`p > PUBLISH topic="t" payload="m0"`, `s < PUBLISH topic="t" payload="m0"`})},
			scriptCase{name: v + " QoS 1", ids: "MQTT-4.3.2-1 MQTT-4.3.2-2 MQTT-4.3.2-4 (5.0), MQTT-4.3.2-2 (3.1.1)", lines: lines(subscribed(v, 2), []string{
				`p > PUBLISH qos=1 id=5 topic="t" payload="m1"`, `p < PUBACK id=5`,
				`s < PUBLISH qos=1 id=1 topic="t" payload="m1"`, `s > PUBACK id=1`, `s silent`})},
			scriptCase{name: v + " QoS 2 exactly once", ids: "5.0:MQTT-4.3.3-8 MQTT-4.3.3-10 MQTT-4.3.3-11 MQTT-4.3.3-12, 3.1.1:MQTT-4.3.3-2",
				lines: lines(subscribed(v, 2), []string{
					`p > PUBLISH qos=2 id=7 topic="t" payload="m2"`, `p < PUBREC id=7`,
					`s < PUBLISH qos=2 id=1 topic="t" payload="m2"`,
					`p > PUBLISH dup qos=2 id=7 topic="t" payload="m2"`, `p < PUBREC id=7`,
					`p > PUBLISH qos=2 id=7 topic="t" payload="m2"`, `p < PUBREC id=7`,
					`s > PUBREC id=1`, `s < PUBREL id=1`, `s > PUBCOMP id=1`,
					`p > PUBREL id=7`, `p < PUBCOMP id=7`, `s silent`,
					// After PUBCOMP the identifier names a new message.
					`p > PUBLISH qos=2 id=7 topic="t" payload="m3"`, `p < PUBREC id=7`,
					`s < PUBLISH qos=2 id=2 topic="t" payload="m3"`})},
			scriptCase{name: v + " delivered at the granted QoS", ids: "5.0:MQTT-3.8.4-8, 3.1.1:MQTT-3.8.4-5",
				lines: lines(subscribed(v, 1), []string{
					`p > PUBLISH qos=2 id=1 topic="t" payload="x"`, `p < PUBREC id=1`,
					`s < PUBLISH qos=1 id=1 topic="t" payload="x"`,
					`p > PUBLISH topic="t" payload="y"`, `s < PUBLISH topic="t" payload="y"`})},
			scriptCase{name: v + " ordered topic", ids: "MQTT-4.6.0-5 MQTT-4.6.0-6",
				lines: lines(subscribed(v, 1), orderedLines())},
		)
	}
	cases = append(cases,
		scriptCase{name: "3.1.1 overlapping subscriptions: one copy at the highest QoS", ids: "3.1.1:MQTT-3.3.5-1",
			lines: []string{`s > CONNECT v=3.1.1 client-id="s" clean`, `s < CONNACK reason=success`,
				`s > SUBSCRIBE id=1 sub("a/+" qos=0) sub("a/#" qos=2) sub("#" qos=1)`,
				`s < SUBACK id=1 reasons=[granted-qos-0 granted-qos-2 granted-qos-1]`,
				`s > PUBLISH qos=2 id=1 topic="a/b" payload="x"`, `s < PUBREC id=1`,
				`s < PUBLISH qos=2 id=1 topic="a/b" payload="x"`, `s silent`}},
		scriptCase{name: "5.0 overlapping subscriptions: one copy with every Subscription Identifier",
			ids: "5.0:MQTT-3.3.4-2 MQTT-3.3.4-3",
			lines: []string{`s > CONNECT v=5.0 client-id="s" clean`, `s < ` + connack5,
				`s > SUBSCRIBE id=1 props{subscription-id=7} sub("a/+" qos=1)`, `s < SUBACK id=1 reasons=[granted-qos-1]`,
				`s > SUBSCRIBE id=2 props{subscription-id=3} sub("a/#" qos=0)`, `s < SUBACK id=2 reasons=[granted-qos-0]`,
				`s > SUBSCRIBE id=3 sub("+/b" qos=0)`, `s < SUBACK id=3 reasons=[granted-qos-0]`,
				`p > CONNECT v=5.0 client-id="p" clean`, `p < ` + connack5,
				`p > PUBLISH qos=1 id=1 topic="a/b" payload="x"`, `p < PUBACK id=1`,
				`s < PUBLISH qos=1 id=1 topic="a/b" props{subscription-id=3 subscription-id=7} payload="x"`, `s silent`}},
		scriptCase{name: "5.0 no matching subscribers", ids: "5.0 section 3.4.2.1 reason 0x10",
			lines: []string{`p > CONNECT v=5.0 client-id="p" clean`, `p < ` + connack5,
				`p > PUBLISH qos=1 id=1 topic="nobody" payload="x"`, `p < PUBACK id=1 reason=no-matching-subscribers`,
				`p > PUBLISH qos=2 id=2 topic="nobody" payload="x"`, `p < PUBREC id=2 reason=no-matching-subscribers`,
				`p > PUBREL id=2`, `p < PUBCOMP id=2`}},
		scriptCase{name: "5.0 PUBREL for an unknown packet identifier", ids: "5.0:MQTT-4.3.3-11 section 3.7.2.1 reason 0x92",
			lines: []string{`p > CONNECT v=5.0 client-id="p" clean`, `p < ` + connack5,
				`p > PUBREL id=9`, `p < PUBCOMP id=9 reason=packet-identifier-not-found props{reason-string=...`}},
		scriptCase{name: "5.0 PUBREC for an unknown packet identifier", ids: "5.0:MQTT-4.3.3-4 section 3.6.2.1 reason 0x92",
			lines: []string{`p > CONNECT v=5.0 client-id="p" clean`, `p < ` + connack5,
				`p > PUBREC id=9`, `p < PUBREL id=9 reason=packet-identifier-not-found props{reason-string=...`}},
		scriptCase{name: "5.0 PUBLISH above Maximum QoS", ids: "5.0:MQTT-3.2.2-11 section 4.13 reason 0x9B",
			configure: func(c *Config) { c.MaximumQoS = 1 },
			lines: []string{`p > CONNECT v=5.0 client-id="p" clean`, `p < CONNACK reason=success props{topic-alias-maximum=100 maximum-qos=1 maximum-packet-size=1048576}`,
				`p > SUBSCRIBE id=1 sub("t" qos=2)`, `p < SUBACK id=1 reasons=[granted-qos-1]`,
				`p > PUBLISH qos=2 id=1 topic="t" payload="x"`, `p < DISCONNECT reason=qos-not-supported...`, `p closed`}},
	)
	runScripts(t, cases)
}

// orderedLines publishes 20 QoS 1 messages on one topic and expects them in order.
func orderedLines() []string {
	var ls []string
	for i := 1; i <= 20; i++ {
		ls = append(ls, fmt.Sprintf(`p > PUBLISH qos=1 id=%d topic="t" payload="%d"`, i, i), fmt.Sprintf(`p < PUBACK id=%d`, i))
	}
	for i := 1; i <= 20; i++ {
		ls = append(ls, fmt.Sprintf(`s < PUBLISH qos=1 id=%d topic="t" payload="%d"`, i, i), fmt.Sprintf(`s > PUBACK id=%d`, i))
	}
	return ls
}
