package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/gopacket/gopacket"
)

// The Fuzz*Once helpers hold the invariants the fuzz targets check, outside
// _test.go files so that both `go test -fuzz` (fuzz_test.go) and go-fuzz
// (gofuzz.go) can call them. Each panics when an invariant breaks, which
// both fuzzers report as a crash, and returns 1 when the input decoded to
// at least one packet (go-fuzz then favours it), else 0.

// fuzzConfigs are the decoder settings every input is read under: each
// version, each role, strict and lenient.
// Built on first use: 18 Decoders are ~260 KB, which every program
// linking the codec would otherwise allocate at start-up.
var fuzzConfigs = sync.OnceValue(func() []Decoder {
	var cs []Decoder
	for _, v := range [...]Version{V31, V311, V5} {
		for _, from := range [...]Role{RoleUnknown, FromClient, FromServer} {
			for _, lenient := range [...]bool{false, true} {
				cs = append(cs, Decoder{Version: v, From: from, Lenient: lenient})
			}
		}
	}
	return cs
})

// Decoding may allocate for what the input holds (subscription lists, user
// properties, errors), so in proportion to its length, but never for what
// a length field merely claims.
const (
	fuzzAllocPerByte = 64
	fuzzAllocPerRun  = 4096
)

func fuzzConfig(d *Decoder) string {
	return fmt.Sprintf("version %v, from %d, lenient %v", d.Version, d.From, d.Lenient)
}

// decodeStream decodes data packet after packet as one connection would,
// calling each (when not nil) with every packet and its bytes. It returns
// the bytes used and the error that stopped it, nil at the end of data.
func decodeStream(d *Decoder, data []byte, each func(p Packet, raw []byte)) (int, error) {
	off := 0
	for off < len(data) {
		p, n, err := d.Decode(data[off:])
		if err != nil {
			return off, err
		}
		if n <= 0 || n > len(data)-off {
			panic(fmt.Sprintf("Decode used %d bytes of %d at offset %d", n, len(data)-off, off))
		}
		if each != nil {
			each(p, data[off:off+n])
		}
		off += n
	}
	return off, nil
}

func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// leastAlloc runs f up to three times, until it allocates at most limit
// bytes, and returns the least it allocated. The count is process-wide and
// a fuzzing process's own goroutines allocate now and then; what f itself
// allocates shows every time.
func leastAlloc(limit uint64, f func()) uint64 {
	least := ^uint64(0)
	for range 3 {
		before := totalAlloc()
		f()
		least = min(least, totalAlloc()-before)
		if least <= limit {
			break
		}
	}
	return least
}

// FuzzDecodeOnce decodes data as a stream of packets under every version,
// role and mode. It checks that decoding allocates at most in proportion to
// len(data), that decoding the same packets again with a warm Decoder
// allocates nothing, that error offsets lie inside the packet, and that
// lenient decoding reads at least as far as strict decoding.
func FuzzDecodeOnce(data []byte) int {
	cfgs := fuzzConfigs()
	decs := make([]Decoder, len(cfgs))
	used := make([]int, len(decs))
	errs := make([]error, len(decs))

	limit := uint64(len(decs) * (fuzzAllocPerByte*len(data) + fuzzAllocPerRun))
	if got := leastAlloc(limit, func() {
		copy(decs, cfgs)
		for i := range decs {
			used[i], errs[i] = decodeStream(&decs[i], data, nil)
		}
	}); got > limit {
		panic(fmt.Sprintf("decoding %d bytes under %d settings allocated %d bytes, limit %d", len(data), len(decs), got, limit))
	}

	// Strict decoding of well-formed packets is the zero-allocation path.
	if got := leastAlloc(0, func() {
		for i := range decs {
			if !decs[i].Lenient && used[i] > 0 {
				decs[i].Version = cfgs[i].Version
				decodeStream(&decs[i], data[:used[i]], nil)
			}
		}
	}); got != 0 {
		panic(fmt.Sprintf("decoding well-formed packets again allocated %d bytes", got))
	}

	interesting := 0
	for i := range decs {
		if used[i] > 0 {
			interesting = 1
		}
		if e, ok := AsError(errs[i]); ok && (e.Offset < 0 || e.Offset > len(data)-used[i]) {
			panic(fmt.Sprintf("%s: error offset %d outside the %d bytes left: %v", fuzzConfig(&cfgs[i]), e.Offset, len(data)-used[i], e))
		}
		if decs[i].Lenient && used[i] < used[i-1] {
			panic(fmt.Sprintf("%s: lenient decoding stopped at byte %d, strict at %d: %v",
				fuzzConfig(&cfgs[i]), used[i], used[i-1], errs[i]))
		}
	}
	return interesting
}

