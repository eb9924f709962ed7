package pcap

import (
	"encoding/binary"
	"strconv"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Ethernet types this package follows.
const (
	etherIPv4  = 0x0800
	etherIPv6  = 0x86DD
	etherVLAN  = 0x8100
	etherQinQ  = 0x88A8
	etherQinQ2 = 0x9100 // pre-standard double tagging
)

// Link types numbered differently across systems for raw IP (DLT_RAW).
const (
	linkTypeRawBSD     layers.LinkType = 12
	linkTypeRawOpenBSD layers.LinkType = 14
)

// recordKind is what decoding one record's headers found.
type recordKind uint8

const (
	recordTCP recordKind = iota
	recordNotTCP
	recordFragment
	recordMalformed
	recordUnknownLink
)

// segment is the TCP segment found in a record; it is reused per record.
type segment struct {
	netFlow   gopacket.Flow
	tcp       layers.TCP
	truncated bool   // the snap length cut the payload short
	problem   string // why the record was not a usable TCP segment
}

// decode reads the link, IP and TCP headers of one record.
func (s *segment) decode(lt layers.LinkType, b []byte) recordKind {
	s.truncated, s.problem = false, ""
	et, p, kind := s.link(lt, b)
	if kind != recordTCP {
		return kind
	}
	switch et {
	case etherIPv4:
		return s.ipv4(p)
	case etherIPv6:
		return s.ipv6(p)
	}
	return recordNotTCP
}

// link strips the link-layer header and returns the Ethernet type of what
// follows.
func (s *segment) link(lt layers.LinkType, b []byte) (uint16, []byte, recordKind) {
	var et uint16
	switch lt {
	case layers.LinkTypeEthernet:
		if len(b) < 14 {
			return s.malformed("Ethernet header needs 14 bytes, record has " + strconv.Itoa(len(b)))
		}
		et, b = binary.BigEndian.Uint16(b[12:14]), b[14:]
	case layers.LinkTypeLinuxSLL:
		if len(b) < 16 {
			return s.malformed("Linux cooked (SLL) header needs 16 bytes, record has " + strconv.Itoa(len(b)))
		}
		et, b = binary.BigEndian.Uint16(b[14:16]), b[16:]
	case layers.LinkTypeLinuxSLL2:
		if len(b) < 20 {
			return s.malformed("Linux cooked (SLL2) header needs 20 bytes, record has " + strconv.Itoa(len(b)))
		}
		et, b = binary.BigEndian.Uint16(b[0:2]), b[20:]
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(b) < 4 {
			return s.malformed("loopback header needs 4 bytes, record has " + strconv.Itoa(len(b)))
		}
		// NULL stores the address family in the capturing host's byte
		// order, LOOP in network order; the family is small either way.
		family := binary.LittleEndian.Uint32(b[:4])
		if family > 0xFFFF {
			family = binary.BigEndian.Uint32(b[:4])
		}
		b = b[4:]
		switch family {
		case 2:
			et = etherIPv4
		case 10, 24, 28, 30: // AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, Darwin
			et = etherIPv6
		default:
			return 0, nil, recordNotTCP
		}
	case layers.LinkTypeRaw, linkTypeRawBSD, linkTypeRawOpenBSD, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		if len(b) == 0 {
			return s.malformed("empty raw IP record")
		}
		switch b[0] >> 4 {
		case 4:
			et = etherIPv4
		case 6:
			et = etherIPv6
		default:
			return s.malformed("raw IP record with IP version " + strconv.Itoa(int(b[0]>>4)))
		}
	default:
		return 0, nil, recordUnknownLink
	}
	// VLAN tags (802.1Q, stacked 802.1ad) sit between the link header and IP.
	for i := 0; i < 4 && (et == etherVLAN || et == etherQinQ || et == etherQinQ2); i++ {
		if len(b) < 4 {
			return s.malformed("VLAN tag needs 4 bytes")
		}
		et, b = binary.BigEndian.Uint16(b[2:4]), b[4:]
	}
	return et, b, recordTCP
}

func (s *segment) malformed(msg string) (uint16, []byte, recordKind) {
	s.problem = msg
	return 0, nil, recordMalformed
}

func (s *segment) fail(kind recordKind, msg string) recordKind {
	s.problem = msg
	return kind
}

func (s *segment) ipv4(b []byte) recordKind {
	if len(b) < 20 {
		return s.fail(recordMalformed, "IPv4 header needs 20 bytes, "+strconv.Itoa(len(b))+" captured")
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if total == 0 {
		// Segmentation offload: the host captured its own large segment
		// before the NIC split it and filled in the length.
		total = len(b)
	}
	switch {
	case b[0]>>4 != 4:
		return s.fail(recordMalformed, "IPv4 header with version "+strconv.Itoa(int(b[0]>>4)))
	case ihl < 20 || total < ihl:
		return s.fail(recordMalformed, "IPv4 header length "+strconv.Itoa(ihl)+", total length "+strconv.Itoa(total))
	case len(b) < ihl:
		s.truncated = true
		return s.fail(recordMalformed, "IPv4 options cut by the snap length")
	}
	if b[9] != 6 {
		return recordNotTCP
	}
	if b[6]&0x20 != 0 || binary.BigEndian.Uint16(b[6:8])&0x1fff != 0 {
		return s.fail(recordFragment, "IPv4 fragment of a TCP segment")
	}
	s.netFlow = gopacket.NewFlow(layers.EndpointIPv4, b[12:16], b[16:20])
	// Ethernet pads short frames; the IP total length says where data ends.
	if len(b) > total {
		b = b[:total]
	} else if len(b) < total {
		s.truncated = true
	}
	return s.tcpHeader(b[ihl:])
}

func (s *segment) ipv6(b []byte) recordKind {
	if len(b) < 40 {
		return s.fail(recordMalformed, "IPv6 header needs 40 bytes, "+strconv.Itoa(len(b))+" captured")
	}
	if b[0]>>4 != 6 {
		return s.fail(recordMalformed, "IPv6 header with version "+strconv.Itoa(int(b[0]>>4)))
	}
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	next := b[6]
	s.netFlow = gopacket.NewFlow(layers.EndpointIPv6, b[8:24], b[24:40])
	p := b[40:]
	if plen != 0 { // 0 is a jumbogram: the payload runs to the end
		if len(p) > plen {
			p = p[:plen]
		} else if len(p) < plen {
			s.truncated = true
		}
	}
	// Walk the extension headers to TCP; a handful is all real traffic uses.
	for i := 0; i < 8; i++ {
		switch next {
		case 6:
			return s.tcpHeader(p)
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(p) < 8 {
				return s.fail(recordMalformed, "IPv6 extension header cut short")
			}
			n := (int(p[1]) + 1) * 8
			if len(p) < n {
				return s.fail(recordMalformed, "IPv6 extension header cut short")
			}
			next, p = p[0], p[n:]
		case 51: // authentication header counts 4-byte words
			if len(p) < 8 {
				return s.fail(recordMalformed, "IPv6 authentication header cut short")
			}
			n := (int(p[1]) + 2) * 4
			if len(p) < n {
				return s.fail(recordMalformed, "IPv6 authentication header cut short")
			}
			next, p = p[0], p[n:]
		case 44:
			return s.fail(recordFragment, "IPv6 fragment")
		default:
			return recordNotTCP
		}
	}
	return s.fail(recordMalformed, "too many IPv6 extension headers")
}

func (s *segment) tcpHeader(b []byte) recordKind {
	if err := s.tcp.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		if s.truncated {
			return s.fail(recordMalformed, "TCP header cut by the snap length")
		}
		return s.fail(recordMalformed, "TCP header: "+err.Error())
	}
	return recordTCP
}
