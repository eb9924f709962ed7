package broker

import "testing"

func TestSessions(t *testing.T) {
	persistent5 := `CONNECT v=5.0 client-id="s" props{session-expiry=60}`
	runScripts(t, []scriptCase{
		{name: "3.1.1 resumed session keeps subscriptions and queues messages", ids: "3.1.1:MQTT-3.1.2-4 MQTT-3.1.2-5 MQTT-3.2.2-2",
			lines: []string{
				`s > CONNECT v=3.1.1 client-id="s"`, `s < CONNACK reason=success`,
				`s > SUBSCRIBE id=1 sub("t" qos=2)`, `s < SUBACK id=1 reasons=[granted-qos-2]`,
				`s > DISCONNECT`, `s closed`,
				`p > CONNECT v=3.1.1 client-id="p" clean`, `p < CONNACK reason=success`,
				`p > PUBLISH qos=1 id=1 topic="t" payload="1"`, `p < PUBACK id=1`,
				`p > PUBLISH topic="t" payload="2"`,
				`p > PUBLISH qos=2 id=2 topic="t" payload="3"`, `p < PUBREC id=2`,
				`s > CONNECT v=3.1.1 client-id="s"`, `s < CONNACK session-present reason=success`,
				`s < PUBLISH qos=1 id=1 topic="t" payload="1"`,
				`s < PUBLISH topic="t" payload="2"`,
				`s < PUBLISH qos=2 id=2 topic="t" payload="3"`}},
		{name: "3.1.1 clean session discards the session", ids: "3.1.1:MQTT-3.1.2-6 MQTT-3.2.2-1",
			lines: []string{
				`s > CONNECT v=3.1.1 client-id="s"`, `s < CONNACK reason=success`,
				`s > SUBSCRIBE id=1 sub("t" qos=1)`, `s < SUBACK id=1 reasons=[granted-qos-1]`,
				`s > DISCONNECT`, `s closed`,
				`s > CONNECT v=3.1.1 client-id="s" clean`, `s < CONNACK reason=success`,
				`s > PUBLISH qos=1 id=1 topic="t" payload="x"`, `s < PUBACK id=1`, `s silent`}},
		{name: "5.0 clean start discards the session", ids: "5.0:MQTT-3.1.2-4 MQTT-3.2.2-2",
			lines: []string{
				`s > ` + persistent5, `s < ` + connack5,
				`s > SUBSCRIBE id=1 sub("t" qos=1)`, `s < SUBACK id=1 reasons=[granted-qos-1]`,
				`s > DISCONNECT`, `s closed`,
				`s > CONNECT v=5.0 client-id="s" clean props{session-expiry=60}`, `s < ` + connack5,
				`s > PUBLISH qos=1 id=1 topic="t" payload="x"`, `s < PUBACK id=1 reason=no-matching-subscribers`}},
		{name: "5.0 resumed session", ids: "5.0:MQTT-3.1.2-5 MQTT-3.2.2-3 MQTT-3.1.2-23 MQTT-4.5.0-1",
			lines: []string{
				`s > ` + persistent5, `s < ` + connack5,
				`s > SUBSCRIBE id=1 sub("t" qos=1)`, `s < SUBACK id=1 reasons=[granted-qos-1]`,
				`s > DISCONNECT`, `s closed`,
				`p > CONNECT v=5.0 client-id="p" clean`, `p < ` + connack5,
				`p > PUBLISH qos=1 id=1 topic="t" payload="x"`, `p < PUBACK id=1`,
				`s > ` + persistent5, `s < CONNACK session-present reason=success...`,
				`s < PUBLISH qos=1 id=1 topic="t" payload="x"`}},
		{name: "5.0 session expiry 0 ends the session with the connection", ids: "5.0:MQTT-4.1.0-2 MQTT-3.1.2-6",
			lines: []string{
				`s > CONNECT v=5.0 client-id="s"`, `s < ` + connack5,
				`s > SUBSCRIBE id=1 sub("t" qos=1)`, `s < SUBACK id=1 reasons=[granted-qos-1]`,
				`s > DISCONNECT`, `s closed`,
				`s > CONNECT v=5.0 client-id="s"`, `s < ` + connack5}},
		{name: "5.0 session expires after its interval", ids: "5.0:MQTT-4.1.0-2",
			lines: []string{
				`s > CONNECT v=5.0 client-id="s" props{session-expiry=1}`, `s < ` + connack5,
				`s > DISCONNECT`, `s closed`, `- wait 1300ms`,
				`s > CONNECT v=5.0 client-id="s" props{session-expiry=1}`, `s < ` + connack5}},
		{name: "5.0 DISCONNECT shortens the session expiry", ids: "5.0 section 3.14.2.2.2",
			lines: []string{
				`s > ` + persistent5, `s < ` + connack5,
				`s > DISCONNECT props{session-expiry=0}`, `s closed`,
				`s > ` + persistent5, `s < ` + connack5}},
		{name: "5.0 DISCONNECT cannot set an expiry after CONNECT set 0", ids: "5.0 section 3.14.2.2.2 (protocol error)",
			lines: []string{
				`s > CONNECT v=5.0 client-id="s"`, `s < ` + connack5,
				`s > DISCONNECT props{session-expiry=30}`, `s < DISCONNECT reason=protocol-error...`, `s closed`}},
		{name: "unacknowledged QoS 1 re-sent with DUP", ids: "MQTT-4.4.0-1 MQTT-3.3.1-1 (5.0), MQTT-4.4.0-1 MQTT-3.3.1-1 (3.1.1)",
			lines: []string{
				`s > CONNECT v=3.1.1 client-id="s"`, `s < CONNACK reason=success`,
				`s > SUBSCRIBE id=1 sub("t" qos=1)`, `s < SUBACK id=1 reasons=[granted-qos-1]`,
				`p > CONNECT v=3.1.1 client-id="p" clean`, `p < CONNACK reason=success`,
				`p > PUBLISH qos=1 id=1 topic="t" payload="a"`, `p < PUBACK id=1`,
				`p > PUBLISH qos=1 id=2 topic="t" payload="b"`, `p < PUBACK id=2`,
				`s < PUBLISH qos=1 id=1 topic="t" payload="a"`, `s < PUBLISH qos=1 id=2 topic="t" payload="b"`,
				`s > PUBACK id=1`, `s > DISCONNECT`, `s closed`,
				`s > CONNECT v=3.1.1 client-id="s"`, `s < CONNACK session-present reason=success`,
				`s < PUBLISH dup qos=1 id=2 topic="t" payload="b"`, `s > PUBACK id=2`, `s silent`}},
		{name: "QoS 2 re-sent as PUBLISH before PUBREC, as PUBREL after", ids: "5.0:MQTT-4.4.0-1 MQTT-4.3.3-6",
			lines: []string{
				`s > ` + persistent5, `s < ` + connack5,
				`s > SUBSCRIBE id=1 sub("t" qos=2)`, `s < SUBACK id=1 reasons=[granted-qos-2]`,
				`p > CONNECT v=5.0 client-id="p" clean`, `p < ` + connack5,
				`p > PUBLISH qos=2 id=1 topic="t" payload="a"`, `p < PUBREC id=1`,
				`p > PUBLISH qos=2 id=2 topic="t" payload="b"`, `p < PUBREC id=2`,
				`s < PUBLISH qos=2 id=1 topic="t" payload="a"`, `s < PUBLISH qos=2 id=2 topic="t" payload="b"`,
				`s > PUBREC id=1`, `s < PUBREL id=1`, `s drop`,
				`s > ` + persistent5, `s < CONNACK session-present reason=success...`,
				`s < PUBREL id=1`, `s < PUBLISH dup qos=2 id=2 topic="t" payload="b"`,
				`s > PUBCOMP id=1`, `s > PUBREC id=2`, `s < PUBREL id=2`, `s > PUBCOMP id=2`, `s silent`}},
		{name: "QoS 2 from the client survives a reconnection", ids: "MQTT-4.3.3-10 MQTT-4.4.0-1 (5.0)",
			lines: []string{
				`s > ` + persistent5, `s < ` + connack5,
				`s > SUBSCRIBE id=1 sub("t" qos=0)`, `s < SUBACK id=1 reasons=[granted-qos-0]`,
				`p > CONNECT v=5.0 client-id="p" props{session-expiry=60}`, `p < ` + connack5,
				`p > PUBLISH qos=2 id=3 topic="t" payload="once"`, `p < PUBREC id=3`,
				`s < PUBLISH topic="t" payload="once"`, `p drop`,
				`p > CONNECT v=5.0 client-id="p" props{session-expiry=60}`, `p < CONNACK session-present reason=success...`,
				`p > PUBLISH dup qos=2 id=3 topic="t" payload="once"`, `p < PUBREC id=3`,
				`p > PUBREL id=3`, `p < PUBCOMP id=3`, `s silent`}},
	})
}
