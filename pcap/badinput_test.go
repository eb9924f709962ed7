package pcap

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordOffsets returns the file offset of each record header in a classic
// little-endian pcap file.
func recordOffsets(file []byte) []int {
	var offs []int
	for off := 24; off+16 <= len(file); {
		offs = append(offs, off)
		off += 16 + int(binary.LittleEndian.Uint32(file[off+8:off+12]))
	}
	return offs
}

// TestBadInput: damaged files give an error naming the record (or the
// header), never a panic, and what was read before it is delivered.
func TestBadInput(t *testing.T) {
	good := readFixture(t, "writer-v311.pcap")
	offs := recordOffsets(good)
	n := len(offs)
	clone := func() []byte { return bytes.Clone(good) }
	setU32 := func(b []byte, off int, v uint32) []byte { binary.LittleEndian.PutUint32(b[off:], v); return b }

	tests := []struct {
		name      string
		file      []byte
		openErr   string // NewReader fails with this
		walkErr   string // Walk fails with this
		record    int    // the record the Walk error names
		atLeast   int    // packets delivered before the error
		warning   string // a warning names this
		warnedRec int
	}{
		{name: "empty file", file: nil, openErr: "capture header: file too short for a capture header (0 bytes)"},
		{name: "three bytes", file: []byte{0xd4, 0xc3, 0xb2}, openErr: "file too short for a capture header (3 bytes)"},
		{name: "wrong magic", file: []byte("GET / HTTP/1.1\r\n\r\n"),
			openErr: "not a capture file: magic 0x47455420 is neither pcap (a1b2c3d4, a1b23c4d) nor pcapng (0a0d0d0a)"},
		{name: "header cut short", file: good[:14], openErr: "truncated file: it ends inside the pcap header"},
		{name: "pcapng header cut short", file: readFixture(t, "session.pcapng")[:20], openErr: "truncated file: it ends inside the pcapng header"},
		{name: "file ends inside a record header", file: good[:offs[n-1]+9], walkErr: "truncated file: it ends inside the record",
			record: n, atLeast: 19},
		{name: "file ends after a record header", file: good[:offs[n-1]+16], walkErr: "truncated file: it ends inside the record",
			record: n, atLeast: 19},
		{name: "file ends inside record data", file: good[:offs[20]+30], walkErr: "truncated file: it ends inside the record",
			record: 21, atLeast: 3},
		{name: "record length beyond the snap length", file: setU32(clone(), offs[9]+8, 0x7fffffff),
			walkErr: "corrupt record: capture length exceeds snap length: 2147483647 > 262144", record: 10, atLeast: 1},
		{name: "captured length beyond the original length", file: setU32(clone(), offs[4]+12, 10),
			walkErr: "corrupt record: capture length exceeds original packet length", record: 5},
		{name: "malformed IPv4 header", file: func() []byte { b := clone(); b[offs[2]+16+14] = 0x43; return b }(),
			warning: "IPv4 header length 12, total length 40", warnedRec: 3, atLeast: 19},
		{name: "unknown link type", file: setU32(clone(), 20, 147), warning: "link type", warnedRec: 1},
		{name: "IPv4 fragment of a TCP segment", file: func() []byte { b := clone(); b[offs[5]+16+14+6] |= 0x20; return b }(),
			warning: "IPv4 fragment of a TCP segment skipped", warnedRec: 6, atLeast: 17},
		{name: "IPv4 total length 0 (segmentation offload)", atLeast: 19,
			file: func() []byte { b := clone(); b[offs[5]+16+14+2], b[offs[5]+16+14+3] = 0, 0; return b }()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tc.file))
			if tc.openErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.openErr)
				var re *RecordError
				assert.True(t, errors.As(err, &re), "a *RecordError")
				return
			}
			require.NoError(t, err)
			packets := 0
			var warnings []*Warning
			err = r.Walk(Handler{
				Message: func(*Message) error { packets++; return nil },
				Warning: func(w *Warning) { warnings = append(warnings, w) },
			})
			assert.GreaterOrEqual(t, packets, tc.atLeast, "packets delivered before the error")
			if tc.walkErr != "" {
				var re *RecordError
				require.True(t, errors.As(err, &re), "want a *RecordError, got %v", err)
				assert.Equal(t, tc.record, re.Record)
				assert.Contains(t, err.Error(), tc.walkErr)
			} else {
				require.NoError(t, err)
			}
			if tc.warning == "" {
				assert.Empty(t, warnings)
				return
			}
			require.NotEmpty(t, warnings)
			assert.Contains(t, warnings[0].Msg, tc.warning)
			assert.Equal(t, tc.warnedRec, warnings[0].Record)
		})
	}
}

// TestGzipCapture: gzip-compressed pcap files are read as they are.
func TestGzipCapture(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(readFixture(t, "writer-v311.pcap"))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	s := walk(t, buf.Bytes(), nil)
	require.NoError(t, s.err)
	assert.Len(t, s.lines, 19)
}

// TestPcapngBadBlock: a pcapng block whose length runs past the file is a
// truncation error naming the record.
func TestPcapngBadBlock(t *testing.T) {
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeEthernet)
	require.NoError(t, err)
	_, frames := records(t, readFixture(t, "writer-v311.pcap"))
	cis, _ := records(t, readFixture(t, "writer-v311.pcap"))
	for i := 0; i < 5; i++ {
		require.NoError(t, w.WritePacket(cis[i], frames[i]))
	}
	require.NoError(t, w.Flush())
	file := buf.Bytes()
	// The last block is an enhanced packet block; make it claim 64 kB.
	last := bytes.LastIndex(file, []byte{6, 0, 0, 0})
	binary.LittleEndian.PutUint32(file[last+4:], 65536)
	r, err := NewReader(bytes.NewReader(file))
	require.NoError(t, err)
	err = r.Walk(Handler{})
	var re *RecordError
	require.True(t, errors.As(err, &re), "want a *RecordError, got %v", err)
	assert.Equal(t, 5, re.Record)
}
