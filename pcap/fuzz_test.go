package pcap

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
		// Reusing record contexts changes no record number or time.
		spare, errSpare := stampAll(data, true)
		fresh, errFresh := stampAll(data, false)
		if fmt.Sprint(errSpare) != fmt.Sprint(errFresh) || !slices.Equal(spare, fresh) {
			t.Fatalf("with spare contexts: %v %q\nwithout: %v %q", errSpare, spare, errFresh, fresh)
		}
	})
}

// stampAll lists the record number and time of every message and event.
func stampAll(data []byte, spare bool) ([]string, error) {
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	r.Ports, r.noSpare = []uint16{18831}, !spare
	var out []string
	err = r.Walk(Handler{
		Message: func(m *Message) error {
			out = append(out, fmt.Sprint(m.Record, m.Time.UnixNano(), m.Dir, m.Type, m.Conn.ID))
			return nil
		},
		Stream: func(e *StreamEvent) error {
			out = append(out, fmt.Sprint(e.Record, e.Time.UnixNano(), e.Kind, e.Conn.ID))
			return nil
		},
	})
	return out, err
}
