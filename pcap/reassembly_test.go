package pcap

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

// record is one capture record, for tests that rearrange captures.
type record struct {
	ci    gopacket.CaptureInfo
	frame []byte
}

// sessionRecords writes the 3.1.1 session in segments of at most mss bytes,
// records spaced step apart.
func sessionRecords(t testing.TB, mss int, step time.Duration) []record {
	file := writeCapture(t, func(w *Writer) {
		w.MSS = mss
		converse(t, w, "10.0.0.1:40001", "10.0.0.2:1883", codec.V311, epoch, sessionV311)
	})
	cis, frames := records(t, file)
	recs := make([]record, len(cis))
	for i := range cis {
		cis[i].Timestamp = epoch.Add(time.Duration(i) * step)
		recs[i] = record{cis[i], frames[i]}
	}
	return recs
}

func writeRecords(t testing.TB, recs []record) []byte {
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	require.NoError(t, w.WriteFileHeader(writerSnaplen, layers.LinkTypeEthernet))
	for _, r := range recs {
		require.NoError(t, w.WritePacket(r.ci, r.frame))
	}
	return buf.Bytes()
}

// tcpOf decodes a record's TCP header.
func tcpOf(t testing.TB, frame []byte) *layers.TCP {
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	require.True(t, ok, "record is not TCP")
	return tcp
}

// dataRecords lists the indices of records carrying data from port.
func dataRecords(t testing.TB, recs []record, port layers.TCPPort) []int {
	var idx []int
	for i, r := range recs {
		if tcp := tcpOf(t, r.frame); tcp.SrcPort == port && len(tcp.Payload) > 0 {
			idx = append(idx, i)
		}
	}
	return idx
}

// reseg rebuilds a record's frame with another sequence number and payload.
func reseg(t testing.TB, frame []byte, seq uint32, payload []byte) []byte {
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	eth := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	tcp := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	tcp.Seq = seq
	require.NoError(t, tcp.SetNetworkLayerForChecksum(ip))
	buf := gopacket.NewSerializeBuffer()
	require.NoError(t, gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, tcp, gopacket.Payload(payload)))
	return buf.Bytes()
}

func withLen(ci gopacket.CaptureInfo, n int) gopacket.CaptureInfo {
	ci.CaptureLength, ci.Length = n, n
	return ci
}

// byDir splits walk lines per direction: reassembly keeps each direction in
// order, while a gap may delay one direction relative to the other.
func byDir(lines []string) (c2b, b2c []string) {
	for _, l := range lines {
		if strings.HasPrefix(l, "c2b") {
			c2b = append(c2b, l)
		} else {
			b2c = append(b2c, l)
		}
	}
	return c2b, b2c
}

