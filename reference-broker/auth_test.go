package broker

import (
	"testing"

	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

// challenge reads the AUTH continue-authentication of the built-in method and returns its nonce.
func challenge(t *testing.T, c *tclient) []byte {
	t.Helper()
	p := c.expect(`AUTH reason=continue-authentication props{auth-method="MQTTSPEC-CHALLENGE" auth-data=...`)
	a := p.(*codec.Auth)
	require.Len(t, a.Props.AuthData, 16)
	return append([]byte(nil), a.Props.AuthData...)
}

func respond(c *tclient, data []byte) {
	a := authPacket(codec.ContinueAuthentication, ChallengeMethod, data)
	c.sendPacket(a)
}

// TestEnhancedAuth runs the AUTH exchange of section 4.12 with the built-in challenge/response
// method [MQTT-4.12.0-2, MQTT-4.12.0-5] and a re-authentication (section 4.12.1).
func TestEnhancedAuth(t *testing.T) {
	secret := []byte("mqttspec")
	connect := `CONNECT v=5.0 client-id="c" clean props{auth-method="MQTTSPEC-CHALLENGE"}`
	_, addr := startBroker(t, func(c *Config) { c.AllowAnonymous = false })

	t.Run("success then re-authentication", func(t *testing.T) {
		c := dial(t, addr, "c")
		c.send(connect)
		respond(c, ChallengeResponse(secret, challenge(t, c)))
		c.expect(`CONNACK reason=success props{auth-method="MQTTSPEC-CHALLENGE" topic-alias-maximum=100 maximum-packet-size=1048576}`)
		c.send(`AUTH reason=re-authenticate props{auth-method="MQTTSPEC-CHALLENGE"}`)
		respond(c, ChallengeResponse(secret, challenge(t, c)))
		c.expect(`AUTH props{auth-method="MQTTSPEC-CHALLENGE"}`)
		c.send(`PINGREQ`)
		c.expect(`PINGRESP`)
	})
	t.Run("wrong response", func(t *testing.T) {
		c := dial(t, addr, "c")
		c.send(connect)
		challenge(t, c)
		respond(c, []byte("wrong"))
		c.expect(`CONNACK reason=not-authorized...`)
		c.expectClosed()
	})
	t.Run("failed re-authentication", func(t *testing.T) {
		c := dial(t, addr, "c")
		c.send(connect)
		respond(c, ChallengeResponse(secret, challenge(t, c)))
		c.expect(`CONNACK reason=success...`)
		c.send(`AUTH reason=re-authenticate props{auth-method="MQTTSPEC-CHALLENGE"}`)
		challenge(t, c)
		respond(c, []byte("wrong"))
		c.expect(`DISCONNECT reason=not-authorized...`) // [MQTT-4.12.1-2]
		c.expectClosed()
	})
	t.Run("other method in AUTH", func(t *testing.T) {
		c := dial(t, addr, "c")
		c.send(connect)
		challenge(t, c)
		c.send(`AUTH reason=continue-authentication props{auth-method="OTHER"}`)
		c.expect(`CONNACK reason=protocol-error...`)
		c.expectClosed()
	})
	t.Run("packet other than AUTH before CONNACK", func(t *testing.T) {
		c := dial(t, addr, "c")
		c.send(connect)
		challenge(t, c)
		c.send(`PINGREQ`)
		c.expect(`CONNACK reason=protocol-error...`) // [MQTT-3.1.2-30]
		c.expectClosed()
	})
	t.Run("unknown method", func(t *testing.T) {
		c := dial(t, addr, "c")
		c.send(`CONNECT v=5.0 client-id="c" clean props{auth-method="SCRAM-SHA-1"}`)
		c.expect(`CONNACK reason=bad-authentication-method...`)
		c.expectClosed()
	})
}
