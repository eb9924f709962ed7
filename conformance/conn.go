package conformance

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"mqttspec/codec"
)

// maxInbound bounds one received packet: a broker announcing 256 MB gets an
// error, not 256 MB of our memory.
const maxInbound = 16 << 20

// inbound is something that arrived on a connection: a packet's bytes, or
// the end of the stream (err set).
type inbound struct {
	at  time.Time
	raw []byte
	err error
}

// conn is one of a case's named connections to the broker. A goroutine
// frames what arrives and hands it to the case through a bounded channel, so
// a flooding broker blocks its own socket rather than growing our memory.
type conn struct {
	name     string
	nc       net.Conn
	version  codec.Version
	dec      codec.Decoder
	in       chan inbound
	pending  []inbound
	closed   bool              // the broker's side is known to be closed
	gone     bool              // the tester closed it
	maxIn    int               // the Maximum Packet Size the client announced in CONNECT (0: none)
	aliases  map[uint16][]byte // the broker's topic aliases on this connection
	clientID string
	done     chan struct{}
	once     sync.Once
}

func newConn(name string, nc net.Conn, v codec.Version) *conn {
	c := &conn{name: name, nc: nc, version: v, in: make(chan inbound, 256), done: make(chan struct{})}
	c.dec.From = codec.FromServer
	go c.readLoop()
	return c
}

func (c *conn) readLoop() {
	r := codec.NewReader(c.nc, 4096)
	r.MaxPacketSize = maxInbound
	for {
		_, raw, err := r.ReadRaw()
		ev := inbound{at: time.Now(), err: err}
		if err == nil {
			ev.raw = append([]byte(nil), raw...)
		}
		select {
		case c.in <- ev:
		case <-c.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// next returns the next arrival, waiting until deadline.
func (c *conn) next(deadline time.Time) (inbound, bool) {
	if len(c.pending) > 0 {
		ev := c.pending[0]
		c.pending = c.pending[1:]
		return ev, true
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case ev := <-c.in:
		return ev, true
	case <-t.C:
		return inbound{}, false
	}
}

// unread puts arrivals back in front, in order.
func (c *conn) unread(evs ...inbound) { c.pending = append(evs, c.pending...) }

func (c *conn) write(b []byte) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := c.nc.Write(b)
	return err
}

func (c *conn) close() {
	c.gone = true
	c.once.Do(func() {
		close(c.done)
		_ = c.nc.Close()
	})
}

// isClosedErr reports the end of the stream as the broker closing it.
func isClosedErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err)
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op)
}
