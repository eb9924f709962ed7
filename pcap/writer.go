package pcap

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// DefaultMSS is the TCP payload size Writer splits data into.
const DefaultMSS = 1460

// writerSnaplen is the snap length the Writer declares; it never cuts.
const writerSnaplen = 262144

// Writer writes a classic pcap file (Ethernet, microsecond timestamps) of
// synthesized TCP connections: a three-way handshake, data segments with
// consistent sequence and acknowledgment numbers, and a FIN exchange.
// Checksums are computed, so Wireshark decodes the result as it would a
// real capture. Packets are written in the order of the calls.
type Writer struct {
	// MSS is the largest TCP payload of one segment; Send splits longer data.
	MSS int

	pw   *pcapgo.Writer
	buf  gopacket.SerializeBuffer
	ipID uint16
}

// NewWriter writes the pcap file header to w and returns a Writer.
func NewWriter(w io.Writer) (*Writer, error) {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(writerSnaplen, layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	return &Writer{MSS: DefaultMSS, pw: pw, buf: gopacket.NewSerializeBuffer()}, nil
}

// Flow is one synthesized TCP connection between a client and a broker.
type Flow struct {
	w      *Writer
	ends   [2]netip.AddrPort // indexed by Direction: [client, broker]
	macs   [2]net.HardwareAddr
	seq    [2]uint32 // next sequence number each side sends
	closed bool
}

// Open starts a connection with a handshake at time t. Both addresses must
// be IPv4 or both IPv6.
func (w *Writer) Open(client, broker netip.AddrPort, t time.Time) (*Flow, error) {
	client = netip.AddrPortFrom(client.Addr().Unmap(), client.Port())
	broker = netip.AddrPortFrom(broker.Addr().Unmap(), broker.Port())
	if !client.IsValid() || !broker.IsValid() || client.Addr().Is4() != broker.Addr().Is4() {
		return nil, fmt.Errorf("pcap: cannot open a flow from %v to %v: want two valid addresses of one IP family", client, broker)
	}
	f := &Flow{w: w, ends: [2]netip.AddrPort{client, broker}}
	// Stable per-connection values, so the same calls write the same file.
	h := fnv.New32a()
	h.Write(client.Addr().AsSlice())
	h.Write(broker.Addr().AsSlice())
	isn := h.Sum32() ^ uint32(client.Port())<<16 ^ uint32(broker.Port())
	for i := range f.macs {
		f.macs[i] = net.HardwareAddr{0x02, 0x00, byte(isn >> 24), byte(isn >> 16), byte(isn >> 8), byte(i + 1)}
	}
	c, b := isn, isn*2654435761+1
	if err := f.segment(ClientToBroker, t, c, 0, tcpSYN, nil); err != nil {
		return nil, err
	}
	if err := f.segment(BrokerToClient, t, b, c+1, tcpSYN|tcpACK, nil); err != nil {
		return nil, err
	}
	if err := f.segment(ClientToBroker, t, c+1, b+1, tcpACK, nil); err != nil {
		return nil, err
	}
	f.seq = [2]uint32{c + 1, b + 1}
	return f, nil
}

// Send writes data from one side at time t, in segments of at most MSS
// bytes, each acknowledging everything the other side has sent.
func (f *Flow) Send(d Direction, t time.Time, data []byte) error {
	if f.closed {
		return errors.New("pcap: Send on a closed flow")
	}
	mss := f.w.MSS
	if mss <= 0 {
		mss = DefaultMSS
	}
	for len(data) > 0 {
		n := min(len(data), mss)
		if err := f.segment(d, t, f.seq[d], f.seq[1-d], tcpPSH|tcpACK, data[:n]); err != nil {
			return err
		}
		f.seq[d] += uint32(n)
		data = data[n:]
	}
	return nil
}

// Close ends the connection at time t: the client's FIN, the broker's FIN
// and the client's last ACK.
func (f *Flow) Close(t time.Time) error {
	if f.closed {
		return nil
	}
	f.closed = true
	c, b := f.seq[ClientToBroker], f.seq[BrokerToClient]
	if err := f.segment(ClientToBroker, t, c, b, tcpFIN|tcpACK, nil); err != nil {
		return err
	}
	if err := f.segment(BrokerToClient, t, b, c+1, tcpFIN|tcpACK, nil); err != nil {
		return err
	}
	return f.segment(ClientToBroker, t, c+1, b+1, tcpACK, nil)
}

// TCP flags for segment.
const (
	tcpFIN = 1 << iota
	tcpSYN
	tcpRST
	tcpPSH
	tcpACK
)

// segment writes one TCP segment from side d.
func (f *Flow) segment(d Direction, t time.Time, seq, ack uint32, flags int, payload []byte) error {
	w := f.w
	src, dst := f.ends[d], f.ends[1-d]
	eth := &layers.Ethernet{SrcMAC: f.macs[d], DstMAC: f.macs[1-d], EthernetType: layers.EthernetTypeIPv4}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, Ack: ack,
		Window: 65535, FIN: flags&tcpFIN != 0, SYN: flags&tcpSYN != 0, RST: flags&tcpRST != 0,
		PSH: flags&tcpPSH != 0, ACK: flags&tcpACK != 0}
	var ip gopacket.SerializableLayer
	if src.Addr().Is4() {
		w.ipID++
		ip4 := &layers.IPv4{Version: 4, TTL: 64, Id: w.ipID, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolTCP,
			SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		if err := tcp.SetNetworkLayerForChecksum(ip4); err != nil {
			return err
		}
		ip = ip4
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
			SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		if err := tcp.SetNetworkLayerForChecksum(ip6); err != nil {
			return err
		}
		ip = ip6
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(w.buf, opts, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		return err
	}
	b := w.buf.Bytes()
	return w.pw.WritePacket(gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(b), Length: len(b)}, b)
}
