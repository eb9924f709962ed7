package main

import (
	"net"
	"strings"

	"mqttspec/conformance"
	broker "mqttspec/reference-broker"
)

// deniedPrefix is where the embedded reference broker refuses every
// subscription and publication, so the cases about refused subscriptions
// (SUBACK failure codes) run against it.
const deniedPrefix = "mqttspec-denied/"

// referenceSecret keys the embedded broker's challenge/response method; the
// profile hands it to the enhanced-authentication cases.
const referenceSecret = "mqttspec"

// reference is the embedded reference broker that `mqttspec run` certifies
// when no --target is given, with the profile that describes it.
type reference struct {
	url     string
	stop    func()
	profile *conformance.Profile
}

type denyPrefix struct{}

func (denyPrefix) CanPublish(_ broker.Client, topic string) bool {
	return !strings.HasPrefix(topic, deniedPrefix)
}

func (denyPrefix) CanSubscribe(_ broker.Client, filter string) bool {
	return !strings.HasPrefix(filter, deniedPrefix)
}

func startReference() (*reference, error) { return startReferenceWith(referenceConfig()) }

// referenceConfig is the broker `mqttspec run` certifies by default: every
// feature on, and a Receive Maximum announced as real brokers do, so the
// flow-control cases that need one run.
func referenceConfig() broker.Config {
	cfg := broker.DefaultConfig()
	cfg.ReceiveMaximum = 100
	return cfg
}

// limitedConfig is the reference broker without its optional features and
// with small announced limits: the correct broker that the cases about
// brokers lacking a feature (require !wildcard-sub, receive-maximum, ...)
// are self-tested against.
func limitedConfig() broker.Config {
	cfg := referenceConfig()
	cfg.WildcardSubAvailable = false
	cfg.SubIDAvailable = false
	cfg.SharedSubAvailable = false
	cfg.RetainAvailable = false
	cfg.MaximumQoS = 1
	cfg.TopicAliasMaximum = 0
	cfg.ReceiveMaximum = 10
	cfg.MaximumPacketSize = 4096
	return cfg
}

func startReferenceWith(cfg broker.Config) (*reference, error) {
	cfg.Authorizer = denyPrefix{}
	cfg.AuthMethods = map[string]broker.AuthMethod{broker.ChallengeMethod: &broker.ChallengeAuth{Secret: []byte(referenceSecret)}}
	b, err := broker.New(cfg)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() { _ = b.Serve(l) }()
	profile, err := conformance.ParseProfile("embedded reference broker",
		"name = mqttspec reference broker\nvar denied-topic = "+deniedPrefix+"topic\n"+
			"var auth-method = "+broker.ChallengeMethod+"\nvar auth-secret = "+referenceSecret+"\n")
	if err != nil {
		return nil, err
	}
	return &reference{url: "tcp://" + l.Addr().String(), stop: func() { _ = b.Close() }, profile: profile}, nil
}
