package broker

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

// A Reason String that quotes what the client sent must still be a valid
// string: a 65,535-byte unknown Authentication Method once overflowed the
// refusing CONNACK's two-byte length (found by mqttspec fuzz --seed 7).
func TestReasonStringQuotingHugeInputStaysValid(t *testing.T) {
	_, addr := startBroker(t, nil)
	c := dial(t, addr, "huge-method")
	method := strings.Repeat("m", 65535)
	c.sendPacket(&codec.Connect{ProtocolName: []byte("MQTT"), ProtocolLevel: codec.V5, CleanStart: true,
		ClientID: []byte("huge-method"), KeepAlive: 30,
		Props: *(&codec.Properties{AuthMethod: []byte(method)}).Set(codec.PropAuthMethod)})
	p := c.expect("CONNACK reason=bad-authentication-method...")
	require.LessOrEqual(t, len(p.(*codec.Connack).Props.ReasonString), maxReasonString)
}

func TestTruncateUTF8(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"}, // é is two bytes: never split it
		{"€€", 4, "€"},
	} {
		require.Equal(t, tc.want, truncateUTF8(tc.in, tc.n), tc.in)
	}
}
