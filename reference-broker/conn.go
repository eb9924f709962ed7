package broker

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"mqttspec/codec"
)

// drainTime is how long a closing connection keeps reading (and discarding) after its last
// packet went out, so the client receives that packet rather than a TCP reset.
const drainTime = 100 * time.Millisecond

// ctrlLimit bounds the encoded acknowledgements waiting for the writer; past it the read loop
// waits, which pushes back on a client that sends faster than it reads.
const ctrlLimit = 256 << 10

// conn is one network connection. Its read loop (this file) owns the incoming side and the
// connection's settings; its writer (writer.go) owns the socket's outgoing side.
type conn struct {
	b      *Broker
	id     uint64
	nc     net.Conn
	remote string
	r      *codec.Reader
	// overLimit marks a connection accepted beyond MaxConnections: its CONNECT is refused.
	overLimit bool

	// Set while the CONNECT is handled, read-only afterwards.
	version       codec.Version
	clientID      string
	username      string
	keepAlive     time.Duration
	problemInfo   bool   // the client's Request Problem Information
	maxOut        int    // the client's Maximum Packet Size
	authMethod    string // 5.0 enhanced authentication method, if any
	connectExpiry uint32 // Session Expiry Interval of the CONNECT
	sess          *session
	traceID       atomic.Pointer[string]

	// Owned by the read loop.
	inAliases  map[uint16][]byte
	reauth     *AuthExchange
	noDeadline bool // the read deadline is cleared (Keep Alive 0)

	mu       sync.Mutex // guards the fields below, shared with the writer and with closers
	ctrl     []byte     // encoded packets waiting for the writer
	attached *session   // the session the writer delivers from, once CONNACK is queued
	accepted bool       // a successful CONNACK is queued: DISCONNECT may now be sent
	closing  bool
	final    []byte // last packet to write before closing
	why      string // what closed the connection, for the trace

	enc        encoder // owned by the writer
	wake       chan struct{}
	space      chan struct{}
	writerDone chan struct{}
	done       chan struct{} // closed when the connection is fully closed and detached
}

func newConn(b *Broker, nc net.Conn) *conn {
	c := &conn{
		b:           b,
		id:          b.nextConnID.Add(1),
		nc:          nc,
		remote:      nc.RemoteAddr().String(),
		r:           codec.NewReader(nc, 4096),
		problemInfo: true,
		wake:        make(chan struct{}, 1),
		space:       make(chan struct{}, 1),
		writerDone:  make(chan struct{}),
		done:        make(chan struct{}),
	}
	c.r.From = codec.FromClient
	c.r.MaxPacketSize = int(b.cfg.MaximumPacketSize)
	return c
}

// serve runs the connection to its end.
func (c *conn) serve() {
	defer close(c.done)
	if c.b.cfg.Trace != nil {
		c.trace(TraceEvent{Kind: TraceOpen})
	}
	go c.writeLoop()
	err := c.connect()
	if err == nil {
		err = c.readLoop()
	}
	c.end(err)
}

// readLoop handles packets until the connection ends and says why it ended.
func (c *conn) readLoop() error {
	for {
		if !c.armReadDeadline() {
			return errClosing
		}
		fh, raw, err := c.r.ReadRaw()
		if err != nil {
			return c.readError(err)
		}
		if c.isClosing() {
			return errClosing
		}
		if fh.Type == codec.CONNECT {
			return protocolError("MQTT-3.1.0-2", "a second CONNECT on the connection")
		}
		p, err := c.r.DecodeBody(fh, raw)
		if err != nil {
			return c.readError(err)
		}
		c.traceIn(p, raw)
		if err := c.handle(p); err != nil {
			return err
		}
	}
}

func (c *conn) handle(p codec.Packet) error {
	switch p := p.(type) {
	case *codec.Publish:
		return c.handlePublish(p)
	case *codec.Ack:
		return c.handleAck(p)
	case *codec.Subscribe:
		return c.handleSubscribe(p)
	case *codec.Unsubscribe:
		c.handleUnsubscribe(p)
	case *codec.Ping:
		c.send(&codec.Ping{Kind: codec.PINGRESP})
	case *codec.Disconnect:
		return c.handleDisconnect(p)
	case *codec.Auth:
		return c.handleReauth(p)
	}
	return nil
}

// armReadDeadline gives the next read its keep-alive deadline: one and a half times the Keep
// Alive [MQTT-3.1.2-24 in 3.1.1, MQTT-3.1.2-22 in 5.0]. It reports false once the connection is
// closing; a closer's drain deadline is then left alone.
func (c *conn) armReadDeadline() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return false
	}
	switch {
	case c.keepAlive > 0:
		c.nc.SetReadDeadline(time.Now().Add(c.keepAlive * 3 / 2))
	case !c.noDeadline:
		c.nc.SetReadDeadline(time.Time{}) // Keep Alive 0: no deadline, set once
		c.noDeadline = true
	}
	return true
}

func (c *conn) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// readError classifies a failed read: a codec error is the client's fault and is answered, a
// timeout is a keep-alive (or CONNECT) timeout, anything else is the network going away.
func (c *conn) readError(err error) error {
	if e, ok := codec.AsError(err); ok {
		return fromCodec(e)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) && !c.isClosing() {
		return &closeError{reason: codec.KeepAliveTimeout, msg: "no packet within 1.5 times the keep alive"}
	}
	return err
}

