package bench

import (
	"bytes"
	"testing"
	"time"

	paho "github.com/eclipse/paho.golang/packets"
	mochi "github.com/mochi-mqtt/server/v2/packets"

	"mqttspec/codec"
)

// sideOp runs one codec on one case n times in a row; the loop is inside,
// so no per-call harness cost is added to any codec.
type sideOp struct {
	codec string
	batch func(n int) error
}

type sideCase struct {
	name string
	ops  []sideOp
}

func sideBySideCases() []sideCase {
	var cases []sideCase
	for _, f := range decodeCases {
		d := codec.Decoder{Version: f.v, From: codec.FromClient}
		md := mochiDecoder{version: byte(f.v)}
		var pk mochi.Packet
		var r bytes.Reader
		c := sideCase{name: "Decode/" + name(f), ops: []sideOp{
			{"mqttspec", func(n int) error {
				for range n {
					if _, _, err := d.Decode(f.wire); err != nil {
						return err
					}
				}
				return nil
			}},
			{"mochi", func(n int) error {
				for range n {
					if err := md.decode(f.wire, &pk); err != nil {
						return err
					}
				}
				return nil
			}},
		}}
		if f.v == codec.V5 {
			c.ops = append(c.ops, sideOp{"paho", func(n int) error {
				for range n {
					r.Reset(f.wire)
					if _, err := paho.ReadPacket(&r); err != nil {
						return err
					}
				}
				return nil
			}})
		}
		cases = append(cases, c)
	}
	for _, f := range encodeCases {
		buf := make([]byte, 0, 2*len(f.wire))
		var mb, pb bytes.Buffer
		c := sideCase{name: "Encode/" + name(f), ops: []sideOp{
			{"mqttspec", func(n int) error {
				for range n {
					buf = f.ours.Append(buf[:0], f.v)
				}
				return nil
			}},
			{"mochi", func(n int) error {
				for range n {
					mb.Reset()
					if err := mochiEncode(f.mochi, &mb); err != nil {
						return err
					}
				}
				return nil
			}},
		}}
		if f.paho != nil {
			c.ops = append(c.ops, sideOp{"paho", func(n int) error {
				for range n {
					pb.Reset()
					if _, err := f.paho.WriteTo(&pb); err != nil {
						return err
					}
				}
				return nil
			}})
		}
		cases = append(cases, c)
	}
	return cases
}

// batchTime is about how long one codec runs before the next takes its turn.
const batchTime = 50 * time.Microsecond

// BenchmarkSideBySide runs the codecs of each case in turns, a short batch
// each, for the whole bench time, and reports each codec's fastest batch as
// <codec>-ns/op (and its allocations as <codec>-allocs/op). Taking turns
// gives the codecs the same conditions on a busy machine, and the fastest
// batch is the one least disturbed; compare.sh turns these into ratios.
func BenchmarkSideBySide(b *testing.B) {
	for _, c := range sideBySideCases() {
		b.Run(c.name, func(b *testing.B) {
			sizes := make([]int, len(c.ops))
			best := make([]float64, len(c.ops))
			for i, op := range c.ops {
				// Warm up, then double the batch until it lasts batchTime: long
				// enough that reading the clock costs nothing noticeable.
				if err := op.batch(64); err != nil {
					b.Fatal(op.codec, err)
				}
				for sizes[i] = 64; ; sizes[i] *= 2 {
					start := time.Now()
					if err := op.batch(sizes[i]); err != nil {
						b.Fatal(op.codec, err)
					}
					if time.Since(start) >= batchTime {
						break
					}
				}
			}
			for b.Loop() {
				for i, op := range c.ops {
					start := time.Now()
					if err := op.batch(sizes[i]); err != nil {
						b.Fatal(op.codec, err)
					}
					ns := float64(time.Since(start).Nanoseconds()) / float64(sizes[i])
					if best[i] == 0 || ns < best[i] {
						best[i] = ns
					}
				}
			}
			for i, op := range c.ops {
				b.ReportMetric(best[i], op.codec+"-ns/op")
				b.ReportMetric(testing.AllocsPerRun(100, func() { _ = op.batch(1) }), op.codec+"-allocs/op")
			}
		})
	}
}
