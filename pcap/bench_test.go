package pcap

import (
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

var bigCapture = filepath.Join(sharedCaptures, "big", "mosquitto-20k-publish.pcap")

// BenchmarkDumpBig reads the 11.8 MB, 30,014-packet capture the way
// `mqttspec pcap dump --stats` does.
func BenchmarkDumpBig(b *testing.B) {
	needShared(b)
	fi, err := os.Stat(bigCapture)
	require.NoError(b, err)
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	packets := 0
	for b.Loop() {
		r, err := Open(bigCapture)
		require.NoError(b, err)
		s := NewSummary()
		require.NoError(b, r.Walk(Handler{Message: func(m *Message) error { s.Message(m); return nil },
			Stream: func(e *StreamEvent) error { s.Event(e); return nil }}))
		r.Close()
		packets = s.Packets
	}
	require.Equal(b, 30014, packets)
	b.ReportMetric(float64(packets)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// TestMemoryFlat: reading a capture much larger than the heap limit below
// keeps the heap bounded: streams are read record by record and closed
// connections are let go.
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 40 MB capture")
	}
	path := filepath.Join(t.TempDir(), "big.pcap")
	f, err := os.Create(path)
	require.NoError(t, err)
	w, err := NewWriter(f)
	require.NoError(t, err)
	connect := encodeStep(t, codec.V311, `CONNECT v=3.1.1 client-id="m" clean keepalive=5`)
	publish := (&codec.Publish{Topic: []byte("m/t"), Payload: make([]byte, 2000)}).Append(nil, codec.V311)
	broker := netip.MustParseAddrPort("10.2.0.2:1883")
	at := epoch
	for c := 0; c < 400; c++ {
		at = at.Add(time.Second)
		fl, err := w.Open(netip.AddrPortFrom(netip.MustParseAddr("10.2.0.1"), uint16(10000+c)), broker, at)
		require.NoError(t, err)
		require.NoError(t, fl.Send(ClientToBroker, at, connect))
		for i := 0; i < 50; i++ {
			require.NoError(t, fl.Send(ClientToBroker, at, publish))
		}
		require.NoError(t, fl.Close(at))
	}
	require.NoError(t, f.Close())
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Greater(t, fi.Size(), int64(40<<20))

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	r, err := Open(path)
	require.NoError(t, err)
	defer r.Close()
	n := 0
	require.NoError(t, r.Walk(Handler{Message: func(*Message) error {
		if n++; n%2000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
		return nil
	}}))
	assert.Equal(t, 400*51, n)
	t.Logf("heap grew by %.1f MB reading a %d MB capture", float64(peak-base)/(1<<20), fi.Size()>>20)
	assert.Less(t, peak-base, uint64(16<<20), "heap grew by %d MB reading a %d MB capture", (peak-base)>>20, fi.Size()>>20)
}
