package codec

import (
	"encoding/binary"
	"math/bits"
)

// Fast paths for the string checks every packet pays for: topics, filters
// and property strings are nearly always short plain ASCII, so they are
// scanned eight bytes at a time and only a suspicious string goes through
// the exact, byte-by-byte checks that locate and name the fault.
//
// The ...Bits functions return a word whose high bits (highs) mark bytes
// that may be faulty; OR-ed over a string and masked once, the result is
// zero exactly when no byte is. Scanning then needs no branch per word.

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// asciiBits marks U+0000 and bytes >= 0x80: in a word whose bytes are below
// 0x80, subtracting one from every byte borrows out of a byte only where it
// is 0.
func asciiBits(w uint64) uint64 { return (w - ones) | w }

// wildcards turns '+' (0x2B) and '#' (0x23), which differ only in bit 3,
// into 0 bytes, and no other byte; bit 7 of every byte is left as it was.
func wildcards(w uint64) uint64 { return (w | 0x08*ones) ^ '+'*ones }

// wildcardBits marks '+' and '#', whatever the other bytes are.
func wildcardBits(w uint64) uint64 { y := wildcards(w); return (y - ones) &^ y }

// topicBits marks what a plain topic name may not hold: U+0000, bytes
// >= 0x80, '+' and '#'. Bytes >= 0x80 are marked through w itself, so a
// plain subtraction finds the 0 bytes of both words.
func topicBits(w uint64) uint64 { return (w - ones) | (wildcards(w) - ones) | w }

// short packs s (shorter than 8 bytes) into a word of its own bytes,
// overlapping where needed, and fills the rest with 'a', which no check
// objects to. Unlike copying into a padded array it calls nothing.
func short(s []byte) uint64 {
	switch n := len(s); {
	case n >= 4:
		return uint64(binary.LittleEndian.Uint32(s)) | uint64(binary.LittleEndian.Uint32(s[n-4:]))<<32
	case n >= 2:
		return uint64(binary.LittleEndian.Uint16(s)) | uint64(binary.LittleEndian.Uint16(s[n-2:]))<<16 | 0x6161616100000000
	case n == 1:
		return uint64(s[0]) | 0x6161616161616100
	}
	return 0x6161616161616161
}

// The scans read the last eight bytes first and then the words before
// them; the overlap is harmless for "does any byte ..." questions. They are spelled
// out one per check so the bit function inlines.

// isPlainASCII reports whether s is ASCII without U+0000: well-formed UTF-8
// with nothing the string rules forbid.
func isPlainASCII(s []byte) bool {
	if len(s) < 8 {
		return asciiBits(short(s))&highs == 0
	}
	n := len(s)
	acc := asciiBits(binary.LittleEndian.Uint64(s[n-8:]))
	for k := 0; k < n-8; k += 8 {
		acc |= asciiBits(binary.LittleEndian.Uint64(s[k : k+8]))
	}
	return acc&highs == 0
}

// hasNoWildcard reports whether s contains neither '+' nor '#'.
func hasNoWildcard(s []byte) bool {
	if len(s) < 8 {
		return wildcardBits(short(s))&highs == 0
	}
	n := len(s)
	acc := wildcardBits(binary.LittleEndian.Uint64(s[n-8:]))
	for k := 0; k < n-8; k += 8 {
		acc |= wildcardBits(binary.LittleEndian.Uint64(s[k : k+8]))
	}
	return acc&highs == 0
}

// plainTopicName reads a topic name that is whole, non-empty and plain
// ASCII without '+' or '#': one pass settles every check on it. Anything
// else is left unread (ok false) for str and checkTopicName to judge.
func (c *cursor) plainTopicName() (s []byte, ok bool) {
	i := c.i
	if c.end-i < 2 {
		return nil, false
	}
	j := i + 2 + (int(c.b[i])<<8 | int(c.b[i+1]))
	if j == i+2 || j > c.end {
		return nil, false
	}
	t := c.b[i+2 : j]
	var acc uint64
	if len(t) < 8 {
		acc = topicBits(short(t))
	} else {
		n := len(t)
		acc = topicBits(binary.LittleEndian.Uint64(t[n-8:]))
		for k := 0; k < n-8; k += 8 {
			acc |= topicBits(binary.LittleEndian.Uint64(t[k : k+8]))
		}
	}
	if acc&highs != 0 {
		return nil, false
	}
	c.i = j
	return c.b[i+2 : j], true
}

// plainString reads the UTF-8 Encoded String at c.i when it is whole and
// plain ASCII, which settles every check on it. Otherwise (ok false) c.i is
// left alone for str to read it and name the fault. The scan is written
// out here rather than called: property strings are short and many.
func (c *cursor) plainString() (s []byte, ok bool) {
	i := c.i
	if c.end-i < 2 {
		return nil, false
	}
	j := i + 2 + (int(c.b[i])<<8 | int(c.b[i+1]))
	if j > c.end {
		return nil, false
	}
	t := c.b[i+2 : j]
	var acc uint64
	if len(t) < 8 {
		acc = asciiBits(short(t))
	} else {
		n := len(t)
		acc = asciiBits(binary.LittleEndian.Uint64(t[n-8:]))
		for k := 0; k < n-8; k += 8 {
			acc |= asciiBits(binary.LittleEndian.Uint64(t[k : k+8]))
		}
	}
	if acc&highs != 0 {
		return nil, false
	}
	c.i = j
	return c.b[i+2 : j], true
}

// nextWildcard is the index of the first '+' or '#' in s at or after from,
// or len(s). Whole words without one are skipped; wildcardBits may also
// mark the byte after a wildcard, so a marked byte is looked at before it
// is taken.
func nextWildcard(s []byte, from int) int {
	i := from
	for ; i+8 <= len(s); i += 8 {
		for m := wildcardBits(binary.LittleEndian.Uint64(s[i:])) & highs; m != 0; m &= m - 1 {
			if j := i + bits.TrailingZeros64(m)/8; s[j] == '+' || s[j] == '#' {
				return j
			}
		}
	}
	for ; i < len(s); i++ {
		if s[i] == '+' || s[i] == '#' {
			return i
		}
	}
	return len(s)
}
