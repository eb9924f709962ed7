package pcap

import (
	"net/netip"
	"slices"
	"strconv"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"
)

// streamKind is what a TCP connection has been recognized as.
type streamKind uint8

const (
	kindUnknown   streamKind = iota // waiting for the first bytes to tell
	kindMQTT                        // MQTT directly on TCP
	kindHandshake                   // HTTP upgrade being read
	kindWebSocket                   // WebSocket frames carrying MQTT
	kindTLS                         // encrypted MQTT
	kindOther                       // not MQTT: ignored
)

// maxSniff bounds what is buffered while a connection's protocol is unknown
// or its HTTP upgrade is read.
const maxSniff = 16 << 10

// streamFactory makes a stream per TCP connection for the assembler.
type streamFactory struct{ r *Reader }

// stream is one TCP connection. Index 0 of its per-direction state is the
// direction of the first segment the assembler saw, 1 the reverse.
type stream struct {
	r       *Reader
	ends    [2]netip.AddrPort // sender of direction 0, sender of direction 1
	client  int8              // index of the client's direction, -1 while unknown
	kind    streamKind
	byPort  bool // on a well-known or configured MQTT port
	conn    *Conn
	halves  [2]half
	closeBy string // "FIN" or "RST" once seen
	counted bool   // in Stats.Connections
	// needConnect: on a WebSocket port without the mqtt subprotocol the
	// client's first packet must be a CONNECT for this to be MQTT.
	needConnect bool
	upgrading   bool // the client asked for a WebSocket upgrade
	seq         int  // the order the assembler made it in
}

// half is the state of one direction.
type half struct {
	synSeen bool // the stream starts at a known packet boundary
	started bool
	sync    bool // the next byte starts a packet
	buf     []byte
	sniff   []byte // bytes held while the protocol or the HTTP header is read
	ws      wsFrames
	wsOn    bool // past the HTTP header: bytes are WebSocket frames
	skip    int  // bytes of an oversized packet still to drop
	dead    bool // cannot be decoded any more (WebSocket framing lost)

	lost, discarded int // damage not yet reported
	reason          string
	damaged         bool
}

func addrPort(e gopacket.Endpoint, port layers.TCPPort) netip.AddrPort {
	a, _ := netip.AddrFromSlice(e.Raw())
	return netip.AddrPortFrom(a.Unmap(), uint16(port))
}

func (f *streamFactory) New(netFlow, _ gopacket.Flow, tcp *layers.TCP, ac reassembly.AssemblerContext) reassembly.Stream {
	r := f.r
	r.streams++
	s := &stream{r: r, client: -1, seq: r.streams}
	s.ends[0] = addrPort(netFlow.Src(), tcp.SrcPort)
	s.ends[1] = addrPort(netFlow.Dst(), tcp.DstPort)
	switch {
	case tcp.SYN && !tcp.ACK:
		s.client = 0
	case tcp.SYN:
		s.client = 1
	case r.portKind(uint16(tcp.DstPort)) != kindUnknown:
		s.client = 0
	case r.portKind(uint16(tcp.SrcPort)) != kindUnknown:
		s.client = 1
	}
	if s.client >= 0 {
		s.kind = r.portKind(s.ends[1-s.client].Port())
		s.byPort = s.kind != kindUnknown
	}
	if s.kind == kindTLS {
		s.open(r.ctx(ac), TLS)
	}
	return s
}

// portKind says what a broker port carries by convention or configuration.
func (r *Reader) portKind(port uint16) streamKind {
	switch {
	case slices.Contains(mqttPorts, port), slices.Contains(r.Ports, port):
		return kindMQTT
	case slices.Contains(tlsPorts, port):
		return kindTLS
	case slices.Contains(websocketPorts, port):
		return kindHandshake
	}
	return kindUnknown
}

func dirIndex(d reassembly.TCPFlowDirection) int {
	if d == reassembly.TCPDirClientToServer {
		return 0
	}
	return 1
}

// dir maps a direction index to who sent it.
func (s *stream) dir(i int) Direction {
	if int8(i) == s.client {
		return ClientToBroker
	}
	return BrokerToClient
}

func (s *stream) Accept(tcp *layers.TCP, _ gopacket.CaptureInfo, d reassembly.TCPFlowDirection, nextSeq reassembly.Sequence, start *bool, _ reassembly.AssemblerContext) bool {
	// A lone ACK or FIN after a connection was closed makes a new stream
	// in the assembler; only a SYN or data makes it a connection.
	if !s.counted && (tcp.SYN || len(tcp.Payload) > 0) {
		s.counted = true
		s.r.stats.Connections++
	}
	if tcp.RST && s.closeBy == "" {
		s.closeBy = "RST"
	} else if tcp.FIN && s.closeBy == "" {
		s.closeBy = "FIN"
	}
	if s.kind == kindOther || s.kind == kindTLS {
		// Only what ends the connection is let through, so that it leaves
		// the assembler's pool soon.
		return tcp.FIN || tcp.RST
	}
	h := &s.halves[dirIndex(d)]
	if tcp.SYN {
		h.synSeen = true
	} else if nextSeq == -1 {
		// No handshake in the capture: start where it starts and find the
		// first packet boundary later.
		*start = true
	}
	return true
}

