package codec

import (
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// LayerTypeMQTT is the gopacket layer type of MQTT control packets carried in
// a TCP segment. Its number, 1883, is the MQTT port and lies in the range
// gopacket leaves to applications (1000-1999).
var LayerTypeMQTT = gopacket.RegisterLayerType(1883, gopacket.LayerTypeMetadata{
	Name:    "MQTT",
	Decoder: gopacket.DecodeFunc(decodeMQTT),
})

// RegisterPort makes gopacket decode TCP payloads to or from port as MQTT:
// DecodingLayerParser follows the port table directly, gopacket.NewPacket
// only with DecodeOptions.DecodeStreamsAsDatagrams. Nothing is registered
// implicitly because brokers listen on any port and 1883 may carry
// something else on the capture at hand. gopacket keeps the port table in an
// unlocked map: call RegisterPort before decoding starts.
func RegisterPort(port uint16) {
	layers.RegisterTCPPortLayerType(layers.TCPPort(port), LayerTypeMQTT)
}

// SegmentPacket is one control packet found in a TCP segment.
type SegmentPacket struct {
	Packet
	Raw []byte // the packet's bytes, fixed header included, aliasing the segment
	// Violations are the rules the packet breaks, found in lenient mode.
	Violations []*Error
}

// MQTT is the layer made of the control packets in one TCP payload. A
// segment may hold several packets, and may end inside one that the next
// segment completes: the complete ones are in Packets, the rest is the
// layer's payload. Decoding works per segment, without TCP reassembly; to
// follow whole streams feed reassembled bytes to a Reader instead.
//
// As a DecodingLayer the value is reused: Packets and everything they point
// to stay valid until the next DecodeFromBytes, and steady-state decoding
// allocates nothing.
type MQTT struct {
	layers.BaseLayer
	// Version is the protocol level of the connection the segment belongs
	// to; 0 reads as 3.1.1. A decoded CONNECT sets it for what follows, so
	// one value fed the segments of one connection in order follows it.
	Version Version
	// From is who sent the segment, for the one-sided rules.
	From Role
	// Strict fails on any rule violation. By default decoding is lenient so
	// captures of misbehaving peers still show; violations are then listed
	// per packet and only structural damage stops decoding.
	Strict bool

	Packets []SegmentPacket

	dec        Decoder
	violations []*Error
	// Decoded values are moved out of dec into these, so two packets of the
	// same type in one segment do not share storage.
	connects     slots[Connect]
	connacks     slots[Connack]
	publishes    slots[Publish]
	acks         slots[Ack]
	subscribes   slots[Subscribe]
	subacks      slots[Suback]
	unsubscribes slots[Unsubscribe]
	pings        slots[Ping]
	disconnects  slots[Disconnect]
	auths        slots[Auth]
}

// LayerType is LayerTypeMQTT.
func (m *MQTT) LayerType() gopacket.LayerType { return LayerTypeMQTT }

// CanDecode is LayerTypeMQTT.
func (m *MQTT) CanDecode() gopacket.LayerClass { return LayerTypeMQTT }

// NextLayerType is LayerTypeZero: what follows the last complete packet is
// the start of a packet, not another protocol.
func (m *MQTT) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

// Payload is the bytes after the last complete packet: a packet that
// continues in the next segment, or bytes that do not decode.
func (m *MQTT) Payload() []byte { return m.BaseLayer.Payload }

// DecodeFromBytes decodes the packets at the start of data. A segment that
// ends inside a packet is not an error; bytes that cannot be a packet are,
// and the packets before them are still in Packets.
func (m *MQTT) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	m.Packets = m.Packets[:0]
	m.violations = m.violations[:0]
	m.dec.Version, m.dec.From, m.dec.Lenient = m.Version, m.From, !m.Strict
	m.connects.n, m.connacks.n, m.publishes.n, m.acks.n, m.subscribes.n = 0, 0, 0, 0, 0
	m.subacks.n, m.unsubscribes.n, m.pings.n, m.disconnects.n, m.auths.n = 0, 0, 0, 0, 0
	off := 0
	var err error
	for off < len(data) {
		var p Packet
		var n int
		p, n, err = m.dec.Decode(data[off:])
		if err != nil {
			break
		}
		lo := len(m.violations)
		m.violations = append(m.violations, m.dec.Violations...)
		// An earlier packet's Violations may keep pointing into an array
		// this append replaced; that array is never written again.
		m.Packets = append(m.Packets, SegmentPacket{Packet: m.keep(p), Raw: data[off : off+n : off+n],
			Violations: m.violations[lo:len(m.violations):len(m.violations)]})
		off += n
	}
	m.Version = m.dec.Version
	m.Contents, m.BaseLayer.Payload = data[:off:off], data[off:]
	if err == nil || err == ErrShortBuffer {
		return nil
	}
	return fmt.Errorf("MQTT packet %d at segment byte %d: %w", len(m.Packets)+1, off, err)
}

// keep moves the packet the decoder just filled into the next free slot of
// its type, handing the decoder the slot's old value to reuse.
func (m *MQTT) keep(p Packet) Packet {
	switch p := p.(type) {
	case *Connect:
		return m.connects.keep(p)
	case *Connack:
		return m.connacks.keep(p)
	case *Publish:
		return m.publishes.keep(p)
	case *Ack:
		return m.acks.keep(p)
	case *Subscribe:
		return m.subscribes.keep(p)
	case *Suback:
		return m.subacks.keep(p)
	case *Unsubscribe:
		return m.unsubscribes.keep(p)
	case *Ping:
		return m.pings.keep(p)
	case *Disconnect:
		return m.disconnects.keep(p)
	case *Auth:
		return m.auths.keep(p)
	}
	return p
}

// slots holds the decoded values of one Go type for one segment; the first
// n are in use.
type slots[T any] struct {
	vals []*T
	n    int
}

// keep exchanges *cur with the next slot, creating it the first time.
// Swapping rather than copying keeps each value's reused slices apart.
func (s *slots[T]) keep(cur *T) *T {
	if s.n == len(s.vals) {
		s.vals = append(s.vals, new(T))
	}
	v := s.vals[s.n]
	s.n++
	*v, *cur = *cur, *v
	return v
}

func decodeMQTT(data []byte, pb gopacket.PacketBuilder) error {
	m := &MQTT{}
	err := m.DecodeFromBytes(data, pb)
	pb.AddLayer(m)
	pb.SetApplicationLayer(m)
	return err
}