// FuzzRoundTripOnce decodes data under every setting and checks each packet
// against the notation and the encoder: Parse(Format(p)) formats as p does,
// and a strictly decoded packet encodes to bytes that decode strictly to
// the same text and encode to the same bytes again.
func FuzzRoundTripOnce(data []byte) int {
	cfgs := fuzzConfigs()
	interesting := 0
	for i := range cfgs {
		d := cfgs[i]
		decodeStream(&d, data, func(p Packet, raw []byte) {
			interesting = 1
			text := Format(p)
			q, err := Parse(text)
			if err != nil {
				panic(fmt.Sprintf("%s: Parse(%q): %v (packet % x)", fuzzConfig(&cfgs[i]), text, err, raw))
			}
			if again := Format(q); again != text {
				panic(fmt.Sprintf("%s: Format(Parse(s)) changed s\n  s: %s\n  -> %s", fuzzConfig(&cfgs[i]), text, again))
			}
			if d.Lenient {
				return
			}
			v := d.version() // a CONNECT has already set it to its own level
			w1 := p.Append(nil, v)
			d2 := Decoder{Version: v, From: d.From}
			p2, n, err := d2.Decode(w1)
			if err != nil || n != len(w1) {
				panic(fmt.Sprintf("%s: %s\n  decoded from % x\n  encodes to % x\n  which does not decode: used %d, %v",
					fuzzConfig(&cfgs[i]), text, raw, w1, n, err))
			}
			if again := Format(p2); again != text {
				panic(fmt.Sprintf("%s: decode, encode, decode changed the packet\n  %s\n  %s", fuzzConfig(&cfgs[i]), text, again))
			}
			if w2 := p2.Append(nil, v); !bytes.Equal(w1, w2) {
				panic(fmt.Sprintf("%s: %s encodes as % x, then as % x", fuzzConfig(&cfgs[i]), text, w1, w2))
			}
		})
	}
	return interesting
}

// FuzzNotationOnce parses s. Whatever parses must format to text that
// parses to the same packet, and must encode for every version with a fixed
// header whose Remaining Length counts exactly the bytes that follow.
func FuzzNotationOnce(s string) int {
	p, err := Parse(s)
	if err != nil {
		return 0
	}
	text := Format(p)
	q, err := Parse(text)
	if err != nil {
		panic(fmt.Sprintf("Parse(%q) worked but Parse(Format) = Parse(%q): %v", s, text, err))
	}
	if again := Format(q); again != text {
		panic(fmt.Sprintf("Format(Parse(Format(Parse(s)))) differs\n  %s\n  %s", text, again))
	}
	for _, v := range [...]Version{V31, V311, V5} {
		w := p.Append(nil, v)
		fh, err := ParseFixedHeader(w, v)
		if err != nil || fh.Size+fh.Remaining != len(w) {
			panic(fmt.Sprintf("%s encoded for %v as % x: header %+v, %v", text, v, w, fh, err))
		}
		d := Decoder{Version: v, Lenient: true}
		d.Decode(w)
	}
	return 1
}

// chunkReader hands out a stream in chunks whose sizes follow a seeded
// xorshift sequence, optionally returning io.EOF with the last bytes.
type chunkReader struct {
	data     []byte
	state    uint32
	max      int
	eofEarly bool
	received int
}

