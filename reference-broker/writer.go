package broker

import (
	"time"
)

// batchLimit is how many bytes of deliveries the writer gathers for one write.
const batchLimit = 64 << 10

// closeWriter is the half-close of TCP and TLS connections.
type closeWriter interface{ CloseWrite() error }

// writeLoop is the only writer of the socket. Each round it takes the queued control packets,
// then whatever the session may deliver now, and writes them in one call. A slow client only
// stalls its own writer; the routers that fill its session never wait for it.
func (c *conn) writeLoop() {
	defer close(c.writerDone)
	var buf []byte
	for range c.wake {
		for {
			c.mu.Lock()
			buf, c.ctrl = c.ctrl, buf[:0]
			closing, final, sess := c.closing, c.final, c.attached
			c.mu.Unlock()
			select {
			case c.space <- struct{}{}:
			default:
			}
			more := false
			if !closing && sess != nil {
				buf, more = sess.pull(&c.enc, buf, time.Now())
			}
			if closing {
				buf = append(buf, final...)
			}
			if !c.write(buf) {
				return
			}
			if closing {
				c.finish()
				return
			}
			if !more {
				break
			}
		}
	}
}

// write sends buf, closing the socket if that fails or takes longer than WriteTimeout.
func (c *conn) write(buf []byte) bool {
	if len(buf) == 0 {
		return true
	}
	// Traced before the write, so a packet the client answers is never traced after the answer.
	c.traceOut(buf)
	c.nc.SetWriteDeadline(time.Now().Add(c.b.cfg.WriteTimeout))
	_, err := c.nc.Write(buf)
	if err != nil {
		c.closeWith(nil, "write failed: "+err.Error())
		c.nc.Close()
		return false
	}
	return true
}

// finish ends the outgoing side after the last packet: half-close where the transport allows,
// and give the read side a short while to see the client go.
func (c *conn) finish() {
	if cw, ok := c.nc.(closeWriter); ok {
		cw.CloseWrite()
		c.nc.SetReadDeadline(time.Now().Add(drainTime))
		return
	}
	c.nc.Close()
}
