package pcap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/gopacket/gopacket/reassembly"

	"mqttspec/codec"
)

// Defaults for the Reader's limits.
const (
	DefaultMaxPacketSize = 16 << 20
	DefaultGapTimeout    = 5 * time.Second
	DefaultIdleTimeout   = 15 * time.Minute
)

// Out-of-order data waits in the assembler's 1900-byte pages; these caps
// keep a capture full of gaps from holding more than a few tens of MB.
const (
	maxPagesPerConn = 2048
	maxPagesTotal   = 16384
)

// flushEvery is how much capture time passes between looks for stale gaps
// and idle connections.
const flushEvery = time.Second

// Well-known ports: plain MQTT, MQTT over TLS, MQTT over WebSocket.
var (
	mqttPorts      = []uint16{1883}
	tlsPorts       = []uint16{8883}
	websocketPorts = []uint16{80, 8080}
)

// Reader finds the MQTT in one capture. Set the exported fields before
// calling Walk.
type Reader struct {
	// Ports are more TCP ports on which a broker speaks plain MQTT, beside
	// 1883. Connections on other ports are still found by their content.
	Ports []uint16
	// MaxPacketSize is the largest MQTT packet that is buffered and decoded;
	// larger ones are reported as undecodable and skipped.
	MaxPacketSize int
	// GapTimeout is how long, in capture time, missing TCP data is waited
	// for before the stream is declared damaged and decoding moves on.
	GapTimeout time.Duration
	// IdleTimeout closes connections without traffic for that long.
	IdleTimeout time.Duration

	format string
	pcap   *pcapgo.Reader
	ng     *pcapgo.NgReader
	closer io.Closer
	walked bool

	h       Handler
	err     error // first error returned by a callback
	stats   Stats
	record  int
	cur     *segCtx
	ctxs    []segCtx // slab the next records' contexts are cut from
	spare   *segCtx  // a context the assembler provably let go of
	curOut  curFate  // what became of the current record's segment
	noSpare bool     // a new context for every record (tests compare)
	pageCap int      // per-connection page limit when not 0 (tests)
	seg     segment

	finishing bool // the final flush is closing what is left
	flushing  bool // deliveries wait in deferred until the flush is over
	deferred  []deferredCall
	streams   int // streams made so far, to order deferred calls
	nextConn  int
	dec       codec.Decoder // shared by all connections: packets live only during a callback
	msg       Message
	ev        StreamEvent
	wsOut     []byte
}

// segCtx carries a record's number and time through the assembler to the
// stream. The assembler keeps it with out-of-order data, so a record whose
// data it may keep needs one of its own (see release).
type segCtx struct {
	at     time.Time
	record int
}

func (c *segCtx) GetCaptureInfo() gopacket.CaptureInfo { return gopacket.CaptureInfo{Timestamp: c.at} }

// curFate records what the assembler did with the current record's
// segment, as far as the stream could see.
type curFate struct {
	delivered bool // handed to a stream with the record's own context
	queued    bool // that delivery included out-of-order data
}

// newCtx returns the context of the current record: the spare one when
// there is one, else one cut from a slab. A context per record allocated
// anew was a tenth of `pcap dump`'s time, mostly page faults.
func (r *Reader) newCtx(at time.Time) *segCtx {
	c := r.spare
	if c == nil {
		if len(r.ctxs) == 0 {
			r.ctxs = make([]segCtx, 256)
		}
		c, r.ctxs = &r.ctxs[0], r.ctxs[1:]
	}
	r.spare, r.curOut = nil, curFate{}
	*c = segCtx{at: at, record: r.record}
	return c
}

// release makes the current context the spare when the assembler cannot
// still hold it. It keeps a context only in the pages of out-of-order
// data, which it creates for a segment with payload that it queues; a
// queued segment counts in the queued-packet statistics of every delivery
// after it. So a segment without payload, or one delivered at once with
// nothing queued, left no reference behind.
func (r *Reader) release(payload int) {
	if !r.noSpare && (payload == 0 || r.curOut.delivered && !r.curOut.queued) {
		r.spare = r.cur
	}
}

