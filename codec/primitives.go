package codec

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"
)

// AppendVarint appends v as a Variable Byte Integer (1-4 bytes).
func AppendVarint(dst []byte, v int) []byte {
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(dst, b)
		}
		dst = append(dst, b|0x80)
	}
}

// varintLen is how many bytes AppendVarint writes for v.
func varintLen(v int) int {
	switch {
	case v < 128:
		return 1
	case v < 16384:
		return 2
	case v < 2097152:
		return 3
	}
	return 4
}

// Varint reads a Variable Byte Integer. n is the bytes used; n == 0 means b
// ended first. It reports over-long (5+ byte) and non-minimal encodings.
func Varint(b []byte) (v, n int, overlong, nonMinimal bool) {
	mult := 1
	for i := 0; i < len(b); i++ {
		if i == 4 {
			return 0, i + 1, true, false
		}
		c := b[i]
		v += int(c&0x7f) * mult
		if c&0x80 == 0 {
			// A final zero byte after a continuation adds nothing: the
			// same value fits in fewer bytes.
			return v, i + 1, false, i > 0 && c == 0
		}
		mult <<= 7
	}
	return 0, 0, false, false
}

// ParseFixedHeader reads the fixed header at the start of b. It returns
// ErrShortBuffer if b ends inside the header. A Remaining Length longer than
// it needs to be still frames the packet; DecodeBody reports it.
func ParseFixedHeader(b []byte, v Version) (FixedHeader, error) {
	if len(b) < 2 {
		return FixedHeader{}, ErrShortBuffer
	}
	fh := FixedHeader{Type: Type(b[0] >> 4), Flags: b[0] & 0x0f}
	if b[1] < 0x80 { // a one-byte Remaining Length, the common case
		fh.Remaining, fh.Size = int(b[1]), 2
		return fh, nil
	}
	rl, n, overlong, _ := Varint(b[1:])
	switch {
	case overlong:
		return fh, malformed(fh.Type, "remaining length", 1, "",
			"Variable Byte Integer longer than 4 bytes"+section(v, "2.2.3", "1.5.5"))
	case n == 0:
		return fh, ErrShortBuffer
	}
	fh.Remaining, fh.Size = rl, 1+n
	return fh, nil
}

// cursor walks one packet's bytes; offsets in errors count from the packet's
// first byte, so the reader remembers where the variable header starts.
type cursor struct {
	b   []byte // the whole packet
	i   int
	end int // end of the region being read (packet end or property block end)
	t   Type
	v   Version
	d   *Decoder
}

func (c *cursor) short(field string) *Error {
	return malformed(c.t, field, c.i, "", "packet ends before the field does"+section(c.v, "2.2.3", "2.1.4"))
}

func (c *cursor) left() int { return c.end - c.i }

func (c *cursor) u8(field string) (byte, error) {
	if c.i >= c.end {
		return 0, c.short(field)
	}
	c.i++
	return c.b[c.i-1], nil
}

func (c *cursor) u16(field string) (uint16, error) {
	if c.end-c.i < 2 {
		return 0, c.short(field)
	}
	c.i += 2
	return binary.BigEndian.Uint16(c.b[c.i-2:]), nil
}

func (c *cursor) u32(field string) (uint32, error) {
	if c.end-c.i < 4 {
		return 0, c.short(field)
	}
	c.i += 4
	return binary.BigEndian.Uint32(c.b[c.i-4:]), nil
}

func (c *cursor) varint(field string) (int, error) {
	// One byte is the common case (property lengths and identifiers).
	if i := c.i; i < c.end && c.b[i] < 0x80 {
		c.i = i + 1
		return int(c.b[i]), nil
	}
	return c.longVarint(field)
}

func (c *cursor) longVarint(field string) (int, error) {
	start := c.i
	v, n, overlong, nonMin := Varint(c.b[c.i:c.end])
	switch {
	case overlong:
		return 0, malformed(c.t, field, start, "", "Variable Byte Integer longer than 4 bytes"+section(c.v, "2.2.3", "1.5.5"))
	case n == 0:
		return 0, c.short(field)
	case nonMin:
		if err := c.d.violate(malformed(c.t, field, start, rule(c.v, "", "MQTT-1.5.5-1"),
			"Variable Byte Integer not encoded in the minimum number of bytes")); err != nil {
			return 0, err
		}
	}
	c.i += n
	return v, nil
}

// binary reads Binary Data: a two-byte length and that many bytes.
func (c *cursor) binary(field string) ([]byte, error) {
	n, err := c.u16(field)
	if err != nil {
		return nil, err
	}
	if c.end-c.i < int(n) {
		c.i -= 2
		return nil, malformed(c.t, field, c.i, "", "length prefix overruns the packet"+section(c.v, "2.2.3", "2.1.4"))
	}
	c.i += int(n)
	return c.b[c.i-int(n) : c.i], nil
}

// str reads a UTF-8 Encoded String and checks it as the spec requires.
func (c *cursor) str(field string) ([]byte, error) {
	if s, ok := c.plainString(); ok {
		return s, nil
	}
	start := c.i
	s, err := c.binary(field)
	if err != nil {
		return nil, err
	}
	if e := checkUTF8(s, c.v); e != nil {
		e.Type, e.Field, e.Offset = c.t, field, start+2+e.Offset
		if err := c.d.violate(e); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// checkUTF8 enforces well-formed UTF-8 without surrogates or U+0000. Go's
// utf8.Valid already rejects encoded surrogates (ED A0..BF xx).
func checkUTF8(s []byte, v Version) *Error {
	if isPlainASCII(s) {
		return nil
	}
	if i := bytes.IndexByte(s, 0); i >= 0 {
		return malformed(0, "", i, rule(v, "MQTT-1.5.3-2", "MQTT-1.5.4-2"), "string contains U+0000")
	}
	if utf8.Valid(s) {
		return nil
	}
	off := 0
	for off < len(s) {
		r, size := utf8.DecodeRune(s[off:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		off += size
	}
	msg := "ill-formed UTF-8"
	if off+1 < len(s) && s[off] == 0xED && s[off+1] >= 0xA0 {
		msg = "UTF-8 encodes a surrogate code point (U+D800..U+DFFF)"
	}
	return malformed(0, "", off, rule(v, "MQTT-1.5.3-1", "MQTT-1.5.4-1"), msg)
}

func appendU16(dst []byte, v uint16) []byte { return append(dst, byte(v>>8), byte(v)) }

func appendU32(dst []byte, v uint32) []byte {
	return append(dst, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func appendBinary(dst, s []byte) []byte {
	dst = appendU16(dst, uint16(len(s)))
	return append(dst, s...)
}
