package broker

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

// TestResendOnTakeOver checks that a session taken over by a new connection, whether the old
// one is still open or was closed an instant before, re-sends its unacknowledged QoS 1 and 2
// PUBLISH packets with DUP and its PUBRELs to the new connection, as on a reconnection after
// a noticed close [MQTT-4.4.0-1, MQTT-3.3.1-1, MQTT-4.3.3-6].
func TestResendOnTakeOver(t *testing.T) {
	const rounds = 50
	cases := []struct {
		name    string
		ids     string
		connect string // CONNECT of the subscriber, %s its client identifier
		connack string // CONNACK resuming the session
		drop    bool   // close the old connection just before the new CONNECT
	}{
		{"3.1.1 old connection still open", "3.1.1:MQTT-4.4.0-1 MQTT-3.1.4-2",
			`CONNECT v=3.1.1 client-id="%s"`, `CONNACK session-present reason=success`, false},
		{"3.1.1 old connection just closed", "3.1.1:MQTT-4.4.0-1",
			`CONNECT v=3.1.1 client-id="%s"`, `CONNACK session-present reason=success`, true},
		{"5.0 old connection still open", "5.0:MQTT-4.4.0-1 MQTT-3.1.4-3",
			`CONNECT v=5.0 client-id="%s" props{session-expiry=60}`, `CONNACK session-present reason=success...`, false},
		{"5.0 old connection just closed", "5.0:MQTT-4.4.0-1",
			`CONNECT v=5.0 client-id="%s" props{session-expiry=60}`, `CONNACK session-present reason=success...`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Logf("checks %s", tc.ids)
			_, addr := startBroker(t, nil)
			v := "3.1.1"
			if strings.Contains(tc.connect, "v=5.0") {
				v = "5.0"
			}
			p := dial(t, addr, "p")
			p.send(`CONNECT v=` + v + ` client-id="p" clean`)
			p.expect(`CONNACK ...`)
			pid := uint16(0)
			for i := range rounds {
				id := fmt.Sprintf("s%d", i)
				topic := `"t/` + id + `"`
				old := dial(t, addr, "old")
				old.send(fmt.Sprintf(tc.connect, id))
				old.expect(`CONNACK reason=success...`)
				old.send(`SUBSCRIBE id=1 sub(` + topic + ` qos=2)`)
				old.expect(`SUBACK id=1 reasons=[granted-qos-2]`)
				for _, qos := range []string{"1", "2", "2"} {
					pid++
					p.send(fmt.Sprintf(`PUBLISH qos=%s id=%d topic=%s payload="%s"`, qos, pid, topic, qos))
					if qos == "1" {
						p.expect(fmt.Sprintf(`PUBACK id=%d`, pid))
					} else {
						p.expect(fmt.Sprintf(`PUBREC id=%d`, pid))
						p.send(fmt.Sprintf(`PUBREL id=%d`, pid))
						p.expect(fmt.Sprintf(`PUBCOMP id=%d`, pid))
					}
				}
				old.expect(`PUBLISH qos=1 id=1 topic=` + topic + ` payload="1"`)
				old.expect(`PUBLISH qos=2 id=2 topic=` + topic + ` payload="2"`)
				old.expect(`PUBLISH qos=2 id=3 topic=` + topic + ` payload="2"`)
				old.send(`PUBREC id=2`)
				old.expect(`PUBREL id=2`)
				if tc.drop {
					old.nc.Close()
				}
				// No wait: the broker may not have noticed the close yet.
				nu := dial(t, addr, "new")
				nu.send(fmt.Sprintf(tc.connect, id))
				nu.expect(tc.connack)
				nu.expect(`PUBLISH dup qos=1 id=1 topic=` + topic + ` payload="1"`)
				nu.expect(`PUBREL id=2`)
				nu.expect(`PUBLISH dup qos=2 id=3 topic=` + topic + ` payload="2"`)
				nu.send(`PUBACK id=1`)
				nu.send(`PUBCOMP id=2`)
				nu.send(`PUBREC id=3`)
				nu.expect(`PUBREL id=3`)
				nu.send(`PUBCOMP id=3`)
				nu.send(`DISCONNECT`)
				nu.expectClosed()
				if !tc.drop && v == "5.0" {
					old.expect(`DISCONNECT reason=session-taken-over...`)
				}
				if !tc.drop {
					old.expectClosed()
				}
				old.nc.Close()
			}
		})
	}
}

// TestResendBeyondOneBatch checks that inflight messages re-sent on reconnection that do not
// fit in one write all go out without waiting for acknowledgements [MQTT-4.4.0-1].
func TestResendBeyondOneBatch(t *testing.T) {
	const n = 40 // 40 × 4 KiB is more than one 64 KiB batch
	_, addr := startBroker(t, nil)
	payload := strings.Repeat("x", 4096)
	s := dial(t, addr, "s")
	s.send(`CONNECT v=3.1.1 client-id="s"`)
	s.expect(`CONNACK reason=success`)
	s.send(`SUBSCRIBE id=1 sub("t" qos=1)`)
	s.expect(`SUBACK id=1 reasons=[granted-qos-1]`)
	p := dial(t, addr, "p")
	p.send(`CONNECT v=3.1.1 client-id="p" clean`)
	p.expect(`CONNACK reason=success`)
	for i := 1; i <= n; i++ {
		p.send(fmt.Sprintf(`PUBLISH qos=1 id=%d topic="t" payload="%s"`, i, payload))
		p.expect(fmt.Sprintf(`PUBACK id=%d`, i))
		s.expect(fmt.Sprintf(`PUBLISH qos=1 id=%d topic="t" payload="%s"`, i, payload))
	}
	s.nc.Close()
	s = dial(t, addr, "s")
	s.send(`CONNECT v=3.1.1 client-id="s"`)
	s.expect(`CONNACK session-present reason=success`)
	for i := 1; i <= n; i++ {
		got := s.expect(`PUBLISH dup qos=1 id=...`)
		require.Equal(t, uint16(i), got.(*codec.Publish).PacketID, "re-sent in the original order")
	}
}
