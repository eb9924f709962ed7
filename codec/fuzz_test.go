package codec

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/stretchr/testify/require"
)

// Native fuzz targets; the invariants live in fuzz.go so go-fuzz shares
// them. Seeds are in testdata/fuzz/<target>/ (see TestWriteSeedCorpus).

func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { FuzzDecodeOnce(data) })
}

func FuzzDecodeRoundTrip(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { FuzzRoundTripOnce(data) })
}

func FuzzNotation(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) { FuzzNotationOnce(s) })
}

func FuzzReader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { FuzzReaderOnce(data) })
}

func FuzzLayer(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { FuzzLayerOnce(data) })
}

// TestWriteSeedCorpus rewrites the seed-* files under testdata/fuzz from the
// shared broker captures and the notation examples of the unit tests. Other
// files there are regression inputs the fuzzers found, kept by hand.
func TestWriteSeedCorpus(t *testing.T) {
	if os.Getenv("MQTTSPEC_WRITE_CORPUS") != "1" {
		t.Skip("set MQTTSPEC_WRITE_CORPUS=1 to rewrite testdata/fuzz/*/seed-* from the captures")
	}
	dir := os.Getenv("MQTTSPEC_CAPTURES")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "captures")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.pcap"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no captures in %s", dir)
	sort.Strings(files)

	var s seedSet
	for _, rt := range roundTrips {
		s.addPacket(rt.v, rt.text)
	}
	for _, seg := range layerConversation {
		for _, line := range seg.lines {
			s.addNotation(line, line)
		}
	}
	for _, file := range files {
		v := V311
		if strings.Contains(filepath.Base(file), "mqtt5") {
			v = V5
		}
		flows := map[uint32][]byte{}
		var order []uint32
		for _, seg := range seedSegments(t, file) {
			if _, ok := flows[seg.flow]; !ok {
				order = append(order, seg.flow)
			}
			flows[seg.flow] = append(flows[seg.flow], seg.payload...)
			s.addSegment(seg, v)
		}
		for _, flow := range order {
			s.addFlow(file, flows[flow], flow, v)
		}
	}
	for target, inputs := range s.byTarget {
		root := filepath.Join("testdata", "fuzz", target)
		old, err := filepath.Glob(filepath.Join(root, "seed-*"))
		require.NoError(t, err)
		for _, f := range old {
			require.NoError(t, os.Remove(f))
		}
		require.NoError(t, os.MkdirAll(root, 0o755))
		for _, in := range inputs {
			sum := sha256.Sum256([]byte(in))
			name := filepath.Join(root, fmt.Sprintf("seed-%x", sum[:8]))
			require.NoError(t, os.WriteFile(name, []byte(in), 0o644))
		}
		t.Logf("%s: %d seeds", target, len(inputs))
	}
}

type seedSegment struct {
	flow    uint32 // source port << 16 | destination port
	payload []byte
}

// seedSegments returns the TCP payloads of a classic Ethernet pcap file in
// capture order (read by hand: pcapgo would add a module to go.sum).
func seedSegments(t *testing.T, file string) []seedSegment {
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(data), 24, file)
	var order binary.ByteOrder = binary.LittleEndian
	if binary.BigEndian.Uint32(data) == 0xa1b2c3d4 || binary.BigEndian.Uint32(data) == 0xa1b23c4d {
		order = binary.BigEndian
	}
	require.Contains(t, []uint32{0xa1b2c3d4, 0xa1b23c4d}, order.Uint32(data), "%s: not a classic pcap", file)
	require.Equal(t, uint32(layers.LinkTypeEthernet), order.Uint32(data[20:]), "%s: link type", file)
	var (
		eth     layers.Ethernet
		ip      layers.IPv4
		tcp     layers.TCP
		payload gopacket.Payload
		decoded []gopacket.LayerType
		out     []seedSegment
	)
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip, &tcp, &payload)
	parser.IgnoreUnsupported = true
	for off, rec := 24, 0; off < len(data); rec++ {
		require.LessOrEqual(t, off+16, len(data), "%s: record %d header cut short", file, rec)
		n := int(order.Uint32(data[off+8:]))
		require.LessOrEqual(t, off+16+n, len(data), "%s: record %d cut short", file, rec)
		frame := data[off+16 : off+16+n]
		off += 16 + n
		if parser.DecodeLayers(frame, &decoded) != nil || len(tcp.Payload) == 0 {
			continue
		}
		out = append(out, seedSegment{uint32(tcp.SrcPort)<<16 | uint32(tcp.DstPort), bytes.Clone(tcp.Payload)})
	}
	return out
}

