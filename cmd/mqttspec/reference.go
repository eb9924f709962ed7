package main

import (
	"net"

	broker "mqttspec/reference-broker"
)

// reference is the embedded reference broker that `mqttspec run` certifies
// when no --target is given.
type reference struct {
	url  string
	stop func()
}

func startReference() (*reference, error) {
	b, err := broker.New(broker.DefaultConfig())
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() { _ = b.Serve(l) }()
	return &reference{url: "tcp://" + l.Addr().String(), stop: func() { _ = b.Close() }}, nil
}
