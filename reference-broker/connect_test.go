package broker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

func TestConnect(t *testing.T) {
	runScripts(t, []scriptCase{
		{name: "first packet must be CONNECT", ids: "MQTT-3.1.0-1",
			lines: []string{`a raw c000`, `a closed`}},
		{name: "second CONNECT 5.0", ids: "5.0:MQTT-3.1.0-2",
			lines: []string{`a > CONNECT v=5.0 client-id="a" clean`, `a < ` + connack5,
				`a > CONNECT v=5.0 client-id="a" clean`, `a < DISCONNECT reason=protocol-error...`, `a closed`}},
		{name: "second CONNECT 3.1.1", ids: "3.1.1:MQTT-3.1.0-2",
			lines: []string{`a > CONNECT v=3.1.1 client-id="a" clean`, `a < CONNACK reason=success`,
				`a > CONNECT v=3.1.1 client-id="a" clean`, `a closed`}},
		{name: "unsupported protocol level", ids: "3.1.1:MQTT-3.1.2-2",
			lines: []string{`a raw 100d00044d5154540602003c000161`, `a < CONNACK reason=refused-protocol-version`, `a closed`}},
		{name: "5.0 wrong protocol name", ids: "5.0:MQTT-3.1.2-1",
			lines: []string{`a > CONNECT v=5.0 proto="MQTX" client-id="a"`, `a < CONNACK reason=unsupported-protocol-version...`, `a closed`}},
		{name: "3.1.1 reserved flag", ids: "3.1.1:MQTT-3.1.2-3 MQTT-3.1.4-1",
			lines: []string{`a > CONNECT v=3.1.1 client-id="a" clean reserved`, `a closed`}},
		{name: "5.0 reserved flag", ids: "5.0:MQTT-3.1.2-3 MQTT-3.1.4-1",
			lines: []string{`a > CONNECT v=5.0 client-id="a" clean reserved`, `a < CONNACK reason=malformed-packet...`, `a closed`}},
		{name: "3.1.1 empty client id without clean session", ids: "3.1.1:MQTT-3.1.3-8",
			lines: []string{`a > CONNECT v=3.1.1 client-id=""`, `a < CONNACK reason=refused-identifier-rejected`, `a closed`}},
		{name: "3.1.1 empty client id with clean session", ids: "3.1.1:MQTT-3.1.3-6",
			lines: []string{`a > CONNECT v=3.1.1 client-id="" clean`, `a < CONNACK reason=success`,
				`a > PINGREQ`, `a < PINGRESP`}},
		{name: "5.0 assigned client id", ids: "5.0:MQTT-3.1.3-6 MQTT-3.1.3-7 MQTT-3.2.2-16",
			lines: []string{`a > CONNECT v=5.0 client-id=""`, `a < CONNACK reason=success props{assigned-client-id="auto-...`}},
		{name: "3.1 MQIsdp", ids: "3.1 (MQIsdp, level 3)",
			lines: []string{`a > CONNECT v=3.1 client-id="old" clean keepalive=10`, `a < CONNACK reason=success`,
				`a > PINGREQ`, `a < PINGRESP`}},
		{name: "3.1 client id longer than 23", ids: "3.1 section 3.1 client identifier",
			lines: []string{`a > CONNECT v=3.1 client-id="abcdefghijklmnopqrstuvwx" clean`, `a < CONNACK reason=refused-identifier-rejected`, `a closed`}},
		{name: "5.0 take-over", ids: "5.0:MQTT-3.1.4-3",
			lines: []string{`a > CONNECT v=5.0 client-id="x" clean`, `a < ` + connack5,
				`b > CONNECT v=5.0 client-id="x" clean`, `a < DISCONNECT reason=session-taken-over...`, `a closed`,
				`b < ` + connack5}},
		{name: "3.1.1 take-over", ids: "3.1.1:MQTT-3.1.4-2",
			lines: []string{`a > CONNECT v=3.1.1 client-id="x" clean`, `a < CONNACK reason=success`,
				`b > CONNECT v=3.1.1 client-id="x" clean`, `a closed`, `b < CONNACK reason=success`}},
		{name: "connect timeout", ids: "section 3.1.4 (a server closes a connection that sends no CONNECT)",
			configure: func(c *Config) { c.ConnectTimeout = 200 * time.Millisecond },
			lines:     []string{`a dial`, `a closed`}},
		{name: "will QoS above maximum", ids: "5.0:MQTT-3.2.2-12",
			configure: func(c *Config) { c.MaximumQoS = 1 },
			lines: []string{`a > CONNECT v=5.0 client-id="a" will{topic="w" payload="x" qos=2}`,
				`a < CONNACK reason=qos-not-supported...`, `a closed`}},
		{name: "will retain unavailable", ids: "5.0:MQTT-3.2.2-13",
			configure: func(c *Config) { c.RetainAvailable = false },
			lines: []string{`a > CONNECT v=5.0 client-id="a" will{topic="w" payload="x" retain}`,
				`a < CONNACK reason=retain-not-supported...`, `a closed`}},
		{name: "anonymous refused 5.0", ids: "5.0:MQTT-3.1.4-2 (authentication check fails)",
			configure: func(c *Config) { c.AllowAnonymous = false },
			lines:     []string{`a > CONNECT v=5.0 client-id="a"`, `a < CONNACK reason=not-authorized...`, `a closed`}},
		{name: "anonymous refused 3.1.1", ids: "3.1.1 section 3.2.2.3 return code 5",
			configure: func(c *Config) { c.AllowAnonymous = false },
			lines:     []string{`a > CONNECT v=3.1.1 client-id="a"`, `a < CONNACK reason=refused-not-authorized`, `a closed`}},
		{name: "bad password 5.0", ids: "5.0:MQTT-3.1.4-2",
			configure: func(c *Config) { c.Authenticator = testPasswords{"u": "p"} },
			lines:     []string{`a > CONNECT v=5.0 client-id="a" username="u" password="q"`, `a < CONNACK reason=bad-user-name-or-password...`, `a closed`}},
		{name: "bad password 3.1.1", ids: "3.1.1 section 3.2.2.3 return code 4",
			configure: func(c *Config) { c.Authenticator = testPasswords{"u": "p"} },
			lines:     []string{`a > CONNECT v=3.1.1 client-id="a" username="u" password="q"`, `a < CONNACK reason=refused-bad-user-name-or-password`, `a closed`}},
		{name: "good password", ids: "5.0:MQTT-3.1.4-5",
			configure: func(c *Config) { c.Authenticator = testPasswords{"u": "p"}; c.AllowAnonymous = false },
			lines:     []string{`a > CONNECT v=5.0 client-id="a" username="u" password="p"`, `a < ` + connack5}},
		{name: "limited capabilities announced", ids: "5.0:MQTT-3.2.2-9 section 3.2.2.3",
			configure: func(c *Config) {
				c.MaximumQoS, c.RetainAvailable, c.WildcardSubAvailable, c.SubIDAvailable, c.SharedSubAvailable = 1, false, false, false, false
				c.ReceiveMaximum, c.TopicAliasMaximum, c.MaximumPacketSize = 20, 0, 4096
			},
			lines: []string{`a > CONNECT v=5.0 client-id="a"`,
				`a < CONNACK reason=success props{receive-maximum=20 maximum-qos=1 retain-available=0 maximum-packet-size=4096 wildcard-sub-available=0 subscription-id-available=0 shared-sub-available=0}`}},
		{name: "response information on request", ids: "5.0:MQTT-3.1.2-28 section 3.2.2.3.15",
			lines: []string{`a > CONNECT v=5.0 client-id="a" props{request-response-info=1}`,
				`a < CONNACK reason=success props{response-info="response/a" topic-alias-maximum=100 maximum-packet-size=1048576}`,
				`b > CONNECT v=5.0 client-id="b" props{request-response-info=0}`, `b < ` + connack5}},
		{name: "connection limit 5.0", ids: "5.0 section 3.2.2.2 reason 0x89",
			configure: func(c *Config) { c.MaxConnections = 1 },
			lines: []string{`a > CONNECT v=5.0 client-id="a"`, `a < ` + connack5,
				`b > CONNECT v=5.0 client-id="b"`, `b < CONNACK reason=server-busy...`, `b closed`}},
		{name: "connection limit 3.1.1", ids: "3.1.1 section 3.2.2.3 return code 3",
			configure: func(c *Config) { c.MaxConnections = 1 },
			lines: []string{`a > CONNECT v=3.1.1 client-id="a"`, `a < CONNACK reason=success`,
				`b > CONNECT v=3.1.1 client-id="b"`, `b < CONNACK reason=refused-server-unavailable`, `b closed`}},
		{name: "Authentication Data without a method", ids: "5.0:MQTT-3.1.4-1 section 3.1.2.11.10",
			lines: []string{`a > CONNECT v=5.0 client-id="a" props{auth-data=0x0102}`, `a < CONNACK reason=protocol-error...`, `a closed`}},
		{name: "refusing CONNACK within the client's Maximum Packet Size", ids: "5.0:MQTT-3.2.2-19 MQTT-3.2.2-20",
			lines: []string{`a > CONNECT v=5.0 client-id="a" props{maximum-packet-size=8 auth-method="unknown"}`,
				`a < CONNACK reason=bad-authentication-method`, `a closed`}},
		{name: "ping", ids: "MQTT-3.12.4-1",
			lines: []string{`a > CONNECT v=5.0 client-id="a"`, `a < ` + connack5, `a > PINGREQ`, `a < PINGRESP`}},
	})
}

