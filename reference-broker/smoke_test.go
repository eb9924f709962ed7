package broker

import "testing"

func TestSmokeQoS0(t *testing.T) {
	_, addr := startBroker(t, nil)
	script(t, addr,
		`s > CONNECT v=3.1.1 client-id="s" clean`,
		`s < CONNACK reason=success`,
		`s > SUBSCRIBE id=1 sub("a/+" qos=0)`,
		`s < SUBACK id=1 reasons=[granted-qos-0]`,
		`p > CONNECT v=5.0 client-id="p" clean`,
		`p < CONNACK reason=success...`,
		`p > PUBLISH topic="a/b" payload="hi"`,
		`s < PUBLISH topic="a/b" payload="hi"`,
		`p > DISCONNECT`,
		`p closed`,
	)
}
