package broker

import (
	"time"

	"mqttspec/codec"
)

// TraceKind says what a TraceEvent records.
type TraceKind byte

const (
	TraceOpen  TraceKind = iota + 1 // a network connection was accepted
	TraceIn                         // a packet read from the client
	TraceOut                        // a packet written to the client
	TraceClose                      // the network connection was closed; Reason says why
)

func (k TraceKind) String() string {
	switch k {
	case TraceOpen:
		return "open"
	case TraceIn:
		return "in"
	case TraceOut:
		return "out"
	case TraceClose:
		return "close"
	}
	return "unknown"
}

// TraceEvent is one entry of the packet trace.
type TraceEvent struct {
	Time     time.Time
	ConnID   uint64 // unique per network connection, from 1
	ClientID string // empty until CONNECT is accepted
	Remote   string // the client's network address
	Kind     TraceKind
	Packet   string // the packet in codec notation (TraceIn, TraceOut)
	Raw      []byte // the packet's bytes; valid only during the call
	Reason   string // why the connection closed (TraceClose)
}

// traceIn records a packet read from the client.
func (c *conn) traceIn(p codec.Packet, raw []byte) {
	if c.b.cfg.Trace == nil {
		return
	}
	c.trace(TraceEvent{Kind: TraceIn, Packet: codec.Format(p), Raw: raw})
}

// traceOut records the packets in out, the bytes of one write. It decodes them strictly, so a
// packet the broker should never have produced shows up in the trace as an error.
func (c *conn) traceOut(out []byte) {
	if c.b.cfg.Trace == nil {
		return
	}
	d := codec.Decoder{Version: c.version, From: codec.FromServer}
	for len(out) > 0 {
		p, n, err := d.Decode(out)
		if err != nil {
			c.trace(TraceEvent{Kind: TraceOut, Packet: "undecodable: " + err.Error(), Raw: out})
			return
		}
		c.trace(TraceEvent{Kind: TraceOut, Packet: codec.Format(p), Raw: out[:n]})
		out = out[n:]
	}
}

func (c *conn) trace(ev TraceEvent) {
	ev.Time = time.Now()
	ev.ConnID = c.id
	if id := c.traceID.Load(); id != nil {
		ev.ClientID = *id
	}
	ev.Remote = c.remote
	c.b.cfg.Trace(ev)
}
