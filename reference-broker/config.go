package broker

import (
	"errors"
	"fmt"
	"time"
)

// Config sets the capabilities a broker advertises and enforces, its resource limits and its
// hooks. Start from DefaultConfig: the zero value of a capability means "not available".
type Config struct {
	// Capabilities, advertised to 5.0 clients in CONNACK (a property is sent only when it
	// differs from the protocol default) and enforced for every client.
	MaximumQoS           byte   // highest QoS accepted in PUBLISH and granted in SUBACK
	RetainAvailable      bool   // retained messages
	WildcardSubAvailable bool   // '+' and '#' in topic filters
	SharedSubAvailable   bool   // $share/{group}/{filter} subscriptions
	SubIDAvailable       bool   // Subscription Identifiers
	TopicAliasMaximum    uint16 // highest Topic Alias a client may send; 0 accepts none
	ReceiveMaximum       uint16 // QoS 1/2 PUBLISH a client may have unacknowledged; 0 means 65535
	MaximumPacketSize    uint32 // largest packet accepted from a client; 0 means 1 MiB
	ServerKeepAlive      uint16 // when non-zero, replaces a 5.0 client's Keep Alive

	// Limits. Zero means the default given.
	MaxConnections   int           // simultaneous connections (10000)
	MaxInflight      int           // QoS 1/2 messages sent to a client and not yet acknowledged (1024)
	MaxQueued        int           // messages waiting per session; QoS 0 is dropped first (10000)
	MaxSubscriptions int           // topic filters per session (10000)
	ConnectTimeout   time.Duration // from accept to a complete CONNECT (and AUTH exchange) (10s)
	WriteTimeout     time.Duration // a write to a client that takes longer closes it (10s)

	// Authentication and authorization.
	AllowAnonymous bool                  // accept a CONNECT without a user name
	Authenticator  Authenticator         // checks user name and password; nil accepts all
	Authorizer     Authorizer            // per-topic publish/subscribe rights; nil allows all
	AuthMethods    map[string]AuthMethod // 5.0 enhanced authentication methods by name

	// ResponseInformation is the prefix of the Response Information returned (followed by the
	// client identifier) to a 5.0 client that requests it; empty sends none.
	ResponseInformation string
	// SysInterval is how often the $SYS/broker/... topics are refreshed; 0 disables them.
	SysInterval time.Duration
	// Trace, when set, sees every packet in and out and every connection open and close. It is
	// called from many goroutines at once and must not retain ev.Raw.
	Trace func(ev TraceEvent)
}

// DefaultConfig is every feature on, with generous limits and the built-in challenge/response
// authentication method (ChallengeMethod) registered with the secret "mqttspec".
func DefaultConfig() Config {
	return Config{
		MaximumQoS:           2,
		RetainAvailable:      true,
		WildcardSubAvailable: true,
		SharedSubAvailable:   true,
		SubIDAvailable:       true,
		TopicAliasMaximum:    100,
		ReceiveMaximum:       65535,
		MaximumPacketSize:    1 << 20,
		AllowAnonymous:       true,
		AuthMethods:          map[string]AuthMethod{ChallengeMethod: &ChallengeAuth{Secret: []byte("mqttspec")}},
		ResponseInformation:  "response/",
		SysInterval:          10 * time.Second,
	}
}

// maxPacketLimit is the largest packet the protocol can express: a 4-byte Remaining Length
// plus the fixed header.
const maxPacketLimit = 268435455 + 5

func (c *Config) withDefaults() (Config, error) {
	cfg := *c
	if cfg.MaximumQoS > 2 {
		return cfg, fmt.Errorf("broker config: MaximumQoS %d is not 0, 1 or 2", cfg.MaximumQoS)
	}
	if cfg.MaximumPacketSize > maxPacketLimit {
		return cfg, fmt.Errorf("broker config: MaximumPacketSize %d exceeds %d", cfg.MaximumPacketSize, maxPacketLimit)
	}
	if cfg.MaxConnections < 0 || cfg.MaxInflight < 0 || cfg.MaxQueued < 0 || cfg.MaxSubscriptions < 0 || cfg.ConnectTimeout < 0 ||
		cfg.WriteTimeout < 0 || cfg.SysInterval < 0 {
		return cfg, errors.New("broker config: limits must not be negative")
	}
	if cfg.MaxInflight > 65535 {
		return cfg, fmt.Errorf("broker config: MaxInflight %d exceeds the 65535 packet identifiers", cfg.MaxInflight)
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.MaxConnections, 10000)
	def(&cfg.MaxInflight, 1024)
	def(&cfg.MaxQueued, 10000)
	def(&cfg.MaxSubscriptions, 10000)
	if cfg.ReceiveMaximum == 0 {
		cfg.ReceiveMaximum = 65535
	}
	if cfg.MaximumPacketSize == 0 {
		cfg.MaximumPacketSize = 1 << 20
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	return cfg, nil
}
