package fuzz

import (
	"fmt"
	"hash/fnv"

	"mqttspec/codec"
	"mqttspec/pcap"
)

// Session is what one client sends on one connection, in order: each element
// is one control packet's bytes, fixed header included, valid or not.
type Session [][]byte

// Clone copies the session so that mutating the copy leaves s alone.
func (s Session) Clone() Session {
	out := make(Session, len(s))
	for i, p := range s {
		out[i] = append([]byte(nil), p...)
	}
	return out
}

// Size is the number of bytes the session sends.
func (s Session) Size() int {
	n := 0
	for _, p := range s {
		n += len(p)
	}
	return n
}

// Stream is the session as the broker reads it: one byte stream.
func (s Session) Stream() []byte {
	b := make([]byte, 0, s.Size())
	for _, p := range s {
		b = append(b, p...)
	}
	return b
}

// ParseSession encodes packets written in the codec notation, one per
// element. The protocol level of the first CONNECT decides how the packets
// after it are encoded.
func ParseSession(lines ...string) (Session, error) {
	v := codec.V311
	var s Session
	for i, l := range lines {
		p, err := codec.Parse(l)
		if err != nil {
			return nil, fmt.Errorf("packet %d %q: %w", i+1, l, err)
		}
		if c, ok := p.(*codec.Connect); ok {
			v = c.ProtocolLevel
		}
		s = append(s, p.Append(nil, v))
	}
	return s, nil
}

// builtinSessions are the seeds used when no capture is given: the packet
// types and the 3.1, 3.1.1 and 5.0 features a broker must handle.
var builtinSessions = [][]string{
	{
		`CONNECT v=3.1.1 client-id="s1" clean keepalive=30`,
		`SUBSCRIBE id=1 sub("a/+" qos=1) sub("b/#" qos=2)`,
		`PUBLISH qos=1 id=2 topic="a/x" payload="one"`,
		`PUBLISH qos=2 id=3 retain topic="b/y" payload="two"`,
		`PUBREL id=3`,
		`UNSUBSCRIBE id=4 filter="a/+"`,
		`PINGREQ`,
		`DISCONNECT`,
	},
	{
		`CONNECT v=3.1.1 client-id="s2" keepalive=10 will{topic="w/s2" payload="gone" qos=1 retain} username="u" password="p"`,
		`PUBLISH topic="a/b" payload="zero"`,
		`SUBSCRIBE id=7 sub("a/b" qos=0)`,
		`PUBLISH qos=1 id=8 topic="a/b" payload="x"`,
		`PUBACK id=1`,
	},
	{
		`CONNECT v=3.1 client-id="s3" clean keepalive=60`,
		`PUBLISH qos=1 id=1 topic="old/t" payload="3.1"`,
		`SUBSCRIBE id=2 sub("old/#" qos=1)`,
		`DISCONNECT`,
	},
	{
		`CONNECT v=5.0 client-id="s4" clean keepalive=30 props{session-expiry=0 receive-maximum=10 topic-alias-maximum=5 maximum-packet-size=65536 request-problem-info=1 user("k"="v")}`,
		`SUBSCRIBE id=1 props{subscription-id=42} sub("c/+" qos=2 no-local rap rh=1) sub("$share/g/c/s" qos=1)`,
		`PUBLISH qos=1 id=2 topic="c/x" props{topic-alias=1 message-expiry=60 content-type="text/plain" payload-format=1 response-topic="c/r" correlation-data=0x0102 user("a"="b")} payload="hello"`,
		`PUBLISH qos=2 id=3 props{topic-alias=1} payload="alias"`,
		`PUBREL id=3`,
		`UNSUBSCRIBE id=4 props{user("u"="1")} filter="c/+"`,
		`PINGREQ`,
		`DISCONNECT reason=disconnect-with-will props{session-expiry=0}`,
	},
	{
		`CONNECT v=5.0 client-id="s5" keepalive=5 will{topic="w/s5" payload="bye" qos=2 props{will-delay=0 payload-format=1 message-expiry=30}} props{session-expiry=30}`,
		`SUBSCRIBE id=9 sub("d/#" qos=1)`,
		`PUBLISH qos=1 id=10 retain topic="d/r" payload="kept"`,
		`PUBACK id=1 reason=no-matching-subscribers props{reason-string="r"}`,
		`PUBREC id=11`,
		`PUBCOMP id=12`,
	},
	{
		`CONNECT v=5.0 client-id="" clean keepalive=0 props{auth-method="mqttspec-challenge"}`,
		`AUTH reason=continue-authentication props{auth-method="mqttspec-challenge" auth-data=0x00}`,
		`PUBLISH topic="e/1" payload=""`,
		`DISCONNECT`,
	},
	{
		`CONNECT v=5.0 client-id="s7" clean keepalive=30`,
		`SUBSCRIBE id=1 sub("f/#" qos=1)`,
		`PUBLISH qos=1 id=2 topic="f/a" payload="1"`,
		`PUBLISH qos=1 id=3 topic="f/b" payload="2"`,
		`PUBACK id=1`,
		`PUBACK id=2`,
		`UNSUBSCRIBE id=4 filter="f/#" filter="g"`,
		`DISCONNECT reason=normal-disconnection`,
	},
}

