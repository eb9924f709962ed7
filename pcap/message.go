package pcap

import (
	"net/netip"
	"strconv"
	"time"

	"mqttspec/codec"
)

// Direction says which side of a connection sent a packet.
type Direction uint8

const (
	ClientToBroker Direction = iota
	BrokerToClient
)

// String is the short form the dump and the filter language use.
func (d Direction) String() string {
	if d == BrokerToClient {
		return "b2c"
	}
	return "c2b"
}

// Transport is how MQTT is carried on a connection.
type Transport uint8

const (
	TCP       Transport = iota // MQTT directly on TCP
	WebSocket                  // MQTT in WebSocket binary frames after an HTTP upgrade
	TLS                        // encrypted: seen, not decodable
)

func (t Transport) String() string {
	switch t {
	case WebSocket:
		return "websocket"
	case TLS:
		return "tls"
	}
	return "tcp"
}

// Conn is one MQTT connection of the capture. The same value is handed out
// for every packet and event of the connection and is never reused, so
// callers may keep it.
type Conn struct {
	ID        int // 1, 2, ... in order of first appearance
	Client    netip.AddrPort
	Broker    netip.AddrPort
	Transport Transport
	// Version is the protocol level from the connection's CONNECT, or a
	// guess when the capture starts after it; 0 while unknown.
	Version codec.Version
	// ClientID is the client identifier from the CONNECT, "" until seen.
	ClientID string
}

// String renders the connection as "#ID client → broker".
func (c *Conn) String() string { return string(c.AppendTo(nil)) }

// AppendTo appends String's text to b: a dump line has one, and this way it
// costs no allocation.
func (c *Conn) AppendTo(b []byte) []byte {
	b = append(b, '#')
	b = strconv.AppendInt(b, int64(c.ID), 10)
	b = append(b, ' ')
	b = c.Client.AppendTo(b)
	b = append(b, " → "...)
	return c.Broker.AppendTo(b)
}

// Message is one MQTT control packet found in the capture. Packet, Raw and
// Violations alias buffers the Reader reuses: they are valid only during the
// callback that receives the Message.
type Message struct {
	Record int       // 1-based capture record whose bytes completed the packet
	Time   time.Time // timestamp of that record
	Conn   *Conn
	Dir    Direction
	Type   codec.Type // from the fixed header, set even when Err is
	// Packet is the decoded packet; nil when Err is set.
	Packet codec.Packet
	// Raw is the whole packet, fixed header included.
	Raw []byte
	// Violations are the rules the packet breaks that still let it be read.
	Violations []*codec.Error
	// Err says why the packet could not be decoded at all.
	Err error
}

// EventKind names what happened to a connection.
type EventKind uint8

const (
	// Opened: a connection was recognized as MQTT (or as MQTT over TLS).
	Opened EventKind = iota
	// Closed: FIN or RST, idle for longer than the idle timeout, or the end
	// of the capture.
	Closed
	// Damaged: bytes of one direction were lost (a gap in the capture) or
	// had to be skipped to find the next packet boundary.
	Damaged
	// Encrypted: the connection is TLS; its packets cannot be shown.
	Encrypted
)

func (k EventKind) String() string {
	switch k {
	case Opened:
		return "opened"
	case Closed:
		return "closed"
	case Damaged:
		return "damaged"
	case Encrypted:
		return "encrypted"
	}
	return "event-" + strconv.Itoa(int(k))
}

// StreamEvent reports a change in a connection's state.
type StreamEvent struct {
	Kind   EventKind
	Record int
	Time   time.Time
	Conn   *Conn
	Dir    Direction // the damaged direction, for Damaged
	// Lost counts bytes missing from the capture, Discarded bytes that were
	// captured but skipped while looking for a packet boundary.
	Lost, Discarded int
	Reason          string
}

// Warning is a problem with one record that does not stop the reading.
type Warning struct {
	Record int
	Msg    string
}

func (w *Warning) Error() string { return "record " + strconv.Itoa(w.Record) + ": " + w.Msg }

// RecordError is a fatal problem with the capture file itself; Record is the
// record being read when it happened (0 for the file header).
type RecordError struct {
	Record int
	Err    error
}

func (e *RecordError) Error() string {
	if e.Record == 0 {
		return "capture header: " + e.Err.Error()
	}
	return "record " + strconv.Itoa(e.Record) + ": " + e.Err.Error()
}

func (e *RecordError) Unwrap() error { return e.Err }

// Handler receives what a Reader finds. Nil fields are skipped; an error
// returned by a callback stops Walk and is returned by it.
type Handler struct {
	Message func(*Message) error
	Stream  func(*StreamEvent) error
	Warning func(*Warning)
}

// Stats counts what a Reader has seen so far.
type Stats struct {
	Records     int       // capture records read
	Bytes       int64     // captured bytes in those records
	First, Last time.Time // timestamps of the first and the last record
	TCPSegments int
	NotTCP      int // records carrying something else (ARP, UDP, ICMP, ...)
	Fragments   int // IP fragments, not reassembled
	Truncated   int // records cut short by the snap length
	Malformed   int // records whose link, IP or TCP header could not be read
	UnknownLink int // records of a link type this package does not read

	Connections          int // TCP connections seen
	MQTTConnections      int // of which carry MQTT (directly or over WebSocket)
	WebSocketConnections int
	TLSConnections       int

	Packets        int // MQTT packets delivered
	Undecodable    int // of which could not be decoded (Message.Err)
	WithViolations int // of which break at least one rule
	DamagedStreams int // connection directions that lost or skipped bytes
	LostBytes      int64
	DiscardedBytes int64
}
