package fuzz

import (
	"encoding/binary"

	"mqttspec/codec"
)

// header mutates the fixed header: flag bits, the packet type, and the
// Remaining Length's encoding (non-minimal, over-long, off by one, huge).
func (m *mutator) header(raw []byte) []byte {
	r := m.rng
	fh, err := codec.ParseFixedHeader(raw, m.v)
	if err != nil || len(raw) < fh.Size {
		return m.bytes(raw)
	}
	out := append([]byte(nil), raw...)
	body := raw[fh.Size:]
	switch r.IntN(7) {
	case 0:
		out[0] ^= 1 << r.IntN(4)
		return out
	case 1:
		out[0] = out[0]&0xF0 | byte(r.IntN(16))
		return out
	case 2:
		out[0] = byte(r.IntN(16))<<4 | out[0]&0x0F
		return out
	case 3:
		return framed(raw[0], nonMinimalVarint(len(body), 1+r.IntN(3)), body)
	case 4:
		return framed(raw[0], overlongVarint(len(body)), body)
	case 5:
		n := len(body) + 1
		if n > 1 && r.IntN(2) == 0 {
			n = len(body) - 1
		}
		return framed(raw[0], codec.AppendVarint(nil, n), body)
	}
	return framed(raw[0], codec.AppendVarint(nil, pick(r, 0, codec.MaxRemaining, 127, 128, 16383, 16384)), body)
}

// framed builds a packet from its first byte, a Remaining Length encoding
// and a body; the encoding need not match the body.
func framed(first byte, length, body []byte) []byte {
	out := make([]byte, 0, 1+len(length)+len(body))
	out = append(out, first)
	out = append(out, length...)
	return append(out, body...)
}

// nonMinimalVarint encodes v with extra continuation bytes: the last byte
// is then 0, which MQTT 5.0 forbids [MQTT-1.5.5-1].
func nonMinimalVarint(v, extra int) []byte {
	b := codec.AppendVarint(nil, v)
	for i := 0; i < extra && len(b) < 4; i++ {
		b[len(b)-1] |= 0x80
		b = append(b, 0)
	}
	return b
}

// overlongVarint encodes v in five bytes, one more than any Variable Byte
// Integer may have.
func overlongVarint(v int) []byte {
	b := nonMinimalVarint(v, 4)
	b[len(b)-1] |= 0x80
	return append(b, 0x01)
}

// bytes mutates a packet's encoding byte by byte. Half of the time the
// change is made to the body and the Remaining Length follows it, so the
// damage lands inside the packet instead of breaking the framing.
func (m *mutator) bytes(raw []byte) []byte {
	r := m.rng
	if fh, err := codec.ParseFixedHeader(raw, m.v); err == nil && len(raw) > fh.Size && r.IntN(2) == 0 {
		body := m.flipBytes(append([]byte(nil), raw[fh.Size:]...))
		return framed(raw[0], codec.AppendVarint(nil, len(body)), body)
	}
	return m.flipBytes(append([]byte(nil), raw...))
}

func (m *mutator) flipBytes(b []byte) []byte {
	r := m.rng
	if len(b) == 0 {
		return append(b, byte(r.IntN(256)))
	}
	i := r.IntN(len(b))
	switch r.IntN(7) {
	case 0:
		b[i] ^= 1 << r.IntN(8)
	case 1:
		b[i] = byte(pick(r, 0x00, 0x01, 0x7F, 0x80, 0xFF, r.IntN(256)))
	case 2:
		ins := make([]byte, 1+r.IntN(4))
		for k := range ins {
			ins[k] = byte(r.IntN(256))
		}
		b = append(b[:i], append(ins, b[i:]...)...)
	case 3:
		b = append(b[:i], b[min(len(b), i+1+r.IntN(4)):]...)
	case 4:
		b = b[:i]
	case 5:
		j := min(len(b), i+1+r.IntN(16))
		b = append(b[:j], append(append([]byte(nil), b[i:j]...), b[j:]...)...)
	default:
		if i+2 <= len(b) {
			binary.BigEndian.PutUint16(b[i:], uint16(pick(r, 0, 1, 0xFFFF, len(b)-i-1, len(b)-i)))
		}
	}
	if len(b) > maxPacketBytes {
		b = b[:maxPacketBytes]
	}
	return b
}

// propsStart is the offset of a 5.0 packet's Property Length, or -1 when the
// packet has none or is too damaged to find it.
func propsStart(raw []byte, fh codec.FixedHeader) int {
	i := fh.Size
	u16 := func(at int) int {
		if at+2 > len(raw) {
			return 1 << 20
		}
		return int(binary.BigEndian.Uint16(raw[at:]))
	}
	switch fh.Type {
	case codec.CONNECT:
		i += 2 + u16(i) + 4
	case codec.PUBLISH:
		i += 2 + u16(i)
		if fh.Flags>>1&3 != 0 {
			i += 2
		}
	case codec.PUBACK, codec.PUBREC, codec.PUBREL, codec.PUBCOMP:
		i += 3
	case codec.SUBSCRIBE, codec.UNSUBSCRIBE:
		i += 2
	case codec.DISCONNECT, codec.AUTH:
		i++
	default:
		return -1
	}
	if i >= len(raw) {
		return -1
	}
	return i
}