func (s *stream) ReassembledSG(sg reassembly.ScatterGather, ac reassembly.AssemblerContext) {
	s.r.delivered(sg, ac)
	if s.r.err != nil || s.kind == kindOther || s.kind == kindTLS {
		return
	}
	d, _, _, skip := sg.Info()
	n, _ := sg.Lengths()
	if s.r.flushing {
		s.r.deferred = append(s.r.deferred, deferredCall{s: s, ctx: s.r.ctx(ac), i: dirIndex(d), skip: skip,
			data: slices.Clone(sg.Fetch(n))})
		return
	}
	s.take(dirIndex(d), skip, sg.Fetch(n), s.r.ctx(ac))
}

// take reads data of direction i that follows skip bytes missing from the
// capture.
func (s *stream) take(i, skip int, data []byte, ctx *segCtx) {
	if s.r.err != nil || s.kind == kindOther || s.kind == kindTLS {
		return
	}
	if skip > 0 {
		s.gap(i, skip, ctx)
	}
	if len(data) > 0 {
		s.feed(i, data, ctx)
	}
}

func (s *stream) ReassemblyComplete(ac reassembly.AssemblerContext) bool {
	if s.r.flushing {
		s.r.deferred = append(s.r.deferred, deferredCall{s: s, ctx: s.r.ctx(ac), complete: true})
	} else {
		s.complete(s.r.ctx(ac))
	}
	return true
}

// complete reports the end of the connection and whatever was left
// unfinished in it.
func (s *stream) complete(ctx *segCtx) {
	if s.conn == nil || s.kind == kindTLS {
		return
	}
	for i := range s.halves {
		h := &s.halves[i]
		if n := len(h.buf) + len(h.sniff); n > 0 {
			h.discarded += n
			h.setReason("connection ended inside a packet")
			h.buf, h.sniff = nil, nil
		}
		s.reportDamage(i, ctx)
	}
	reason := s.closeBy
	switch {
	case reason != "":
	case s.r.finishing:
		reason = "end of capture"
	default:
		reason = "idle"
	}
	s.r.event(&StreamEvent{Kind: Closed, Record: ctx.record, Time: ctx.at, Conn: s.conn, Reason: reason})
}

func (h *half) setReason(r string) {
	if h.reason == "" {
		h.reason = r
	}
}

// gap records n bytes of direction i missing from the capture.
func (s *stream) gap(i, n int, ctx *segCtx) {
	h := &s.halves[i]
	s.r.stats.LostBytes += int64(n)
	h.lost += n
	h.setReason("gap in the capture")
	h.discarded += len(h.buf)
	h.buf = h.buf[:0]
	h.sync, h.skip, h.started = false, 0, true
	switch s.kind {
	case kindUnknown, kindHandshake:
		// The start of the conversation is gone; nothing can be told.
		s.kind = kindOther
	case kindWebSocket:
		// WebSocket frame boundaries cannot be found again reliably.
		h.dead = true
		h.setReason("gap in the capture inside WebSocket frames: the rest of this direction is skipped")
		s.reportDamage(i, ctx)
	}
}

// open marks the connection as MQTT (or TLS) and announces it.
func (s *stream) open(ctx *segCtx, t Transport) {
	r := s.r
	r.nextConn++
	s.conn = &Conn{ID: r.nextConn, Client: s.ends[s.client], Broker: s.ends[1-s.client], Transport: t}
	kind := Opened
	switch t {
	case TLS:
		r.stats.TLSConnections++
		kind = Encrypted
	case WebSocket:
		r.stats.WebSocketConnections++
		r.stats.MQTTConnections++
	default:
		r.stats.MQTTConnections++
	}
	e := &StreamEvent{Kind: kind, Record: ctx.record, Time: ctx.at, Conn: s.conn}
	if t == TLS {
		e.Reason = "TLS on port " + strconv.Itoa(int(s.conn.Broker.Port()))
	}
	r.event(e)
}