// BuiltinSeeds are the sessions the fuzzer starts from when no capture is
// given.
func BuiltinSeeds() []Session {
	out := make([]Session, 0, len(builtinSessions))
	for _, lines := range builtinSessions {
		s, err := ParseSession(lines...)
		if err != nil {
			panic("fuzz: built-in seed: " + err.Error())
		}
		out = append(out, s)
	}
	return out
}

// Limits on what a capture contributes: seeds stay cheap to mutate and send.
const (
	maxSeedPacket   = 64 << 10 // larger packets are left out of the session
	maxSeedPackets  = 128      // packets kept per connection
	maxSeedSessions = 1000     // connections kept per capture
)

// SeedsFromCapture extracts, for every MQTT connection in a pcap or pcapng
// file, the packets the client sent, in order. MQTT is recognized by content
// on any port; ports adds ports that always carry MQTT (for connections whose
// start is missing from the capture). Identical sessions are kept once.
func SeedsFromCapture(path string, ports []uint16) ([]Session, error) {
	r, err := pcap.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	r.Ports = append(r.Ports, ports...)
	byConn := map[*pcap.Conn]int{}
	var out []Session
	err = r.Walk(pcap.Handler{Message: func(m *pcap.Message) error {
		if m.Dir != pcap.ClientToBroker || len(m.Raw) > maxSeedPacket {
			return nil
		}
		i, ok := byConn[m.Conn]
		if !ok {
			if len(out) >= maxSeedSessions {
				return nil
			}
			i = len(out)
			byConn[m.Conn] = i
			out = append(out, nil)
		}
		if len(out[i]) < maxSeedPackets {
			out[i] = append(out[i], append([]byte(nil), m.Raw...))
		}
		return nil
	}})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return dedupe(out), nil
}

func dedupe(in []Session) []Session {
	seen := map[uint64]bool{}
	out := in[:0]
	for _, s := range in {
		h := fnv.New64a()
		for _, p := range s {
			h.Write(p)
			h.Write([]byte{0xff})
		}
		k := h.Sum64()
		if len(s) == 0 || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, s)
	}
	return out
}

// connectLevel is the protocol level of the session's first CONNECT, read
// leniently; V311 when there is none or it names no known level.
func connectLevel(stream []byte) codec.Version { return knownLevel(declaredLevel(stream)) }

// declaredLevel is the protocol level byte of the session's first CONNECT,
// known or not; 0 when the session does not start with a CONNECT.
func declaredLevel(stream []byte) codec.Version {
	d := codec.Decoder{Lenient: true}
	if p, _, err := d.Decode(stream); err == nil && p.Type() == codec.CONNECT {
		return p.(*codec.Connect).ProtocolLevel
	}
	if len(stream) == 0 || stream[0]>>4 != byte(codec.CONNECT) {
		return 0
	}
	// A CONNECT that does not decode: the level follows the fixed header
	// and the protocol name.
	fh, err := codec.ParseFixedHeader(stream, codec.V311)
	if err != nil {
		return 0
	}
	i := fh.Size
	if len(stream) < i+2 {
		return 0
	}
	i += 2 + (int(stream[i])<<8 | int(stream[i+1]))
	if i >= len(stream) {
		return 0
	}
	return codec.Version(stream[i])
}

func knownLevel(v codec.Version) codec.Version {
	switch v {
	case codec.V31, codec.V311, codec.V5:
		return v
	}
	return codec.V311
}

// probe is appended to every session: its PINGRESP proves the broker read
// everything before it without closing the connection.
var probe = []byte{0xC0, 0x00}
