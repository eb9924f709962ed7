package broker

import "testing"

func TestRetained(t *testing.T) {
	conn5 := func(name string) []string {
		return []string{name + ` > CONNECT v=5.0 client-id="` + name + `" clean`, name + ` < ` + connack5}
	}
	runScripts(t, []scriptCase{
		{name: "3.1.1 stored, replaced, sent with RETAIN on subscribe", ids: "3.1.1:MQTT-3.3.1-5 MQTT-3.3.1-6 MQTT-3.3.1-8 MQTT-3.3.1-9",
			lines: []string{
				`p > CONNECT v=3.1.1 client-id="p" clean`, `p < CONNACK reason=success`,
				`p > PUBLISH qos=1 retain id=1 topic="r/a" payload="old"`, `p < PUBACK id=1`,
				`p > PUBLISH qos=1 retain id=2 topic="r/a" payload="new"`, `p < PUBACK id=2`,
				`p > PUBLISH retain topic="r/b" payload="b"`,
				`s > CONNECT v=3.1.1 client-id="s" clean`, `s < CONNACK reason=success`,
				`s > SUBSCRIBE id=1 sub("r/a" qos=1)`, `s < SUBACK id=1 reasons=[granted-qos-1]`,
				`s < PUBLISH qos=1 retain id=1 topic="r/a" payload="new"`, `s > PUBACK id=1`,
				// A live message on an established subscription goes out with RETAIN 0.
				`p > PUBLISH retain topic="r/a" payload="live"`, `s < PUBLISH topic="r/a" payload="live"`,
				// A repeated SUBSCRIBE re-sends the retained messages.
				`s > SUBSCRIBE id=2 sub("r/a" qos=0)`, `s < SUBACK id=2 reasons=[granted-qos-0]`,
				`s < PUBLISH retain topic="r/a" payload="live"`}},
		{name: "empty payload deletes, RETAIN 0 keeps", ids: "5.0:MQTT-3.3.1-6 MQTT-3.3.1-7 MQTT-3.3.1-8, 3.1.1:MQTT-3.3.1-10 MQTT-3.3.1-11 MQTT-3.3.1-12",
			lines: lines(conn5("p"), []string{
				`p > PUBLISH retain topic="r/a" payload="a"`, `p > PUBLISH retain topic="r/b" payload="b"`,
				`p > PUBLISH topic="r/b" payload="not retained"`,
				`p > PUBLISH retain topic="r/a"`,
				`s > CONNECT v=3.1.1 client-id="s" clean`, `s < CONNACK reason=success`,
				`s > SUBSCRIBE id=1 sub("r/#" qos=0)`, `s < SUBACK id=1 reasons=[granted-qos-0]`,
				`s < PUBLISH retain topic="r/b" payload="b"`, `s silent`})},
		{name: "5.0 Retain As Published", ids: "5.0:MQTT-3.3.1-12 MQTT-3.3.1-13",
			lines: lines(conn5("s"), []string{
				`s > SUBSCRIBE id=1 sub("a" qos=0 rap) sub("b" qos=0)`, `s < SUBACK id=1 reasons=[granted-qos-0 granted-qos-0]`,
				`s > PUBLISH retain topic="a" payload="1"`, `s < PUBLISH retain topic="a" payload="1"`,
				`s > PUBLISH retain topic="b" payload="2"`, `s < PUBLISH topic="b" payload="2"`})},
		{name: "5.0 Retain Handling", ids: "5.0:MQTT-3.3.1-9 MQTT-3.3.1-10 MQTT-3.3.1-11 MQTT-3.8.4-4",
			lines: lines(conn5("s"), []string{
				`s > PUBLISH retain topic="r" payload="x"`,
				`s > SUBSCRIBE id=1 sub("r" qos=0 rh=1)`, `s < SUBACK id=1 reasons=[granted-qos-0]`,
				`s < PUBLISH retain topic="r" payload="x"`,
				`s > SUBSCRIBE id=2 sub("r" qos=0 rh=1)`, `s < SUBACK id=2 reasons=[granted-qos-0]`, `s silent`,
				`s > SUBSCRIBE id=3 sub("r" qos=0 rh=2)`, `s < SUBACK id=3 reasons=[granted-qos-0]`, `s silent`,
				`s > SUBSCRIBE id=4 sub("r" qos=0)`, `s < SUBACK id=4 reasons=[granted-qos-0]`,
				`s < PUBLISH retain topic="r" payload="x"`})},
		{name: "5.0 retained message expires", ids: "5.0:MQTT-3.3.2-5 section 3.3.2.3.3",
			lines: lines(conn5("p"), []string{
				`p > PUBLISH retain topic="r" props{message-expiry=1} payload="soon gone"`,
				`p > PUBLISH retain topic="q" props{message-expiry=100} payload="kept"`,
				`- wait 1100ms`,
				`s > CONNECT v=5.0 client-id="s" clean`, `s < ` + connack5,
				`s > SUBSCRIBE id=1 sub("r" qos=0) sub("q" qos=0)`, `s < SUBACK id=1 reasons=[granted-qos-0 granted-qos-0]`,
				`s < PUBLISH retain topic="q" props{message-expiry=99} payload="kept"`, `s silent`})},
		{name: "no retained messages for a shared subscription", ids: "5.0 section 4.8.2",
			lines: lines(conn5("s"), []string{
				`s > PUBLISH retain topic="r" payload="x"`,
				`s > SUBSCRIBE id=1 sub("$share/g/r" qos=0)`, `s < SUBACK id=1 reasons=[granted-qos-0]`, `s silent`})},
		{name: "5.0 RETAIN when retain is not available", ids: "5.0:MQTT-3.2.2-14 section 4.13 reason 0x9A",
			configure: func(c *Config) { c.RetainAvailable = false },
			lines: []string{`p > CONNECT v=5.0 client-id="p"`, `p < CONNACK reason=success props{topic-alias-maximum=100 retain-available=0 maximum-packet-size=1048576}`,
				`p > PUBLISH retain topic="r" payload="x"`, `p < DISCONNECT reason=retain-not-supported...`, `p closed`}},
		{name: "retained messages are not matched by leading wildcards under $", ids: "MQTT-4.7.2-1",
			lines: lines(conn5("s"), []string{
				`s > PUBLISH retain topic="$x/a" payload="dollar"`, `s > PUBLISH retain topic="y" payload="plain"`,
				`s > SUBSCRIBE id=1 sub("#" qos=0)`, `s < SUBACK id=1 reasons=[granted-qos-0]`,
				`s < PUBLISH retain topic="y" payload="plain"`, `s silent`,
				`s > SUBSCRIBE id=2 sub("$x/+" qos=0)`, `s < SUBACK id=2 reasons=[granted-qos-0]`,
				`s < PUBLISH retain topic="$x/a" payload="dollar"`})},
	})
}