type testPasswords map[string]string

func (p testPasswords) Authenticate(info ConnectInfo) codec.ReasonCode {
	if pw, ok := p[info.Username]; ok && info.HasPassword && pw == string(info.Password) {
		return codec.Success
	}
	return codec.BadUserNameOrPassword
}

// TestKeepAlive checks that a silent client is closed after one and a half times its Keep Alive
// [MQTT-3.1.2-24 in 3.1.1, MQTT-3.1.2-22 in 5.0], or the Server Keep Alive [MQTT-3.2.2-21].
func TestKeepAlive(t *testing.T) {
	for _, tc := range []struct {
		name, connect, connack, disconnect string
		serverKeepAlive                    uint16
	}{
		{"3.1.1", `CONNECT v=3.1.1 client-id="k" keepalive=1`, `CONNACK reason=success`, "", 0},
		{"5.0", `CONNECT v=5.0 client-id="k" keepalive=1`, connack5, `DISCONNECT reason=keep-alive-timeout...`, 0},
		{"5.0 server keep alive", `CONNECT v=5.0 client-id="k" keepalive=600`,
			`CONNACK reason=success props{server-keep-alive=1 topic-alias-maximum=100 maximum-packet-size=1048576}`,
			`DISCONNECT reason=keep-alive-timeout...`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, addr := startBroker(t, func(c *Config) { c.ServerKeepAlive = tc.serverKeepAlive })
			c := dial(t, addr, "k")
			c.send(tc.connect)
			c.expect(tc.connack)
			start := time.Now()
			if tc.disconnect != "" {
				c.expect(tc.disconnect)
			}
			c.expectClosed()
			require.InDelta(t, 1.5, time.Since(start).Seconds(), 0.5)
		})
	}
}
