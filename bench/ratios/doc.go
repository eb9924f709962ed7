// Command ratios reads `go test -bench` output of the peer benchmarks on
// stdin and prints, per case, the best ns/op and allocs/op of each codec,
// how many times faster mqttspec is than each peer, and the target it has.
package main
