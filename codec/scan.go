package codec

import "encoding/binary"

// Fast paths for the string checks every packet pays for: topics, filters
// and property strings are nearly always short plain ASCII, so they are
// scanned eight bytes at a time and only a suspicious string goes through
// the exact, byte-by-byte checks that locate and name the fault.
//
// Each fault function returns a word whose high bits mark bytes that may be
// faulty; it is zero exactly when no byte is. The scans OR the words of a
// string together and test once, which keeps the loop free of branches.

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// zeroBytes marks the bytes of w that are 0 (exact as a whole: nonzero iff
// some byte is 0).
func zeroBytes(w uint64) uint64 { return (w - ones) &^ w & highs }

// asciiFaults marks U+0000 and bytes >= 0x80.
func asciiFaults(w uint64) uint64 { return (w - ones | w) & highs }

// wildcardFaults marks '+' and '#'.
func wildcardFaults(w uint64) uint64 { return zeroBytes(w^('+'*ones)) | zeroBytes(w^('#'*ones)) }

// topicFaults marks what a plain topic name may not hold: U+0000, bytes
// >= 0x80, '+' and '#'.
func topicFaults(w uint64) uint64 { return asciiFaults(w) | wildcardFaults(w) }

// The scans below OR a fault word over s, eight bytes at a time. The last
// word overlaps the one before it, which is harmless for "does any byte
// ..." questions; a string shorter than a word is padded with a byte no
// check objects to. They are spelled out one per check so the fault
// function inlines.

func word(s []byte, i int) uint64 { return binary.LittleEndian.Uint64(s[i:]) }

// short pads s (shorter than 8 bytes) to a word.
func short(s []byte) uint64 {
	pad := [8]byte{'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'}
	copy(pad[:], s)
	return binary.LittleEndian.Uint64(pad[:])
}

// isPlainASCII reports whether s is ASCII without U+0000: well-formed UTF-8
// with nothing the string rules forbid.
func isPlainASCII(s []byte) bool {
	n := len(s)
	if n < 8 {
		return asciiFaults(short(s)) == 0
	}
	acc := asciiFaults(word(s, n-8))
	for i := 0; i+8 <= n; i += 8 {
		acc |= asciiFaults(word(s, i))
	}
	return acc == 0
}

// hasNoWildcard reports whether s contains neither '+' nor '#'.
func hasNoWildcard(s []byte) bool {
	n := len(s)
	if n < 8 {
		return wildcardFaults(short(s)) == 0
	}
	acc := wildcardFaults(word(s, n-8))
	for i := 0; i+8 <= n; i += 8 {
		acc |= wildcardFaults(word(s, i))
	}
	return acc == 0
}

// isPlainTopic is isPlainASCII and hasNoWildcard in one pass.
func isPlainTopic(s []byte) bool {
	n := len(s)
	if n < 8 {
		return topicFaults(short(s)) == 0
	}
	acc := topicFaults(word(s, n-8))
	for i := 0; i+8 <= n; i += 8 {
		acc |= topicFaults(word(s, i))
	}
	return acc == 0
}
