package codec

import (
	"errors"
	"io"
)

// Reader reads packets from a byte stream through one reusable buffer. The
// buffer grows only as bytes actually arrive, so a peer that announces a
// huge Remaining Length and sends nothing costs nothing.
type Reader struct {
	Decoder
	r          io.Reader
	buf        []byte
	start, end int // unread bytes are buf[start:end]
	raw        []byte
}

// NewReader returns a Reader over r with an initial buffer of size bytes
// (4096 when size <= 0).
func NewReader(r io.Reader, size int) *Reader {
	if size <= 0 {
		size = 4096
	}
	return &Reader{r: r, buf: make([]byte, size)}
}

// Reset makes the reader read from r, keeping its buffer and decoder state
// except what belongs to the old connection.
func (r *Reader) Reset(rd io.Reader) {
	r.r, r.start, r.end, r.raw = rd, 0, 0, nil
	r.Decoder.Version = 0
}

// ReadRaw returns the next packet's bytes (fixed header included) without
// decoding the body. They are valid until the next read.
func (r *Reader) ReadRaw() (FixedHeader, []byte, error) {
	for {
		fh, err := ParseFixedHeader(r.buf[r.start:r.end], r.version())
		if err == nil {
			total := fh.Size + fh.Remaining
			if r.MaxPacketSize > 0 && total > r.MaxPacketSize {
				return fh, nil, tooLarge(fh.Type, total, r.MaxPacketSize, r.version())
			}
			if r.end-r.start >= total {
				r.raw = r.buf[r.start : r.start+total]
				r.start += total
				return fh, r.raw, nil
			}
			if err := r.fill(total); err != nil {
				return fh, nil, err
			}
			continue
		}
		if err != ErrShortBuffer {
			return fh, nil, err
		}
		if err := r.fill(r.end - r.start + 1); err != nil {
			return fh, nil, err
		}
	}
}

// fill reads until at least need bytes are buffered, growing the buffer
// geometrically but never beyond what has been received plus one read.
func (r *Reader) fill(need int) error {
	if r.start > 0 && len(r.buf)-r.start < need {
		n := copy(r.buf, r.buf[r.start:r.end])
		r.start, r.end = 0, n
	}
	if r.end == len(r.buf) {
		size := 2 * len(r.buf)
		if size > need && need > len(r.buf) {
			size = need
		}
		nb := make([]byte, size)
		copy(nb, r.buf[r.start:r.end])
		r.buf, r.end, r.start = nb, r.end-r.start, 0
	}
	n, err := r.r.Read(r.buf[r.end:])
	r.end += n
	if n > 0 {
		return nil
	}
	if err == nil {
		return io.ErrNoProgress
	}
	if errors.Is(err, io.EOF) && r.end > r.start {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ReadPacket reads and decodes the next packet. The packet and its slices
// are valid until the next call.
func (r *Reader) ReadPacket() (Packet, error) {
	fh, raw, err := r.ReadRaw()
	if err != nil {
		return nil, err
	}
	return r.DecodeBody(fh, raw)
}

// Raw is the encoding of the packet last read.
func (r *Reader) Raw() []byte { return r.raw }

// Buffered is how many read-ahead bytes wait in the buffer.
func (r *Reader) Buffered() int { return r.end - r.start }
