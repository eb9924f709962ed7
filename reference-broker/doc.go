// Package broker is mqttspec's reference MQTT broker: the oracle the conformance suite and the
// fuzzer compare other brokers with, written to read as a model of the MQTT 3.1, 3.1.1 and 5.0
// specifications. It reads and writes every packet through mqttspec/codec.
//
// One file per concern: listeners and lifecycle (broker.go), a connection's read loop and writer
// (conn.go, writer.go), CONNECT and AUTH (connect.go, auth.go), sessions and their store
// (session.go, sessions.go), outbound delivery and flow control (outbound.go, encoder.go),
// inbound PUBLISH and acknowledgements (publish.go), SUBSCRIBE/UNSUBSCRIBE (subscribe.go),
// the subscription trie (topics.go), retained messages (retained.go), routing (router.go),
// wills (will.go), timers (janitor.go), $SYS topics (sys.go) and the packet trace (trace.go).
package broker