// seedSet collects distinct small inputs per fuzz target, as files in the
// `go test fuzz v1` format.
type seedSet struct {
	byTarget map[string][]string
	seen     map[string]bool
}

// seedMaxBytes keeps seeds small: the fuzzers mutate small inputs faster.
const seedMaxBytes = 1024

// add keeps the first input of each key per target.
func (s *seedSet) add(target, key, file string) {
	if s.byTarget == nil {
		s.byTarget, s.seen = map[string][]string{}, map[string]bool{}
	}
	if s.seen[target+"\x00"+key] {
		return
	}
	s.seen[target+"\x00"+key] = true
	s.byTarget[target] = append(s.byTarget[target], file)
}

func bytesSeed(b []byte) string { return "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n" }

func (s *seedSet) addNotation(key, text string) {
	s.add("FuzzNotation", key, "go test fuzz v1\nstring("+strconv.Quote(text)+")\n")
}

// seedConfig finds the fuzzConfigs row for a version, direction and mode.
func seedConfig(v Version, from Role, lenient bool) byte {
	for i, c := range fuzzConfigs() {
		if c.Version == v && c.From == from && c.Lenient == lenient {
			return byte(i)
		}
	}
	panic("no such fuzz config")
}

// seedDirection: brokers listen on the lower port of each connection here.
func seedDirection(flow uint32) Role {
	if flow>>16 < flow&0xffff {
		return FromServer
	}
	return FromClient
}

// addPacket seeds the decode and notation targets with a packet written in
// notation and encoded for v.
func (s *seedSet) addPacket(v Version, text string) {
	p, err := Parse(text)
	if err != nil {
		panic(err)
	}
	s.addNotation(text, text)
	w := p.Append(nil, v)
	s.add("FuzzDecode", text, bytesSeed(w))
	s.add("FuzzDecodeRoundTrip", text, bytesSeed(w))
}

// addSegment seeds the layer target with a captured TCP payload.
func (s *seedSet) addSegment(seg seedSegment, v Version) {
	if len(seg.payload) > seedMaxBytes {
		return
	}
	n := 0
	for b := seg.payload; n < 3; n++ {
		fh, err := ParseFixedHeader(b, V311)
		if err != nil || fh.Size+fh.Remaining > len(b) {
			break
		}
		b = b[fh.Size+fh.Remaining:]
	}
	key := fmt.Sprintf("%v %x %d", v, seg.payload[0]>>4, n)
	s.add("FuzzLayer", key, bytesSeed(append([]byte{seedConfig(v, seedDirection(seg.flow), true)}, seg.payload...)))
}

// addFlow seeds the decode, notation and reader targets with the packets
// of one direction of a captured connection; v is how the capture's
// connections start (a CONNECT may change it).
func (s *seedSet) addFlow(file string, stream []byte, flow uint32, v Version) {
	from := seedDirection(flow)
	d := Decoder{Version: v, Lenient: true}
	prefix := 0
	for off := 0; off < len(stream); {
		p, n, err := d.Decode(stream[off:])
		if n == 0 {
			break
		}
		raw := stream[off : off+n]
		if off+n <= seedMaxBytes {
			prefix = off + n
		}
		off += n
		if err != nil || n > seedMaxBytes {
			continue
		}
		key := fmt.Sprintf("%v %v", d.version(), p.Type())
		s.add("FuzzDecode", key, bytesSeed(raw))
		s.add("FuzzDecodeRoundTrip", key, bytesSeed(raw))
		s.addNotation(key, Format(p))
	}
	if prefix == 0 {
		return
	}
	key := fmt.Sprintf("%s %d", filepath.Base(file), from)
	s.add("FuzzDecode", "stream "+key, bytesSeed(stream[:prefix]))
	// Settings, chunk seed, then the stream; a partial packet at the end
	// checks the reader's unexpected-EOF path.
	end := min(len(stream), prefix+3)
	in := append([]byte{seedConfig(v, from, false), byte(len(s.byTarget["FuzzReader"])) * 37}, stream[:end]...)
	s.add("FuzzReader", key, bytesSeed(in))
}
