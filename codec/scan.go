package codec

import "encoding/binary"

// Fast paths for the string checks every packet pays for: topics, filters
// and property strings are nearly always short plain ASCII, so they are
// scanned eight bytes at a time and only a suspicious string goes through
// the exact, byte-by-byte checks that locate and name the fault.

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// The loops below read s eight bytes at a time; the last word overlaps the
// one before it, which is harmless for "does any byte ..." questions, and a
// string shorter than a word is padded with a byte every check accepts.

// short pads s (shorter than 8 bytes) to a word.
func short(s []byte) uint64 {
	pad := [8]byte{'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'}
	copy(pad[:], s)
	return binary.LittleEndian.Uint64(pad[:])
}

// hasZeroByte reports whether any byte of w is 0.
func hasZeroByte(w uint64) bool { return (w-ones)&^w&highs != 0 }

// plainASCII reports whether w holds neither U+0000 nor a byte >= 0x80.
func plainASCII(w uint64) bool { return (w-ones|w)&highs == 0 }

// noWildcard reports whether w holds neither '+' nor '#'.
func noWildcard(w uint64) bool {
	return !hasZeroByte(w^('+'*ones)) && !hasZeroByte(w^('#'*ones))
}

// isPlainASCII reports whether s is ASCII without U+0000: well-formed UTF-8
// with nothing the string rules forbid.
func isPlainASCII(s []byte) bool {
	n := len(s)
	if n < 8 {
		return plainASCII(short(s))
	}
	for i := 0; i+8 <= n; i += 8 {
		if !plainASCII(binary.LittleEndian.Uint64(s[i:])) {
			return false
		}
	}
	return plainASCII(binary.LittleEndian.Uint64(s[n-8:]))
}

// hasNoWildcard reports whether s contains neither '+' nor '#'.
func hasNoWildcard(s []byte) bool {
	n := len(s)
	if n < 8 {
		return noWildcard(short(s))
	}
	for i := 0; i+8 <= n; i += 8 {
		if !noWildcard(binary.LittleEndian.Uint64(s[i:])) {
			return false
		}
	}
	return noWildcard(binary.LittleEndian.Uint64(s[n-8:]))
}