// TestReassembly covers what real captures do to TCP streams: segments out
// of order, retransmitted, overlapping, missing, captures that start in the
// middle of a connection, and connections torn down by RST.
func TestReassembly(t *testing.T) {
	want := expected(t, codec.V311, sessionV311)
	wantC2B, wantB2C := byDir(want)
	bigPublish := slices.IndexFunc(wantC2B, func(l string) bool { return strings.Contains(l, `topic="fx/2"`) })

	tests := []struct {
		name  string
		step  time.Duration
		setup func(r *Reader)
		edit  func(t *testing.T, recs []record) []record
		check func(t *testing.T, s *seen)
	}{
		{name: "out of order segments", edit: func(t *testing.T, recs []record) []record {
			d := dataRecords(t, recs, 40001)
			recs[d[10]], recs[d[11]] = recs[d[11]], recs[d[10]]
			recs[d[20]], recs[d[22]] = recs[d[22]], recs[d[20]]
			return recs
		}},
		{name: "retransmitted segments", edit: func(t *testing.T, recs []record) []record {
			d := dataRecords(t, recs, 40001)
			recs = slices.Insert(recs, d[13]+3, recs[d[12]], recs[d[13]])
			return slices.Insert(recs, d[1]+1, recs[d[1]])
		}},
		{name: "overlapping segments", edit: func(t *testing.T, recs []record) []record {
			d := dataRecords(t, recs, 40001)
			a, b := tcpOf(t, recs[d[30]].frame), tcpOf(t, recs[d[31]].frame)
			mid := len(a.Payload) / 2
			payload := append(slices.Clone(a.Payload[mid:]), b.Payload[:len(b.Payload)/2]...)
			frame := reseg(t, recs[d[30]].frame, a.Seq+uint32(mid), payload)
			// The overlapping segment arrives first, then both originals.
			return slices.Insert(recs, d[30], record{withLen(recs[d[30]].ci, len(frame)), frame})
		}},
		{name: "capture starts mid-connection", edit: func(t *testing.T, recs []record) []record {
			d := dataRecords(t, recs, 40001)
			return recs[d[bigPublish]+8:] // inside the big PUBLISH, handshake gone
		}, check: func(t *testing.T, s *seen) {
			c2b, b2c := byDir(s.lines)
			assert.Equal(t, wantC2B[bigPublish+1:], c2b, "client packets after the cut PUBLISH")
			assert.Equal(t, wantB2C[len(wantB2C)-len(b2c):], b2c, "broker packets are a tail of the session")
			require.NotEmpty(t, s.events)
			damaged := s.events[slices.IndexFunc(s.events, func(e *StreamEvent) bool { return e.Kind == Damaged })]
			assert.Equal(t, ClientToBroker, damaged.Dir)
			assert.Equal(t, "capture starts mid-connection", damaged.Reason)
			assert.Positive(t, damaged.Discarded)
			assert.Zero(t, damaged.Lost)
		}},
		{name: "gap, resolved at the end of the capture", edit: dropInBigPublish, check: checkGap(wantC2B, wantB2C, bigPublish)},
		{name: "gap, resolved by the gap timeout", step: 100 * time.Millisecond,
			setup: func(r *Reader) { r.GapTimeout = time.Second }, edit: dropInBigPublish,
			check: func(t *testing.T, s *seen) {
				checkGap(wantC2B, wantB2C, bigPublish)(t, s)
				// Resolved during the walk: the broker's answers to the
				// later client packets come after them, as on the wire.
				last := slices.Index(s.lines, wantC2B[len(wantC2B)-1])
				assert.Greater(t, last, slices.Index(s.lines, wantB2C[len(wantB2C)-2]))
			}},
		{name: "connection reset", edit: func(t *testing.T, recs []record) []record {
			n := len(recs)
			fin := recs[n-2] // the broker's FIN
			tcp := tcpOf(t, fin.frame)
			tcp.FIN, tcp.RST = false, true
			frame := reseg(t, fin.frame, tcp.Seq, nil)
			frame[14+20+13] = 0x14 // RST|ACK: reseg keeps the decoded flags
			return append(recs[:n-3], record{withLen(fin.ci, len(frame)), frame})
		}, check: func(t *testing.T, s *seen) {
			assert.Equal(t, want, s.lines)
			assert.Equal(t, "RST", s.events[len(s.events)-1].Reason)
		}},
		{name: "segment cut by the snap length", edit: func(t *testing.T, recs []record) []record {
			d := dataRecords(t, recs, 40001)
			r := &recs[d[bigPublish]+3]
			r.frame = r.frame[:len(r.frame)-10]
			r.ci.CaptureLength = len(r.frame)
			return recs
		}, check: func(t *testing.T, s *seen) {
			c2b, _ := byDir(s.lines)
			assert.NotContains(t, c2b, wantC2B[bigPublish])
			assert.Equal(t, wantC2B[bigPublish+1:], c2b[bigPublish:])
			require.Len(t, s.warnings, 1)
			assert.Contains(t, s.warnings[0].Error(), "TCP segment cut by the snap length")
			assert.Equal(t, 1, s.stats.Truncated)
			assert.EqualValues(t, 10, s.stats.LostBytes)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			step := tc.step
			if step == 0 {
				step = time.Microsecond
			}
			recs := tc.edit(t, sessionRecords(t, 40, step))
			s := walk(t, writeRecords(t, recs), tc.setup)
			require.NoError(t, s.err)
			if tc.check == nil {
				assert.Equal(t, want, s.lines)
				assert.Zero(t, s.stats.DamagedStreams)
				return
			}
			tc.check(t, s)
		})
	}
}

// dropInBigPublish removes one client segment from the middle of the
// 5 kB PUBLISH.
func dropInBigPublish(t *testing.T, recs []record) []record {
	d := dataRecords(t, recs, 40001)
	i := d[len(d)/2]
	return slices.Delete(recs, i, i+1)
}

func checkGap(wantC2B, wantB2C []string, bigPublish int) func(t *testing.T, s *seen) {
	return func(t *testing.T, s *seen) {
		c2b, b2c := byDir(s.lines)
		assert.Equal(t, wantB2C, b2c)
		assert.Equal(t, wantC2B[:bigPublish], c2b[:bigPublish])
		assert.Equal(t, wantC2B[bigPublish+1:], c2b[bigPublish:], "resynchronized after the gap")
		i := slices.IndexFunc(s.events, func(e *StreamEvent) bool { return e.Kind == Damaged })
		require.GreaterOrEqual(t, i, 0)
		e := s.events[i]
		assert.Equal(t, 40, e.Lost)
		assert.Positive(t, e.Discarded)
		assert.Equal(t, "gap in the capture", e.Reason)
		assert.Equal(t, 1, s.stats.DamagedStreams)
	}
}
