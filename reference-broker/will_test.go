package broker

import "testing"

func TestWill(t *testing.T) {
	watcher := func(v string) []string {
		ack := `CONNACK reason=success`
		if v == "5.0" {
			ack = connack5
		}
		return []string{`w > CONNECT v=` + v + ` client-id="w" clean`, `w < ` + ack,
			`w > SUBSCRIBE id=1 sub("will/#" qos=2)`, `w < SUBACK id=1 reasons=[granted-qos-2]`}
	}
	will311 := `CONNECT v=3.1.1 client-id="c" clean will{topic="will/c" payload="gone" qos=1}`
	will5 := func(props string) string {
		return `CONNECT v=5.0 client-id="c" will{topic="will/c" payload="gone" qos=1 ` + props + `} props{session-expiry=60}`
	}
	runScripts(t, []scriptCase{
		{name: "3.1.1 published on a close without DISCONNECT", ids: "3.1.1:MQTT-3.1.2-8",
			lines: lines(watcher("3.1.1"), []string{`c > ` + will311, `c < CONNACK reason=success`, `c drop`,
				`w < PUBLISH qos=1 id=1 topic="will/c" payload="gone"`})},
		{name: "3.1.1 discarded on DISCONNECT", ids: "3.1.1:MQTT-3.1.2-10 MQTT-3.14.4-3",
			lines: lines(watcher("3.1.1"), []string{`c > ` + will311, `c < CONNACK reason=success`, `c > DISCONNECT`, `c closed`,
				`w silent`})},
		{name: "3.1.1 retained will", ids: "3.1.1:MQTT-3.1.2-17",
			lines: []string{`c > CONNECT v=3.1.1 client-id="c" clean will{topic="will/c" payload="gone" retain}`, `c < CONNACK reason=success`, `c drop`,
				`- wait 100ms`,
				`w > CONNECT v=3.1.1 client-id="w" clean`, `w < CONNACK reason=success`,
				`w > SUBSCRIBE id=1 sub("will/#" qos=0)`, `w < SUBACK id=1 reasons=[granted-qos-0]`,
				`w < PUBLISH retain topic="will/c" payload="gone"`}},
		{name: "3.1.1 published when the connection is taken over", ids: "3.1.1:MQTT-3.1.4-2 MQTT-3.1.2-8",
			lines: lines(watcher("3.1.1"), []string{`c > ` + will311, `c < CONNACK reason=success`,
				`d > CONNECT v=3.1.1 client-id="c" clean`, `d < CONNACK reason=success`,
				`w < PUBLISH qos=1 id=1 topic="will/c" payload="gone"`})},
		{name: "published on a keep alive timeout", ids: "3.1.1:MQTT-3.1.2-24 MQTT-3.1.2-8",
			lines: lines(watcher("3.1.1"), []string{`c > CONNECT v=3.1.1 client-id="c" clean keepalive=1 will{topic="will/c" payload="silent"}`,
				`c < CONNACK reason=success`, `w < PUBLISH topic="will/c" payload="silent"`})},
		{name: "5.0 published on a close without DISCONNECT", ids: "5.0:MQTT-3.1.2-8 MQTT-3.1.2-14",
			lines: lines(watcher("5.0"), []string{`c > ` + will5(`props{user("k"="v")}`), `c < ` + connack5, `c drop`,
				`w < PUBLISH qos=1 id=1 topic="will/c" props{user("k"="v")} payload="gone"`})},
		{name: "5.0 discarded on DISCONNECT normal-disconnection", ids: "5.0:MQTT-3.14.4-3 MQTT-3.1.2-10",
			lines: lines(watcher("5.0"), []string{`c > ` + will5(""), `c < ` + connack5, `c > DISCONNECT`, `c closed`, `w silent`})},
		{name: "5.0 published on DISCONNECT disconnect-with-will", ids: "5.0 section 3.14.2.1 reason 0x04, MQTT-3.1.2-8",
			lines: lines(watcher("5.0"), []string{`c > ` + will5(""), `c < ` + connack5, `c > DISCONNECT reason=disconnect-with-will`, `c closed`,
				`w < PUBLISH qos=1 id=1 topic="will/c" payload="gone"`})},
		{name: "5.0 will delay: reconnecting in time cancels the will", ids: "5.0:MQTT-3.1.3-9 MQTT-3.1.2-8",
			lines: lines(watcher("5.0"), []string{`c > ` + will5(`props{will-delay=1}`), `c < ` + connack5, `c drop`,
				`c > CONNECT v=5.0 client-id="c" props{session-expiry=60}`, `c < CONNACK session-present reason=success...`,
				`- wait 1200ms`, `w silent`})},
		{name: "5.0 will delay: published once the delay passes", ids: "5.0:MQTT-3.1.2-8 section 3.1.3.2.2",
			lines: lines(watcher("5.0"), []string{`c > ` + will5(`props{will-delay=1}`), `c < ` + connack5, `c drop`,
				`w silent`, `- wait 1000ms`, `w < PUBLISH qos=1 id=1 topic="will/c" payload="gone"`})},
		{name: "5.0 will delay longer than the session: published when the session ends", ids: "5.0:MQTT-3.1.2-8 section 3.1.3.2.2",
			lines: lines(watcher("5.0"), []string{
				`c > CONNECT v=5.0 client-id="c" will{topic="will/c" payload="gone" props{will-delay=100}}`, `c < ` + connack5, `c drop`,
				`w < PUBLISH topic="will/c" payload="gone"`})},
		{name: "5.0 will message expiry counts from publication", ids: "5.0 section 3.1.3.2.4",
			lines: lines(watcher("5.0"), []string{`c > ` + will5(`props{message-expiry=30 will-delay=1}`), `c < ` + connack5, `c drop`,
				`- wait 1100ms`, `w < PUBLISH qos=1 id=1 topic="will/c" props{message-expiry=30} payload="gone"`})},
		{name: "5.0 taken over with will delay 0: published", ids: "5.0:MQTT-3.1.4-3 MQTT-3.1.2-8",
			lines: lines(watcher("5.0"), []string{`c > ` + will5(""), `c < ` + connack5,
				`d > CONNECT v=5.0 client-id="c" props{session-expiry=60}`, `c < DISCONNECT reason=session-taken-over...`,
				`d < CONNACK session-present reason=success...`, `w < PUBLISH qos=1 id=1 topic="will/c" payload="gone"`})},
		{name: "5.0 keep alive timeout", ids: "5.0:MQTT-3.1.2-22 MQTT-3.1.2-8",
			lines: lines(watcher("5.0"), []string{`c > CONNECT v=5.0 client-id="c" clean keepalive=1 will{topic="will/c" payload="silent"}`,
				`c < ` + connack5, `c < DISCONNECT reason=keep-alive-timeout...`, `c closed`, `w < PUBLISH topic="will/c" payload="silent"`})},
	})
}
