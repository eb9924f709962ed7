//go:build gofuzz

package fuzz

// Fuzz is the go-fuzz entry point (go-fuzz-build -tags gofuzz mqttspec/fuzz):
// the script parser's invariant, as FuzzScript checks it.
func Fuzz(data []byte) int { return FuzzScriptOnce(string(data)) }
