package broker

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigFile(t *testing.T) {
	cfg := DefaultConfig()
	err := ParseConfigFile(strings.NewReader(`
# emulate a broker with small limits
maximum-qos = 1
retain-available = false
shared-subscription-available=false
topic-alias-maximum = 0
receive-maximum = 20
maximum-packet-size = 4096
server-keep-alive = 30
max-connections = 50
connect-timeout = 2s
allow-anonymous = false
response-information = rsp/
`), "broker.conf", &cfg)
	require.NoError(t, err)
	assert.Equal(t, byte(1), cfg.MaximumQoS)
	assert.False(t, cfg.RetainAvailable)
	assert.False(t, cfg.SharedSubAvailable)
	assert.True(t, cfg.WildcardSubAvailable, "untouched keys keep their value")
	assert.Equal(t, uint16(0), cfg.TopicAliasMaximum)
	assert.Equal(t, uint16(20), cfg.ReceiveMaximum)
	assert.Equal(t, uint32(4096), cfg.MaximumPacketSize)
	assert.Equal(t, uint16(30), cfg.ServerKeepAlive)
	assert.Equal(t, 50, cfg.MaxConnections)
	assert.Equal(t, 2*time.Second, cfg.ConnectTimeout)
	assert.False(t, cfg.AllowAnonymous)
	assert.Equal(t, "rsp/", cfg.ResponseInformation)
}

func TestConfigFileErrors(t *testing.T) {
	cases := []struct{ text, want string }{
		{"maximum-qos", "c:1: want key = value"},
		{"\nmaximum-qos = 3", "c:2: maximum-qos: 3 exceeds 2"},
		{"colour = red", `c:1: unknown key "colour"`},
		{"retain-available = yes", `c:1: retain-available: "yes" is not true or false`},
		{"receive-maximum = 0", "c:1: receive-maximum: 0 is not a Receive Maximum"},
		{"connect-timeout = 10", `c:1: connect-timeout: "10" is not a duration`},
		{"max-queued = 1\nmax-queued = 2", "c:2: max-queued already set on line 1"},
		{"max-inflight = 70000", "c: broker config: MaxInflight 70000 exceeds"},
	}
	for _, tc := range cases {
		cfg := DefaultConfig()
		require.ErrorContains(t, ParseConfigFile(strings.NewReader(tc.text), "c", &cfg), tc.want)
	}
}
