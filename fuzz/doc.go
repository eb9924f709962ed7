// Package fuzz finds broker bugs by sending mutated MQTT client sessions over
// the network and judging the answers with the codec, a liveness probe and,
// optionally, the reference broker; each finding is minimized and saved as a
// replayable conformance script, raw hex and a pcap.
package fuzz