func (c *chunkReader) Read(b []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	c.state ^= c.state << 13
	c.state ^= c.state >> 17
	c.state ^= c.state << 5
	n := 1 + int(c.state%uint32(c.max))
	n = min(n, len(b), len(c.data))
	copy(b, c.data[:n])
	c.data = c.data[n:]
	c.received += n
	if c.eofEarly && len(c.data) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// FuzzReaderOnce reads a stream through a Reader in arbitrary chunks. The
// first byte picks the decoder settings and buffer size, the second seeds
// the chunk sizes, the rest is the stream. The Reader must return what a
// Decoder returns over the whole stream at once, and its buffer must stay
// within twice the bytes received (or its initial size).
func FuzzReaderOnce(data []byte) int {
	cfgs := fuzzConfigs()
	if len(data) < 2 {
		return 0
	}
	cfg, seed, stream := data[0], data[1], data[2:]
	ref := cfgs[int(cfg&0x3f)%len(cfgs)]
	ref.MaxPacketSize = [...]int{0, 16, 300, 1 << 16}[cfg>>6]
	initial := 1 + int(seed&0x0f)*3

	src := &chunkReader{data: stream, state: uint32(seed)*2654435761 | 1, max: 1 + int(seed>>4)*5, eofEarly: seed&1 == 1}
	r := NewReader(src, initial)
	r.Decoder = ref
	d := ref
	off := 0
	interesting := 0
	for range len(stream) + 1 {
		want, n, wantErr := d.Decode(stream[off:])
		got, gotErr := r.ReadPacket()
		if limit := max(initial, 2*src.received); len(r.buf) > limit {
			panic(fmt.Sprintf("reader buffer of %d bytes after receiving %d", len(r.buf), src.received))
		}
		switch {
		case wantErr == ErrShortBuffer && off == len(stream):
			if gotErr != io.EOF {
				panic(fmt.Sprintf("at the end of the stream ReadPacket returned %v, %v", got, gotErr))
			}
			return interesting
		case wantErr == ErrShortBuffer:
			if gotErr != io.ErrUnexpectedEOF {
				panic(fmt.Sprintf("stream ends inside a packet at %d, ReadPacket returned %v", off, gotErr))
			}
			return interesting
		case wantErr != nil:
			if !sameError(wantErr, gotErr) {
				panic(fmt.Sprintf("at byte %d Decode failed with %v, ReadPacket with %v", off, wantErr, gotErr))
			}
			return interesting
		case gotErr != nil:
			panic(fmt.Sprintf("at byte %d Decode read %s, ReadPacket failed: %v", off, Format(want), gotErr))
		}
		if w, g := Format(want), Format(got); w != g {
			panic(fmt.Sprintf("at byte %d Decode read %s, ReadPacket %s", off, w, g))
		}
		if !bytes.Equal(r.Raw(), stream[off:off+n]) {
			panic(fmt.Sprintf("at byte %d Raw is % x, the packet % x", off, r.Raw(), stream[off:off+n]))
		}
		off += n
		interesting = 1
	}
	panic("more packets than bytes")
}

// sameError compares decode errors by what they say about the input.
func sameError(a, b error) bool {
	ea, okA := AsError(a)
	eb, okB := AsError(b)
	if !okA || !okB {
		return errors.Is(b, a)
	}
	return ea.Rule == eb.Rule && ea.Reason == eb.Reason && ea.Type == eb.Type && ea.Field == eb.Field && ea.Offset == eb.Offset
}

// FuzzLayerOnce decodes data[1:] as one TCP segment with the MQTT layer,
// data[0] picking the settings. The layer must split the segment into
// contents and payload, find the packets a Decoder finds, keep packets of
// the same type apart, and decode the same way when reused.
func FuzzLayerOnce(data []byte) int {
	cfgs := fuzzConfigs()
	if len(data) < 1 {
		return 0
	}
	ref := cfgs[int(data[0])%len(cfgs)]
	seg := data[1:]
	var want []string
	d := ref
	used, refErr := decodeStream(&d, seg, func(p Packet, _ []byte) { want = append(want, Format(p)) })

	m := MQTT{Version: ref.Version, From: ref.From, Strict: !ref.Lenient}
	for round := range 2 {
		m.Version = ref.Version
		err := m.DecodeFromBytes(seg, gopacket.NilDecodeFeedback)
		if (err == nil) != (refErr == nil || refErr == ErrShortBuffer) {
			panic(fmt.Sprintf("round %d: layer error %v, decoder error %v", round, err, refErr))
		}
		if len(m.Contents) != used || !bytes.Equal(append(append([]byte{}, m.Contents...), m.Payload()...), seg) {
			panic(fmt.Sprintf("round %d: contents % x and payload % x do not split % x at %d", round, m.Contents, m.Payload(), seg, used))
		}
		if len(m.Packets) != len(want) {
			panic(fmt.Sprintf("round %d: layer found %d packets, decoder %d", round, len(m.Packets), len(want)))
		}
		at := 0
		for i, p := range m.Packets {
			if got := Format(p.Packet); got != want[i] {
				panic(fmt.Sprintf("round %d: packet %d is %s, decoder read %s", round, i, got, want[i]))
			}
			if !bytes.Equal(p.Raw, seg[at:at+len(p.Raw)]) {
				panic(fmt.Sprintf("round %d: packet %d raw bytes are not the segment's", round, i))
			}
			at += len(p.Raw)
		}
	}
	if len(want) > 0 {
		return 1
	}
	return 0
}
