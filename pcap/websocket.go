package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"

	"mqttspec/codec"
)

// wsFrames unwraps one direction of WebSocket frames (RFC 6455): data frames
// (binary, text, continuation) are unmasked into the MQTT byte stream,
// control frames are dropped. Frame and message boundaries do not matter to
// MQTT, which may split a packet across frames or pack several in one.
type wsFrames struct {
	hdr       [14]byte
	hn        int
	inPayload bool
	left      uint64
	data      bool
	masked    bool
	key       [4]byte
	pos       int
}

// wsHeaderLen is the size of a frame header whose first two bytes are h.
func wsHeaderLen(h []byte) int {
	n := 2
	switch h[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if h[1]&0x80 != 0 {
		n += 4
	}
	return n
}

// feed appends the payload of the data frames in b to out.
func (w *wsFrames) feed(out, b []byte) ([]byte, error) {
	for len(b) > 0 {
		if !w.inPayload {
			need := 2
			if w.hn >= 2 {
				need = wsHeaderLen(w.hdr[:2])
			}
			c := copy(w.hdr[w.hn:need], b)
			w.hn += c
			b = b[c:]
			if w.hn < need || (need == 2 && wsHeaderLen(w.hdr[:2]) > 2) {
				continue
			}
			if err := w.start(); err != nil {
				return out, err
			}
			continue
		}
		n := len(b)
		if uint64(n) > w.left {
			n = int(w.left)
		}
		if w.data {
			at := len(out)
			out = append(out, b[:n]...)
			if w.masked {
				for j := at; j < len(out); j++ {
					out[j] ^= w.key[w.pos&3]
					w.pos++
				}
			}
		}
		w.left -= uint64(n)
		b = b[n:]
		if w.left == 0 {
			w.inPayload = false
		}
	}
	return out, nil
}

// start reads a complete frame header.
func (w *wsFrames) start() error {
	h := w.hdr[:w.hn]
	w.hn = 0
	if h[0]&0x70 != 0 {
		return errors.New("reserved frame bits set (a compression extension?): payload not readable")
	}
	op := h[0] & 0x0f
	length := uint64(h[1] & 0x7f)
	at := 2
	switch length {
	case 126:
		length, at = uint64(binary.BigEndian.Uint16(h[2:4])), 4
	case 127:
		length, at = binary.BigEndian.Uint64(h[2:10]), 10
		if length>>63 != 0 {
			return errors.New("frame length with the most significant bit set")
		}
	}
	switch {
	case op <= 2:
		w.data = true
	case op >= 8 && op <= 10:
		if length > 125 {
			return errors.New("control frame longer than 125 bytes")
		}
		w.data = false
	default:
		return errors.New("reserved opcode " + strconv.Itoa(int(op)))
	}
	w.masked = h[1]&0x80 != 0
	if w.masked {
		copy(w.key[:], h[at:at+4])
	}
	w.pos, w.left = 0, length
	w.inPayload = length > 0
	return nil
}

// sniffResult is what the first bytes of a connection look like.
type sniffResult uint8

const (
	sniffNo sniffResult = iota
	sniffConnect
	sniffUpgrade
	sniffMore
)

// sniff looks for an MQTT CONNECT (protocol name MQTT or MQIsdp) or an HTTP
// upgrade to WebSocket offering an mqtt subprotocol.
func sniff(b []byte) sniffResult {
	if len(b) < 4 {
		if bytes.HasPrefix([]byte("GET "), b) || (len(b) > 0 && b[0]>>4 == byte(codec.CONNECT)) {
			return sniffMore
		}
		return sniffNo
	}
	if string(b[:4]) == "GET " {
		end := headerEnd(b)
		if end < 0 {
			return sniffMore
		}
		if upgrade, mqtt := parseUpgrade(b[:end]); upgrade && mqtt {
			return sniffUpgrade
		}
		return sniffNo
	}
	if b[0]>>4 != byte(codec.CONNECT) {
		return sniffNo
	}
	fh, err := codec.ParseFixedHeader(b, codec.V311)
	if err == codec.ErrShortBuffer {
		return sniffMore
	}
	if err != nil || fh.Remaining < 10 {
		return sniffNo
	}
	name := b[fh.Size:]
	for _, want := range []string{"\x00\x04MQTT", "\x00\x06MQIsdp"} {
		n := min(len(name), len(want))
		if string(name[:n]) == want[:n] {
			if n < len(want) {
				return sniffMore
			}
			return sniffConnect
		}
	}
	return sniffNo
}

// isTLS recognizes a TLS handshake record (content type 22, version 3.x).
func isTLS(b []byte) bool { return len(b) >= 3 && b[0] == 0x16 && b[1] == 0x03 && b[2] <= 0x04 }

// headerEnd returns the offset just past an HTTP header's blank line, -1
// if it has not arrived.
func headerEnd(b []byte) int {
	i := bytes.Index(b, []byte("\r\n\r\n"))
	if i < 0 {
		return -1
	}
	return i + 4
}

// parseUpgrade reads an HTTP request header: is it a WebSocket upgrade, and
// does it offer an MQTT subprotocol ("mqtt", "mqttv3.1")?
func parseUpgrade(head []byte) (upgrade, mqtt bool) {
	lines := bytes.Split(head, []byte("\r\n"))
	if !bytes.HasPrefix(lines[0], []byte("GET ")) {
		return false, false
	}
	for _, line := range lines[1:] {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		switch {
		case bytes.EqualFold(name, []byte("Upgrade")):
			upgrade = bytes.Contains(bytes.ToLower(value), []byte("websocket"))
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Protocol")):
			for _, p := range bytes.Split(value, []byte(",")) {
				if bytes.HasPrefix(bytes.ToLower(bytes.TrimSpace(p)), []byte("mqtt")) {
					mqtt = true
				}
			}
		}
	}
	return upgrade, mqtt
}

// switchingProtocols reports an HTTP "101 Switching Protocols" response.
func switchingProtocols(head []byte) bool {
	line, _, _ := bytes.Cut(head, []byte("\r\n"))
	f := bytes.Fields(line)
	return len(f) >= 2 && bytes.HasPrefix(f[0], []byte("HTTP/1.")) && string(f[1]) == "101"
}