// send queues a control packet for the writer, shaped for this client first: a 5.0 client that
// asked for no problem information gets no Reason String or User Property outside CONNACK,
// PUBLISH and DISCONNECT [MQTT-3.1.2-29], and no packet exceeds the client's Maximum Packet Size
// [MQTT-3.1.2-24]: optional properties are dropped first, then the packet.
func (c *conn) send(p codec.Packet) {
	c.mu.Lock()
	c.ctrl = c.appendControl(c.ctrl, p)
	full := len(c.ctrl) > ctrlLimit
	c.mu.Unlock()
	c.wakeWriter()
	if full {
		select {
		case <-c.space:
		case <-c.writerDone:
		}
	}
}

func (c *conn) appendControl(dst []byte, p codec.Packet) []byte {
	if c.version != codec.V5 {
		return p.Append(dst, c.version)
	}
	props := codec.PropertiesOf(p)
	if p.Type() == codec.PUBLISH {
		props = nil // messages are shaped by the session's encoder, not here
	}
	if props != nil && !c.problemInfo {
		switch p.Type() {
		case codec.CONNACK, codec.PUBLISH, codec.DISCONNECT:
		default:
			props.Clear(codec.PropReasonString)
			props.Clear(codec.PropUser)
		}
	}
	start := len(dst)
	dst = p.Append(dst, c.version)
	if c.maxOut == 0 || len(dst)-start <= c.maxOut || props == nil {
		return dst
	}
	props.Clear(codec.PropReasonString)
	props.Clear(codec.PropUser)
	props.Clear(codec.PropResponseInfo)
	dst = p.Append(dst[:start], c.version)
	if len(dst)-start > c.maxOut {
		return dst[:start]
	}
	return dst
}

func (c *conn) wakeWriter() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// closeWith starts closing the connection: the writer sends what is queued, then final (if
// any), then shuts the socket. The first call wins.
func (c *conn) closeWith(final []byte, why string) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closing, c.final, c.why = true, final, why
	c.mu.Unlock()
	c.wakeWriter()
}

// disconnectPacket is the DISCONNECT a 5.0 client gets before the broker closes its connection,
// or nil when none may be sent (3.1.1, or no successful CONNACK yet [MQTT-3.14.0-1]).
func (c *conn) disconnectPacket(e *closeError) []byte {
	c.mu.Lock()
	accepted := c.accepted
	c.mu.Unlock()
	if !accepted || c.version != codec.V5 || e.reason == 0 {
		return nil
	}
	rc := e.reason
	if !codec.ValidReason(codec.DISCONNECT, rc, codec.V5) {
		rc = codec.ProtocolError
	}
	d := &codec.Disconnect{ReasonCode: rc}
	setReasonString(&d.Props, e.Error())
	return c.appendControl(nil, d)
}

// connackRefusal is the CONNACK that refuses a CONNECT, or nil when the version has no return
// code for the reason and the connection is simply closed.
func (c *conn) connackRefusal(e *closeError) []byte {
	if e.reason == 0 {
		return nil
	}
	if c.version != codec.V5 {
		rc, ok := connackCodeV3(e.reason)
		if !ok {
			return nil
		}
		return (&codec.Connack{ReasonCode: rc}).Append(nil, codec.V311)
	}
	rc := e.reason
	if !codec.ValidReason(codec.CONNACK, rc, codec.V5) {
		rc = codec.UnspecifiedError
	}
	ack := &codec.Connack{ReasonCode: rc}
	setReasonString(&ack.Props, e.Error())
	return c.appendControl(nil, ack)
}

// takeOver closes the connection because another one connected with its client identifier.
func (c *conn) takeOver() {
	e := &closeError{reason: codec.SessionTakenOver, rule: "MQTT-3.1.4-3", msg: "another connection took over the session"}
	c.closeWith(c.disconnectPacket(e), e.Error())
}

// end closes the connection for err and detaches it from its session.
func (c *conn) end(err error) {
	var final []byte
	why := "network connection lost"
	if err != nil {
		why = err.Error()
	}
	var ce *closeError
	if errors.As(err, &ce) {
		c.mu.Lock()
		accepted := c.accepted
		c.mu.Unlock()
		if accepted {
			final = c.disconnectPacket(ce)
		} else {
			final = c.connackRefusal(ce)
		}
	}
	c.closeWith(final, why)
	if ce != nil || errors.Is(err, errClosing) {
		// The client may still be sending: read until it closes or the drain deadline the
		// writer sets, so the last packet is not lost to a reset.
		io.Copy(io.Discard, c.nc)
	}
	<-c.writerDone
	c.nc.Close()
	c.detach(err)
	if c.b.cfg.Trace != nil {
		c.mu.Lock()
		why := c.why
		c.mu.Unlock()
		c.trace(TraceEvent{Kind: TraceClose, Reason: why})
	}
}

// detach hands the session back to the store, deciding the fate of the Will.
func (c *conn) detach(err error) {
	if c.sess == nil {
		return
	}
	how := closedAbnormally
	var d *disconnected
	switch {
	case c.b.isClosed():
		how = closedByShutdown
	case errors.As(err, &d) && d.reason == codec.Success:
		how = closedNormally
	}
	c.b.sessions.detach(c, c.sess, how)
}