// delivered notes a delivery in the current record's context.
func (r *Reader) delivered(sg reassembly.ScatterGather, ac reassembly.AssemblerContext) {
	if c, ok := ac.(*segCtx); ok && c == r.cur {
		r.curOut.delivered = true
		r.curOut.queued = r.curOut.queued || sg.Stats().QueuedPackets > 0
	}
}

// Open opens a pcap or pcapng file.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.closer = f
	return r, nil
}

// NewReader reads a capture from in, telling pcap from pcapng by the magic
// number at its start (gzip-compressed pcap is accepted too).
func NewReader(in io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(in, 64<<10)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, &RecordError{Err: fmt.Errorf("file too short for a capture header (%d bytes)", len(magic))}
	}
	r := &Reader{}
	switch m := binary.LittleEndian.Uint32(magic); {
	case m == 0x0A0D0D0A:
		r.format = "pcapng"
		r.ng, err = pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	case m == 0xA1B2C3D4, m == 0xD4C3B2A1, m == 0xA1B23C4D, m == 0x4D3CB2A1, magic[0] == 0x1f && magic[1] == 0x8b:
		r.format = "pcap"
		r.pcap, err = pcapgo.NewReader(br)
	default:
		return nil, &RecordError{Err: fmt.Errorf("not a capture file: magic 0x%08x is neither pcap (a1b2c3d4, a1b23c4d) nor pcapng (0a0d0d0a)", binary.BigEndian.Uint32(magic))}
	}
	if err != nil {
		return nil, &RecordError{Err: describe(r.format+" header", err)}
	}
	return r, nil
}

// Format is "pcap" or "pcapng".
func (r *Reader) Format() string { return r.format }

// Close closes the file Open opened.
func (r *Reader) Close() error {
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

// Stats returns the counts so far; after Walk they cover the whole capture.
func (r *Reader) Stats() Stats { return r.stats }

// describe turns the file readers' errors into sentences.
func describe(what string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("truncated file: it ends inside the %s", what)
	}
	return fmt.Errorf("corrupt %s: %w", what, err)
}

func (r *Reader) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	if r.ng != nil {
		data, ci, err := r.ng.ZeroCopyReadPacketData()
		if err != nil {
			return nil, ci, 0, err
		}
		iface, err := r.ng.Interface(ci.InterfaceIndex)
		return data, ci, iface.LinkType, err
	}
	data, ci, err := r.pcap.ZeroCopyReadPacketData()
	return data, ci, r.pcap.LinkType(), err
}