// feed takes bytes of direction i in stream order.
func (s *stream) feed(i int, b []byte, ctx *segCtx) {
	h := &s.halves[i]
	switch s.kind {
	case kindUnknown:
		s.sniffConn(i, b, ctx)
	case kindMQTT:
		if !h.started && s.conn == nil && isTLS(b) {
			s.kind = kindTLS
			s.open(ctx, TLS)
			return
		}
		if s.conn == nil {
			s.open(ctx, TCP)
		}
		s.mqttBytes(i, b, ctx)
	case kindHandshake:
		s.handshake(i, b, ctx)
	case kindWebSocket:
		s.webSocketBytes(i, b, ctx)
	}
}

// sniffConn decides from the first bytes whether a connection on an
// unknown port is MQTT: a CONNECT, or an HTTP upgrade to WebSocket with the
// mqtt subprotocol, sent by the side that opened it.
func (s *stream) sniffConn(i int, b []byte, ctx *segCtx) {
	h := &s.halves[i]
	if len(h.sniff) > 0 {
		h.sniff = append(h.sniff, b...)
		b = h.sniff
	}
	if s.client >= 0 && int(s.client) != i {
		s.kind = kindOther // the server spoke first: not MQTT
		return
	}
	switch sniff(b) {
	case sniffConnect:
		s.client = int8(i)
		s.kind = kindMQTT
		h.sync = true
		h.sniff = nil
		s.open(ctx, TCP)
		s.mqttBytes(i, b, ctx)
	case sniffUpgrade:
		s.client = int8(i)
		s.kind = kindHandshake
		h.sniff = nil
		s.handshake(i, b, ctx)
	case sniffMore:
		if len(b) > maxSniff {
			s.kind = kindOther
			return
		}
		if len(h.sniff) == 0 {
			h.sniff = append(h.sniff, b...)
		}
	default:
		s.kind = kindOther
	}
}

// handshake reads the HTTP upgrade: the request from the client, the 101
// response from the broker; what follows each header is WebSocket frames.
func (s *stream) handshake(i int, b []byte, ctx *segCtx) {
	h := &s.halves[i]
	if h.wsOn {
		s.webSocketBytes(i, b, ctx)
		return
	}
	if s.client < 0 {
		s.kind = kindOther
		return
	}
	if len(h.sniff) > 0 {
		h.sniff = append(h.sniff, b...)
		b = h.sniff
	}
	end := headerEnd(b)
	if end < 0 {
		if len(b) > maxSniff {
			s.kind = kindOther
			return
		}
		if len(h.sniff) == 0 {
			h.sniff = append(h.sniff, b...)
		}
		return
	}
	head, rest := b[:end], b[end:]
	if s.dir(i) == ClientToBroker {
		upgrade, mqtt := parseUpgrade(head)
		if !upgrade || (!mqtt && !s.byPort) {
			s.kind = kindOther
			return
		}
		s.needConnect, s.upgrading = !mqtt, true
		if !s.needConnect && s.conn == nil {
			s.open(ctx, WebSocket)
		}
	} else if !s.upgrading || !switchingProtocols(head) {
		s.kind = kindOther // no upgrade was asked for, or it was refused: plain HTTP
		return
	}
	h.wsOn, h.sync = true, true
	rest = append([]byte(nil), rest...) // b may be h.sniff, released below
	h.sniff = nil
	if len(rest) > 0 {
		s.webSocketBytes(i, rest, ctx)
	}
}

// webSocketBytes unwraps WebSocket frames into the MQTT byte stream.
func (s *stream) webSocketBytes(i int, b []byte, ctx *segCtx) {
	h := &s.halves[i]
	if h.dead {
		return
	}
	if !h.wsOn {
		s.handshake(i, b, ctx)
		return
	}
	if s.kind == kindHandshake {
		s.kind = kindWebSocket
	}
	out, err := h.ws.feed(s.r.wsOut[:0], b)
	s.r.wsOut = out[:0]
	if len(out) > 0 {
		s.mqttBytes(i, out, ctx)
	}
	if err != nil && s.conn != nil {
		h.dead = true
		h.setReason("WebSocket: " + err.Error() + "; the rest of this direction is skipped")
		s.reportDamage(i, ctx)
	}
}

// reportDamage announces the bytes direction i lost or skipped since the
// last report.
func (s *stream) reportDamage(i int, ctx *segCtx) {
	h := &s.halves[i]
	if s.conn == nil || (h.lost == 0 && h.discarded == 0 && (!h.dead || h.damaged)) {
		return
	}
	r := s.r
	if !h.damaged {
		h.damaged = true
		r.stats.DamagedStreams++
	}
	r.stats.DiscardedBytes += int64(h.discarded)
	r.event(&StreamEvent{Kind: Damaged, Record: ctx.record, Time: ctx.at, Conn: s.conn, Dir: s.dir(i),
		Lost: h.lost, Discarded: h.discarded, Reason: h.reason})
	h.lost, h.discarded, h.reason = 0, 0, ""
}
