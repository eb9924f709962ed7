package fuzz

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"mqttspec/codec"
)

// lateAnswers is how long an exchange without half-close waits after the
// probe's answer.
const lateAnswers = 100 * time.Millisecond

// Limits on what one session reads back, so a flooding broker costs a
// bounded amount of memory and time.
const (
	maxAnswers      = 1000
	maxAnswerBytes  = 4 << 20
	maxAnswerPacket = 1 << 20
)

// exchange is one session run against one broker: what was written, what
// came back, and how the connection ended.
type exchange struct {
	sent    []byte   // the rewritten session followed by the probe
	answers [][]byte // the broker's packets in arrival order
	// pings is how many PINGRESPs a broker that read the whole stream
	// without closing must send (the probe's included); -1 when the stream
	// ends inside a packet, so the probe cannot be reached.
	pings    int
	closed   bool  // the broker closed the connection (EOF or reset)
	timedOut bool  // nothing ended the exchange within the wait
	badFrame error // the broker's bytes could not be framed
	dialErr  error
	writeErr error
}

// probeAnswered reports that the broker read the whole session and the
// probe after it without closing the connection.
func (x *exchange) probeAnswered() bool {
	if x.pings < 0 {
		return false
	}
	n := 0
	for _, a := range x.answers {
		if a[0] == byte(codec.PINGRESP)<<4 {
			n++
		}
	}
	return n >= x.pings
}

// countPings frames the stream (session and probe) as a broker would, by
// Remaining Length, and counts the PINGREQs in it; -1 when the probe does
// not stand as a packet of its own (an earlier packet's length swallows it,
// or the stream ends inside a packet), so that no answer can be expected.
func countPings(stream []byte) int {
	n := 0
	for off := 0; off < len(stream); {
		if off == len(stream)-len(probe) {
			return n + 1
		}
		fh, err := codec.ParseFixedHeader(stream[off:], codec.V311)
		if err != nil || fh.Size+fh.Remaining > len(stream)-off {
			return -1
		}
		if fh.Type == codec.PINGREQ {
			n++
		}
		off += fh.Size + fh.Remaining
	}
	return -1
}

// run sends stream on nc, then the probe, then half-closes the connection
// and reads every answer until the broker closes it or wait runs out.
// Brokers close a connection whose client has finished sending, so a
// correct broker ends every exchange quickly.
func run(nc net.Conn, stream []byte, wait time.Duration) *exchange {
	return exchangeOn(nc, stream, wait, true)
}

// exchangeOn runs stream and the probe on nc. With halfClose (where the
// transport has it) the broker ends the exchange; without, it ends at the
// probe's answer, after a grace period for what the broker sends late
// (deliveries that follow their acknowledgement).
func exchangeOn(nc net.Conn, stream []byte, wait time.Duration, halfClose bool) *exchange {
	x := &exchange{sent: append(append(make([]byte, 0, len(stream)+2), stream...), probe...)}
	x.pings = countPings(x.sent)
	deadline := time.Now().Add(wait)
	_ = nc.SetDeadline(deadline)
	if _, err := nc.Write(x.sent); err != nil {
		x.writeErr = err
	}
	hc, ok := nc.(interface{ CloseWrite() error })
	halfClose = halfClose && ok
	if halfClose {
		_ = hc.CloseWrite()
	}
	r := codec.NewReader(nc, 0)
	total := 0
	graced := false
	for len(x.answers) < maxAnswers && total < maxAnswerBytes {
		if !halfClose && !graced && x.probeAnswered() {
			graced = true
			_ = nc.SetReadDeadline(time.Now().Add(lateAnswers))
		}
		_, raw, err := r.ReadRaw()
		if err != nil {
			switch {
			case isTimeout(err) && graced:
			case isTimeout(err):
				x.timedOut = true
			case isClosed(err):
				x.closed = true
			default:
				x.badFrame = err
			}
			break
		}
		if len(raw) > maxAnswerPacket {
			x.badFrame = errors.New("answer of " + strconv.Itoa(len(raw)) + " bytes")
			break
		}
		total += len(raw)
		x.answers = append(x.answers, append([]byte(nil), raw...))
	}
	nc.Close()
	return x
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded)
}

func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
}

// runSession dials the broker and runs stream on a new connection.
func runSession(ctx context.Context, dial func(context.Context) (net.Conn, error), stream []byte, wait time.Duration) *exchange {
	dctx, cancel := context.WithTimeout(ctx, wait)
	nc, err := dial(dctx)
	cancel()
	if err != nil {
		return &exchange{dialErr: err, sent: stream, pings: -1}
	}
	return run(nc, stream, wait)
}

// ident is what makes one execution's session its own on a shared broker:
// a client identifier and a topic prefix that no other execution uses.
type ident struct {
	clientID []byte
	prefix   []byte // "fz<run>/<n>/"
}

func newIdent(run string, n uint64) ident {
	id := strconv.FormatUint(n, 36)
	return ident{clientID: []byte("fz" + run + id), prefix: []byte("fz" + run + "/" + id + "/")}
}

// rewrite gives every packet that the codec reads and writes back to the
// same bytes the execution's client identifier and topic prefix; packets
// that do not round-trip (the damaged ones) are sent exactly as they are.
func rewrite(s Session, id ident) []byte {
	out := make([]byte, 0, s.Size()+64)
	d := codec.Decoder{Lenient: true}
	v := codec.V311
	var enc []byte
	for _, raw := range s {
		d.Version = v
		p, n, err := d.Decode(raw)
		if err == nil && n == len(raw) {
			if c, ok := p.(*codec.Connect); ok {
				v = c.ProtocolLevel
			}
			enc = p.Append(enc[:0], v)
			if bytes.Equal(enc, raw) && retarget(p, id) {
				out = p.Append(out, v)
				continue
			}
		}
		out = append(out, raw...)
	}
	return out
}

// retarget rewrites p's client identifier and topics in place; false when
// there is nothing to rewrite.
func retarget(p codec.Packet, id ident) bool {
	switch p := p.(type) {
	case *codec.Connect:
		if len(p.ClientID) > 0 {
			p.ClientID = id.clientID
		}
		if p.WillFlag {
			p.WillTopic = prefixed(p.WillTopic, id.prefix)
		}
	case *codec.Publish:
		p.Topic = prefixed(p.Topic, id.prefix)
	case *codec.Subscribe:
		for i := range p.Subscriptions {
			p.Subscriptions[i].Filter = prefixed(p.Subscriptions[i].Filter, id.prefix)
		}
	case *codec.Unsubscribe:
		for i := range p.Filters {
			p.Filters[i] = prefixed(p.Filters[i], id.prefix)
		}
	default:
		return false
	}
	return true
}

// prefixed puts the prefix in front of a topic or filter: after the share
// name of a shared subscription, not at all before other $-topics or an
// empty one (whose emptiness is the point).
func prefixed(t, prefix []byte) []byte {
	if len(t) == 0 {
		return t
	}
	if rest, ok := bytes.CutPrefix(t, []byte("$share/")); ok {
		if i := bytes.IndexByte(rest, '/'); i >= 0 {
			head := len("$share/") + i + 1
			return append(append(append([]byte(nil), t[:head]...), prefix...), t[head:]...)
		}
		return t
	}
	if t[0] == '$' {
		return t
	}
	return append(append([]byte(nil), prefix...), t...)
}
