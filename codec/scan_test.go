package codec

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// The word-at-a-time scans must agree exactly with the plain definitions,
// whatever the length and wherever the offending byte sits.
func plainASCIIByBytes(s []byte) bool {
	return utf8.Valid(s) && bytes.IndexByte(s, 0) < 0 && !bytes.ContainsFunc(s, func(r rune) bool { return r >= 0x80 })
}

// plainTopic runs plainTopicName on s as the only field of a packet.
func plainTopic(s []byte) bool {
	b := append([]byte{byte(len(s) >> 8), byte(len(s))}, s...)
	c := cursor{b: b, end: len(b)}
	got, ok := c.plainTopicName()
	return ok && bytes.Equal(got, s) && c.i == len(b)
}

func TestScansMatchByteByByte(t *testing.T) {
	tests := []struct {
		name string
		s    string
	}{
		{"empty", ""},
		{"short plain", "a/b"},
		{"word plain", "abcdefgh"},
		{"31-byte topic", "sensors/building-7/floor-3/temp"},
		{"NUL first", "\x00abcdefghij"},
		{"NUL in the overlapping tail", "abcdefghi\x00"},
		{"NUL in a short string", "ab\x00"},
		{"high byte", "caf\xc3\xa9/x"},
		{"0x7f is plain", "a\x7fb"},
		{"plus at the end", "abcdefghijklmnop+"},
		{"hash first", "#abcdefgh"},
		{"plus in a short string", "a+"},
		{"byte below '#'", "a\"b!c$d*e,f"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := []byte(tc.s)
			require.Equal(t, plainASCIIByBytes(s), isPlainASCII(s))
			require.Equal(t, !bytes.ContainsAny(s, "+#"), hasNoWildcard(s))
			require.Equal(t, len(s) > 0 && plainASCIIByBytes(s) && !bytes.ContainsAny(s, "+#"), plainTopic(s))
		})
	}
	// Random strings over an alphabet rich in the bytes the scans look for.
	alphabet := []byte{0, 1, '"', '#', '$', '*', '+', ',', '/', 'a', 0x7f, 0x80, 0xc3, 0xa9, 0xff}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		s := mixedBytes(rng, 40, 4, alphabet, "abcdefghijklmnopqrstuvwxyz")
		require.Equal(t, plainASCIIByBytes(s), isPlainASCII(s), "%q", s)
		require.Equal(t, !bytes.ContainsAny(s, "+#"), hasNoWildcard(s), "%q", s)
		require.Equal(t, len(s) > 0 && plainASCIIByBytes(s) && !bytes.ContainsAny(s, "+#"), plainTopic(s), "%q", s)
		for from := 0; from <= len(s); from++ {
			want := len(s)
			if i := bytes.IndexAny(s[from:], "+#"); i >= 0 {
				want = from + i
			}
			require.Equal(t, want, nextWildcard(s, from), "%q from %d", s, from)
		}
	}
}

// mixedBytes is a random string of fewer than n bytes: about one in every
// rare from special, the others from common.
func mixedBytes(rng *rand.Rand, n, rare int, special []byte, common string) []byte {
	s := make([]byte, rng.IntN(n))
	for i := range s {
		if rng.IntN(rare) == 0 {
			s[i] = special[rng.IntN(len(special))]
		} else {
			s[i] = common[rng.IntN(len(common))]
		}
	}
	return s
}
