//go:build gofuzz

package codec

// Fuzz is the go-fuzz entry point. The first byte picks the invariant
// checked on the rest, the same ones the native targets in fuzz_test.go
// check. gopacket is left uninstrumented, which keeps the build to minutes:
//
//	go-fuzz-build -preserve github.com/gopacket/gopacket,github.com/gopacket/gopacket/layers -o /tmp/codec-fuzz.zip ./codec
//	go-fuzz -bin /tmp/codec-fuzz.zip -func Fuzz -workdir /tmp/codec-fuzz
func Fuzz(data []byte) int {
	if len(data) == 0 {
		return 0
	}
	in := data[1:]
	switch data[0] % 5 {
	case 0:
		return FuzzDecodeOnce(in)
	case 1:
		return FuzzRoundTripOnce(in)
	case 2:
		return FuzzNotationOnce(string(in))
	case 3:
		return FuzzReaderOnce(in)
	}
	return FuzzLayerOnce(in)
}
