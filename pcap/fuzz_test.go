package pcap

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"mqttspec/codec"
)

// FuzzReader feeds arbitrary bytes to the reader: it must return errors,
// never panic, and keep its counts consistent with what it delivered.
func FuzzReader(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.pcap*"))
	shared, _ := filepath.Glob(filepath.Join(sharedCaptures, "public", "*.pcap*"))
	paho, _ := filepath.Glob(filepath.Join(sharedCaptures, "paho-*.pcap"))
	for _, path := range append(append(seeds, shared...), paho...) {
		// Small seeds only: the fuzzer minimizes every new input it finds,
		// and that takes minutes on large ones.
		if b, err := os.ReadFile(path); err == nil && len(b) < 10<<10 {
			f.Add(b)
		}
	}
	filter, err := ParseFilter(`type==PUBLISH && topic~"a" || qos>=1 || violation`)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		r.Ports = []uint16{18831}
		sum := NewSummary()
		packets := 0
		_ = r.Walk(Handler{
			Message: func(m *Message) error {
				packets++
				if m.Packet != nil {
					codec.Format(m.Packet)
				} else if m.Err == nil {
					t.Fatalf("record %d: a message with neither a packet nor an error", m.Record)
				}
				filter.Match(m)
				sum.Message(m)
				return nil
			},
			Stream: func(e *StreamEvent) error { sum.Event(e); return nil },
		})
		if st := r.Stats(); st.Packets != packets {
			t.Fatalf("Stats.Packets %d, delivered %d", st.Packets, packets)
		}
	})
}
