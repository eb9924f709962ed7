package pcap

import (
	"fmt"

	"mqttspec/codec"
)

// resyncWindow is the longest packet waited for while looking for a packet
// boundary; a longer candidate is more likely noise than a packet.
const resyncWindow = 256 << 10

// verdict is the answer to "does a packet start here?".
type verdict uint8

const (
	verdictNo verdict = iota
	verdictYes
	verdictMore // cannot tell before more bytes arrive
)

// mqttBytes takes direction i's MQTT byte stream and frames it into
// packets. Complete packets are decoded where they lie; only the tail of an
// incomplete one is copied, and then just the bytes that complete it.
func (s *stream) mqttBytes(i int, data []byte, ctx *segCtx) {
	h := &s.halves[i]
	if h.dead || s.r.err != nil || (s.needConnect && s.dir(i) == BrokerToClient) {
		return
	}
	if !h.started {
		h.started = true
		h.sync = h.sync || h.synSeen
		if !h.sync {
			h.setReason("capture starts mid-connection")
		}
	}
	for len(data) > 0 && s.kind != kindOther && s.r.err == nil {
		if h.skip > 0 {
			n := min(h.skip, len(data))
			h.skip -= n
			data = data[n:]
			continue
		}
		if len(h.buf) == 0 {
			data = data[s.frames(i, data, ctx):]
			if h.skip == 0 {
				h.buf = append(h.buf, data...)
				break
			}
			continue
		}
		n := len(data)
		if h.sync {
			// Take only what the pending packet (or its header) still needs.
			fh, err := codec.ParseFixedHeader(h.buf, codec.V311)
			if err == codec.ErrShortBuffer {
				n = 1
			} else if total := fh.Size + fh.Remaining; err == nil && total <= s.r.MaxPacketSize {
				n = min(n, total-len(h.buf))
			}
		}
		h.buf = append(h.buf, data[:n]...)
		data = data[n:]
		used := s.frames(i, h.buf, ctx)
		h.buf = h.buf[:copy(h.buf, h.buf[used:])]
	}
	switch {
	case s.kind == kindOther:
		h.buf = nil
	case cap(h.buf) > 64<<10 && len(h.buf) <= 4<<10:
		// Give back the room a large packet needed.
		if len(h.buf) == 0 {
			h.buf = nil
		} else {
			h.buf = append([]byte(nil), h.buf...)
		}
	}
}

// frames delivers the complete packets at the start of b and returns how
// many bytes it used.
func (s *stream) frames(i int, b []byte, ctx *segCtx) int {
	h := &s.halves[i]
	r := s.r
	off := 0
	for off < len(b) && r.err == nil && s.kind != kindOther {
		if !h.sync && s.conn != nil {
			n, ok := s.resync(i, b[off:])
			off += n
			h.discarded += n
			if !ok {
				break
			}
			h.sync = true
			s.reportDamage(i, ctx)
		}
		fh, err := codec.ParseFixedHeader(b[off:], codec.V311)
		if err == codec.ErrShortBuffer {
			break
		}
		if s.conn == nil && (err != nil || fh.Type != codec.CONNECT || fh.Size+fh.Remaining > r.MaxPacketSize) {
			// Not yet known as MQTT (a WebSocket on a web port): anything
			// but a readable CONNECT first says it is something else.
			s.kind = kindOther
			break
		}
		if err != nil {
			// Without a remaining length the packet's end is unknown.
			h.sync = false
			h.setReason("unreadable remaining length: " + err.Error())
			continue
		}
		total := fh.Size + fh.Remaining
		if total > r.MaxPacketSize {
			end := min(len(b), off+total)
			s.emitOversized(i, fh, b[off:end], total, ctx)
			h.skip = total - (end - off)
			off = end
			continue
		}
		if len(b)-off < total {
			break
		}
		s.emit(i, fh, b[off:off+total], ctx)
		off += total
	}
	return off
}

func (s *stream) role(i int) codec.Role {
	if s.dir(i) == ClientToBroker {
		return codec.FromClient
	}
	return codec.FromServer
}

// emit decodes one complete packet leniently and hands it out.
func (s *stream) emit(i int, fh codec.FixedHeader, raw []byte, ctx *segCtx) {
	r := s.r
	dir := s.dir(i)
	if s.conn == nil {
		// A WebSocket on a web port becomes MQTT with the client's CONNECT
		// (frames lets only a CONNECT through to here).
		if !s.needConnect || dir != ClientToBroker {
			s.kind = kindOther
			return
		}
		s.needConnect = false
		s.open(ctx, WebSocket)
	}
	d := &r.dec
	d.Lenient, d.Version, d.From = true, s.conn.Version, s.role(i)
	p, err := d.DecodeBody(fh, raw)
	if fh.Type == codec.CONNECT && dir == ClientToBroker {
		// A CONNECT sets the version both directions are read with.
		if d.Version != 0 {
			s.conn.Version = d.Version
		}
		if c, ok := p.(*codec.Connect); ok && string(c.ClientID) != s.conn.ClientID {
			s.conn.ClientID = string(c.ClientID)
		}
	}
	m := &r.msg
	*m = Message{Record: ctx.record, Time: ctx.at, Conn: s.conn, Dir: dir, Type: fh.Type, Packet: p, Raw: raw, Err: err}
	if len(d.Violations) > 0 {
		m.Violations = d.Violations
		r.stats.WithViolations++
	}
	r.stats.Packets++
	if err != nil {
		r.stats.Undecodable++
	}
	r.deliver(m)
}