// propEntries splits a property block into entries; rest is what follows
// the last entry that could be read.
func propEntries(block []byte) (entries [][]byte, rest []byte) {
	for len(block) > 0 {
		info, ok := codec.LookupProp(codec.PropID(block[0]))
		if !ok {
			return entries, block
		}
		n := 1
		switch info.Kind {
		case codec.KindByte:
			n++
		case codec.KindU16:
			n += 2
		case codec.KindU32:
			n += 4
		case codec.KindVarint:
			_, k, _, _ := codec.Varint(block[1:])
			if k == 0 {
				return entries, block
			}
			n += k
		case codec.KindString, codec.KindBinary:
			n += 2 + strLen(block[1:])
		case codec.KindPair:
			k := 2 + strLen(block[1:])
			n += k + 2 + strLen(block[min(len(block), 1+k):])
		}
		if n > len(block) {
			return entries, block
		}
		entries = append(entries, block[:n])
		block = block[n:]
	}
	return entries, nil
}

func strLen(b []byte) int {
	if len(b) < 2 {
		return 1 << 20
	}
	return int(binary.BigEndian.Uint16(b))
}

// properties mutates a 5.0 property block as bytes: duplicated, reordered,
// dropped or unknown properties, properties not allowed on the packet,
// declared lengths off by one or non-minimal, property identifiers encoded
// in two bytes, and values cut short.
func (m *mutator) properties(raw []byte) []byte {
	r := m.rng
	fh, err := codec.ParseFixedHeader(raw, m.v)
	if m.v != codec.V5 || err != nil {
		return m.structural(raw)
	}
	start := propsStart(raw, fh)
	if start < 0 {
		return m.structural(raw)
	}
	plen, n, _, _ := codec.Varint(raw[start:])
	end := start + n + plen
	if n == 0 || end > len(raw) {
		return m.bytes(raw)
	}
	entries, rest := propEntries(raw[start+n : end])
	lenBytes := []byte(nil) // nil: the block's real length, minimal
	switch op := r.IntN(8); {
	case op == 0 && len(entries) > 0:
		i := r.IntN(len(entries))
		entries = append(entries[:i+1], entries[i:]...)
	case op == 1 && len(entries) > 1:
		i, j := r.IntN(len(entries)), r.IntN(len(entries))
		entries[i], entries[j] = entries[j], entries[i]
	case op == 2 && len(entries) > 0:
		i := r.IntN(len(entries))
		entries = append(entries[:i], entries[i+1:]...)
	case op == 4:
		d := 1
		if plen > 0 && r.IntN(2) == 0 {
			d = -1
		}
		lenBytes = codec.AppendVarint(nil, plen+d)
	case op == 5:
		lenBytes = nonMinimalVarint(plen, 1+r.IntN(2))
	case op == 6 && len(entries) > 0:
		i := r.IntN(len(entries))
		e := append([]byte{entries[i][0] | 0x80, 0x00}, entries[i][1:]...)
		entries[i] = e
	case op == 7 && len(entries) > 0:
		i := len(entries) - 1
		entries[i] = entries[i][:len(entries[i])-1]
	default:
		at := r.IntN(len(entries) + 1)
		entries = append(entries[:at], append([][]byte{m.propEntry()}, entries[at:]...)...)
	}
	var block []byte
	for _, e := range entries {
		block = append(block, e...)
	}
	block = append(block, rest...)
	if lenBytes == nil {
		lenBytes = codec.AppendVarint(nil, len(block))
	}
	body := append([]byte(nil), raw[fh.Size:start]...)
	body = append(body, lenBytes...)
	body = append(body, block...)
	body = append(body, raw[end:]...)
	return framed(raw[0], codec.AppendVarint(nil, len(body)), body)
}

// propEntry is one property, of any type or an unknown identifier, with an
// edge-case value.
func (m *mutator) propEntry() []byte {
	r := m.rng
	table := codec.Props()
	if r.IntN(8) == 0 {
		return []byte{byte(pick(r, 0x00, 0x04, 0x10, 0x2B, 0x7F, 0xFF)), 0x00}
	}
	info := table[r.IntN(len(table))]
	e := []byte{byte(info.ID)}
	str := func() []byte {
		s := m.text([]byte("p"))
		return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...)
	}
	switch info.Kind {
	case codec.KindByte:
		return append(e, byte(pick(r, 0, 1, 2, 0xFF)))
	case codec.KindU16:
		return binary.BigEndian.AppendUint16(e, uint16(pick(r, 0, 1, 10, 0xFFFF)))
	case codec.KindU32:
		return binary.BigEndian.AppendUint32(e, uint32(pick(r, 0, 1, 60, 0xFFFFFFFF)))
	case codec.KindVarint:
		return append(e, pick(r, []byte{0x00}, []byte{0x01}, []byte{0xFF, 0xFF, 0xFF, 0x7F}, []byte{0x81, 0x00})...)
	case codec.KindPair:
		return append(append(e, str()...), str()...)
	}
	return append(e, str()...)
}