// Walk reads the whole capture, reassembling TCP, and hands each MQTT packet
// and connection event to h in capture order. A fatal problem with the file
// (truncation, a corrupt record length) stops it with a *RecordError after
// everything decoded before it has been delivered. Walk runs once.
func (r *Reader) Walk(h Handler) error {
	if r.walked {
		return errors.New("pcap: Walk called twice on one Reader")
	}
	r.walked = true
	r.h = h
	if r.MaxPacketSize <= 0 {
		r.MaxPacketSize = DefaultMaxPacketSize
	}
	if r.GapTimeout <= 0 {
		r.GapTimeout = DefaultGapTimeout
	}
	if r.IdleTimeout <= 0 {
		r.IdleTimeout = DefaultIdleTimeout
	}
	asm := reassembly.NewAssembler(reassembly.NewStreamPool(&streamFactory{r}))
	asm.MaxBufferedPagesPerConnection = maxPagesPerConn
	if r.pageCap > 0 {
		asm.MaxBufferedPagesPerConnection = r.pageCap
	}
	asm.MaxBufferedPagesTotal = maxPagesTotal

	var fatal error
	var lastFlush time.Time
	warnedLink := map[layers.LinkType]bool{}
	for r.err == nil {
		data, ci, lt, err := r.next()
		// A clean end comes before a record header; pcapgo reports a file
		// that ends right after a header as EOF too, with the length read.
		if err == io.EOF && ci.CaptureLength == 0 {
			break
		}
		r.record++
		if err != nil {
			fatal = &RecordError{Record: r.record, Err: describe("record", err)}
			break
		}
		if r.stats.Records == 0 {
			r.stats.First = ci.Timestamp
		}
		r.stats.Records++
		r.stats.Bytes += int64(len(data))
		r.stats.Last = ci.Timestamp
		switch r.seg.decode(lt, data) {
		case recordTCP:
		case recordNotTCP:
			r.stats.NotTCP++
			continue
		case recordFragment:
			r.stats.Fragments++
			r.warn(r.seg.problem + " skipped: IP reassembly is not done")
			continue
		case recordUnknownLink:
			r.stats.UnknownLink++
			if !warnedLink[lt] {
				warnedLink[lt] = true
				r.warn("link type " + lt.String() + " is not read; records of this type are skipped")
			}
			continue
		default:
			r.stats.Malformed++
			if r.seg.truncated {
				r.stats.Truncated++
			}
			r.warn(r.seg.problem)
			continue
		}
		r.stats.TCPSegments++
		if r.seg.truncated {
			r.stats.Truncated++
			r.warn(fmt.Sprintf("TCP segment cut by the snap length (%d of %d bytes captured); the stream will show a gap", ci.CaptureLength, ci.Length))
		}
		r.cur = r.newCtx(ci.Timestamp)
		asm.AssembleWithContext(r.seg.netFlow, &r.seg.tcp, r.cur)
		r.release(len(r.seg.tcp.Payload))
		if ts := ci.Timestamp; ts.Sub(lastFlush) >= flushEvery {
			lastFlush = ts
			r.flush(func() {
				asm.FlushWithOptions(reassembly.FlushOptions{T: ts.Add(-r.GapTimeout), TC: ts.Add(-r.IdleTimeout)})
			})
		}
	}
	if r.err == nil {
		r.finishing = true
		if r.cur == nil {
			r.cur = r.newCtx(time.Time{})
		}
		r.flush(func() { asm.FlushAll() })
	}
	if r.err != nil {
		return r.err
	}
	return fatal
}

func (r *Reader) warn(msg string) {
	if r.h.Warning != nil {
		r.h.Warning(&Warning{Record: r.record, Msg: msg})
	}
}

// ctx is the record context the assembler passed, or the current record's
// when it passed none (closing a connection).
func (r *Reader) ctx(ac reassembly.AssemblerContext) *segCtx {
	if c, ok := ac.(*segCtx); ok && c != nil {
		return c
	}
	return r.cur
}

func (r *Reader) event(e *StreamEvent) {
	if r.err != nil || r.h.Stream == nil {
		return
	}
	r.ev = *e
	if err := r.h.Stream(&r.ev); err != nil {
		r.err = err
	}
}

// deferredCall is a delivery from the assembler held back during a flush:
// data of direction i (with skip bytes missing before it), or the end of
// the stream when complete.
type deferredCall struct {
	s        *stream
	ctx      *segCtx
	i, skip  int
	data     []byte
	complete bool
}

// flush runs one of the assembler's flushes. A flush visits connections
// in the order of a Go map, a different one on every run, so what it
// delivers is held and then handed to the streams in the order they were
// made: the same capture always reads out the same. What is held is data
// the assembler was holding already, so within its page limits.
func (r *Reader) flush(f func()) {
	r.flushing = true
	f()
	r.flushing = false
	calls := r.deferred
	slices.SortStableFunc(calls, func(a, b deferredCall) int { return a.s.seq - b.s.seq })
	for k := range calls {
		c := &calls[k]
		if c.complete {
			c.s.complete(c.ctx)
		} else {
			c.s.take(c.i, c.skip, c.data, c.ctx)
		}
		*c = deferredCall{}
	}
	r.deferred = calls[:0]
}
