// Package broker is mqttspec's reference MQTT broker: the oracle the conformance suite and the
// fuzzer compare other brokers with, written to read as a model of the MQTT 3.1, 3.1.1 and 5.0
// specifications. It reads and writes every packet through mqttspec/codec.
//
// One file per concern, one owner per piece of state: broker.go (listeners, lifecycle), conn.go
// and writer.go (a connection's read loop and its only writer), connect.go, auth.go and
// enhancedauth.go (CONNECT, authentication hooks, AUTH), sessions.go (the session store: binding,
// take-over, expiry, wills' timing), session.go (one session's queue, inflight window and packet
// identifiers), encoder.go (PUBLISH as one client may receive it), publish.go and subscribe.go
// (what clients send), router.go, topics.go and retained.go (matching and storage), will.go,
// janitor.go (timers), sys.go ($SYS topics), trace.go (the packet trace), passwords.go, acl.go and
// configfile.go (the files of `mqttspec broker`).
package broker
