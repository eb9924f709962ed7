package pcap

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

// stamped walks a capture and lists every message and event with the
// record number and time it was delivered with; cut is how many contexts
// came from the first slab (-1 when there were more slabs).
func stamped(t *testing.T, file []byte, gapTimeout time.Duration, spare bool, pageCap ...int) (out []string, cut int) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(file))
	require.NoError(t, err)
	r.GapTimeout, r.noSpare = gapTimeout, !spare
	if len(pageCap) > 0 {
		r.pageCap = pageCap[0]
	}
	err = r.Walk(Handler{
		Message: func(m *Message) error {
			out = append(out, fmt.Sprintf("record %d %s %s %s", m.Record, m.Time.Format(time.RFC3339Nano), m.Dir, m.Type))
			return nil
		},
		Stream: func(e *StreamEvent) error {
			out = append(out, fmt.Sprintf("record %d %s event %d %s", e.Record, e.Time.Format(time.RFC3339Nano), e.Kind, e.Reason))
			return nil
		},
	})
	require.NoError(t, err)
	if r.record > 256 {
		return out, -1
	}
	return out, 256 - len(r.ctxs)
}

// TestSpareContexts: reusing the contexts the assembler provably let go of
// changes no record number or time of any message or event, whatever
// happens to the TCP streams; out-of-order data waiting in the assembler
// keeps the record it came in.
func TestSpareContexts(t *testing.T) {
	type capture struct {
		name    string
		file    []byte
		gap     time.Duration
		cut     int // contexts the first slab must give, when not 0
		pageCap int
	}
	session := func(step time.Duration, edit func(recs []record) []record) []byte {
		return writeRecords(t, edit(sessionRecords(t, 40, step)))
	}
	// Behind the gap, each client segment with data waits in the assembler
	// with its own context, and the record after it needs a new one.
	var queued int
	gapped := session(time.Millisecond, func(recs []record) []record {
		d := dataRecords(t, recs, 40001)
		queued = len(d) - len(d)/2 - 1
		return dropInBigPublish(t, recs)
	})
	caps := []capture{
		// Every segment is delivered at once: one context serves them all.
		{name: "in order", cut: 1, file: session(time.Millisecond, func(r []record) []record { return r })},
		{name: "out of order", file: session(time.Millisecond, func(recs []record) []record {
			d := dataRecords(t, recs, 40001)
			recs[d[10]], recs[d[14]] = recs[d[14]], recs[d[10]]
			recs[d[20]], recs[d[21]] = recs[d[21]], recs[d[20]]
			return recs
		})},
		{name: "retransmitted", file: session(time.Millisecond, func(recs []record) []record {
			d := dataRecords(t, recs, 40001)
			return slices.Insert(recs, d[13]+3, recs[d[12]], recs[d[13]])
		})},
		// Data after the gap waits in the assembler, then comes out with
		// the contexts of the records it came in.
		{name: "gap flushed at the end", cut: 1 + queued, file: gapped},
		// With room for three pages, the client's last data segment comes
		// behind a second gap and overflows the connection: the two before
		// it are delivered in its record's context, while it waits for
		// the final flush with that same context.
		{name: "overflow behind a second gap", pageCap: 3, file: session(time.Millisecond, func(recs []record) []record {
			d := dataRecords(t, recs, 40001)
			n := len(d)
			return slices.Delete(slices.Delete(recs, d[n-2], d[n-2]+1), d[n-5], d[n-5]+1)
		})},
		{name: "gap flushed by the timeout", gap: time.Second, file: session(100*time.Millisecond, func(recs []record) []record {
			return dropInBigPublish(t, recs)
		})},
	}
	files, _ := filepath.Glob("testdata/*.pcap*")
	shared, _ := filepath.Glob(filepath.Join(sharedCaptures, "*.pcap"))
	for _, path := range append(files, shared...) {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		caps = append(caps, capture{name: filepath.Base(path), file: b})
	}
	for _, c := range caps {
		t.Run(c.name, func(t *testing.T) {
			want, _ := stamped(t, c.file, c.gap, false, c.pageCap)
			got, cut := stamped(t, c.file, c.gap, true, c.pageCap)
			require.Equal(t, want, got)
			if c.cut != 0 {
				require.Equal(t, c.cut, cut, "contexts cut from the slab")
			}
		})
	}
}

// TestQueuedDataKeepsItsRecord: a segment that waits behind a gap until the
// end of the capture is delivered with its own record, not the last one.
func TestQueuedDataKeepsItsRecord(t *testing.T) {
	recs := sessionRecords(t, 40, time.Millisecond)
	d := dataRecords(t, recs, 40001)
	last := d[len(d)-1] // the client's DISCONNECT, alone in its segment
	gapAt := d[len(d)-2]
	recs = slices.Delete(recs, gapAt, gapAt+1)
	last-- // one record fewer before it
	lines, _ := stamped(t, writeRecords(t, recs), 0, true)
	i := slices.IndexFunc(lines, func(l string) bool { return bytes.HasSuffix([]byte(l), []byte("c2b "+codec.DISCONNECT.String())) })
	require.GreaterOrEqual(t, i, 0, "DISCONNECT delivered: %q", lines)
	require.Contains(t, lines[i], fmt.Sprintf("record %d ", last+1), "record numbers are 1-based")
}

// TestFlushOrderIsStable: connections the final flush closes are reported
// in the order they were seen, on every run, though the assembler visits
// them in map order.
func TestFlushOrderIsStable(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	require.NoError(t, err)
	connect := encodeStep(t, codec.V311, `CONNECT v=3.1.1 client-id="open" clean keepalive=5`)
	broker := netip.MustParseAddrPort("10.3.0.2:1883")
	at := epoch
	for c := 0; c < 40; c++ {
		at = at.Add(time.Millisecond)
		fl, err := w.Open(netip.AddrPortFrom(netip.MustParseAddr("10.3.0.1"), uint16(20000+c)), broker, at)
		require.NoError(t, err)
		require.NoError(t, fl.Send(ClientToBroker, at, connect)) // never closed
	}
	first, _ := stamped(t, buf.Bytes(), 0, true)
	closed := 0
	for _, l := range first {
		if strings.Contains(l, "end of capture") {
			closed++
		}
	}
	require.Equal(t, 40, closed)
	for run := 0; run < 20; run++ {
		again, _ := stamped(t, buf.Bytes(), 0, true)
		require.Equal(t, first, again, "run %d", run)
	}
	r, err := NewReader(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	var ids []int
	require.NoError(t, r.Walk(Handler{Stream: func(e *StreamEvent) error {
		if e.Kind == Closed {
			ids = append(ids, e.Conn.ID)
		}
		return nil
	}}))
	require.True(t, slices.IsSorted(ids), "closed in the order seen: %v", ids)
}