// emitOversized reports a packet larger than MaxPacketSize; it is skipped.
func (s *stream) emitOversized(i int, fh codec.FixedHeader, raw []byte, total int, ctx *segCtx) {
	r := s.r
	m := &r.msg
	*m = Message{Record: ctx.record, Time: ctx.at, Conn: s.conn, Dir: s.dir(i), Type: fh.Type, Raw: raw,
		Err: fmt.Errorf("%s of %d bytes is larger than the reader's limit of %d bytes; skipped", fh.Type, total, r.MaxPacketSize)}
	r.stats.Packets++
	r.stats.Undecodable++
	r.deliver(m)
}

func (r *Reader) deliver(m *Message) {
	if r.h.Message == nil {
		return
	}
	if err := r.h.Message(m); err != nil {
		r.err = err
	}
}

// resync returns how many bytes at the start of b to drop to reach the
// first confirmed packet; ok is false when there is none yet. Then it keeps
// the first candidate that needs more bytes to be judged: a candidate that
// cannot be confirmed must not hide a confirmed one after it.
func (s *stream) resync(i int, b []byte) (n int, ok bool) {
	wait := -1
	for ; n < len(b); n++ {
		switch s.plausible(i, b[n:]) {
		case verdictYes:
			return n, true
		case verdictMore:
			if wait < 0 {
				wait = n
			}
		}
	}
	if wait >= 0 {
		return wait, false
	}
	return n, false
}

// plausible says whether a packet starts at b: a valid fixed header, a
// body that decodes without a single violation, and then either the end of
// the data or another valid fixed header.
func (s *stream) plausible(i int, b []byte) verdict {
	v := s.conn.Version
	fh, vd := plausibleHeader(b, v)
	if vd != verdictYes {
		return vd
	}
	total := fh.Size + fh.Remaining
	if total > len(b) {
		if total > resyncWindow || total > s.r.MaxPacketSize {
			return verdictNo
		}
		return verdictMore
	}
	if !s.decodes(i, fh, b[:total]) {
		return verdictNo
	}
	if _, vd := plausibleHeader(b[total:], s.conn.Version); vd == verdictNo && len(b) > total {
		return verdictNo
	}
	return verdictYes
}

// decodes tries the body in the connection's version, or when that is not
// known yet in 3.1.1 and then 5.0, adopting 5.0 if only it fits.
func (s *stream) decodes(i int, fh codec.FixedHeader, pkt []byte) bool {
	d := &s.r.dec
	d.Lenient, d.From = true, s.role(i)
	versions := []codec.Version{s.conn.Version}
	if s.conn.Version == 0 {
		versions = []codec.Version{codec.V311, codec.V5}
	}
	for _, v := range versions {
		d.Version = v
		d.Violations = d.Violations[:0]
		if _, err := d.DecodeBody(fh, pkt); err == nil && len(d.Violations) == 0 {
			if s.conn.Version == 0 && v == codec.V5 && fh.Type != codec.CONNECT {
				s.conn.Version = codec.V5
			}
			return true
		}
	}
	return false
}

// plausibleHeader checks a fixed header alone: type, flags, a minimal
// remaining length and one that fits the type.
func plausibleHeader(b []byte, v codec.Version) (codec.FixedHeader, verdict) {
	if len(b) < 2 {
		return codec.FixedHeader{}, verdictMore
	}
	t, flags := codec.Type(b[0]>>4), b[0]&0x0f
	switch t {
	case 0:
		return codec.FixedHeader{}, verdictNo
	case codec.AUTH:
		if v != codec.V5 {
			return codec.FixedHeader{}, verdictNo
		}
	case codec.PUBLISH:
		if flags>>1&3 == 3 || (flags>>1&3 == 0 && flags&0x08 != 0) {
			return codec.FixedHeader{}, verdictNo
		}
	case codec.PUBREL, codec.SUBSCRIBE, codec.UNSUBSCRIBE:
		if flags != 2 {
			return codec.FixedHeader{}, verdictNo
		}
	default:
		if flags != 0 {
			return codec.FixedHeader{}, verdictNo
		}
	}
	fh, err := codec.ParseFixedHeader(b, codec.V311)
	if err == codec.ErrShortBuffer {
		return fh, verdictMore
	}
	if err != nil || (fh.Size > 2 && b[fh.Size-1] == 0) {
		return fh, verdictNo
	}
	rem, v3 := fh.Remaining, v != 0 && v != codec.V5
	var ok bool
	switch t {
	case codec.CONNECT:
		ok = rem >= 10
	case codec.CONNACK, codec.PUBACK, codec.PUBREC, codec.PUBREL, codec.PUBCOMP, codec.UNSUBACK:
		ok = rem == 2 || (!v3 && rem > 2)
	case codec.PUBLISH:
		ok = rem >= 2
	case codec.SUBSCRIBE, codec.UNSUBSCRIBE:
		ok = rem >= 5
	case codec.SUBACK:
		ok = rem >= 3
	case codec.PINGREQ, codec.PINGRESP:
		ok = rem == 0
	case codec.DISCONNECT:
		ok = rem == 0 || !v3
	default:
		ok = true
	}
	if !ok {
		return fh, verdictNo
	}
	return fh, verdictYes
}
