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

func startReference() (*reference, error) {
	cfg := broker.DefaultConfig()
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
