package bench

import (
	"bytes"
	"strings"
	"testing"

	paho "github.com/eclipse/paho.golang/packets"
	mochi "github.com/mochi-mqtt/server/v2/packets"
	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

var (
	decodeCases = []fixture{publish311, publish5, subscribe311, subscribe5, connect311, connect5}
	encodeCases = []fixture{publish311, publish5, subscribe311, subscribe5}
)

// summary is what every codec must agree on after decoding a fixture.
type summary struct {
	Topic, Payload, ClientID string
	Filters                  []string
}

func oursSummary(p codec.Packet) summary {
	var s summary
	switch p := p.(type) {
	case *codec.Publish:
		s.Topic, s.Payload = string(p.Topic), string(p.Payload)
	case *codec.Subscribe:
		for _, sub := range p.Subscriptions {
			s.Filters = append(s.Filters, string(sub.Filter))
		}
	case *codec.Connect:
		s.ClientID = string(p.ClientID)
	}
	return s
}

func mochiSummary(pk *mochi.Packet) summary {
	s := summary{Topic: pk.TopicName, Payload: string(pk.Payload), ClientID: pk.Connect.ClientIdentifier}
	for _, f := range pk.Filters {
		s.Filters = append(s.Filters, f.Filter)
	}
	return s
}

func pahoSummary(cp *paho.ControlPacket) summary {
	var s summary
	switch p := cp.Content.(type) {
	case *paho.Publish:
		s.Topic, s.Payload = p.Topic, string(p.Payload)
	case *paho.Subscribe:
		for _, sub := range p.Subscriptions {
			s.Filters = append(s.Filters, sub.Topic)
		}
	case *paho.Connect:
		s.ClientID = p.ClientID
	}
	return s
}

// TestSameResult checks that the benchmarks compare like with like: all
// codecs read the benchmark bytes to the same fields, and what each encodes
// is the packet mqttspec encodes.
func TestSameResult(t *testing.T) {
	for _, f := range decodeCases {
		t.Run("decode "+f.name, func(t *testing.T) {
			d := codec.Decoder{Version: f.v, From: codec.FromClient}
			p, _, err := d.Decode(f.wire)
			require.NoError(t, err)
			want := oursSummary(p)
			require.NotEqual(t, summary{}, want)

			md := mochiDecoder{version: byte(f.v)}
			var pk mochi.Packet
			require.NoError(t, md.decode(f.wire, &pk))
			require.Equal(t, want, mochiSummary(&pk), "mochi")

			if f.v == codec.V5 {
				cp, err := paho.ReadPacket(bytes.NewReader(f.wire))
				require.NoError(t, err)
				require.Equal(t, want, pahoSummary(cp), "paho")
			}
		})
	}
	for _, f := range encodeCases {
		t.Run("encode "+f.name, func(t *testing.T) {
			want := codec.Format(f.ours)
			var buf bytes.Buffer
			require.NoError(t, mochiEncode(f.mochi, &buf))
			requireDecodesTo(t, f.v, buf.Bytes(), want, "mochi")
			if f.paho != nil {
				buf.Reset()
				_, err := f.paho.WriteTo(&buf)
				require.NoError(t, err)
				requireDecodesTo(t, f.v, buf.Bytes(), want, "paho")
			}
		})
	}
}

func requireDecodesTo(t *testing.T, v codec.Version, wire []byte, want, who string) {
	t.Helper()
	d := codec.Decoder{Version: v, From: codec.FromClient}
	p, n, err := d.Decode(wire)
	require.NoError(t, err, who)
	require.Equal(t, len(wire), n, who)
	require.Equal(t, want, codec.Format(p), who)
}

// BenchmarkDecode reads each fixture with full validation: mqttspec in
// strict mode (UTF-8, topic and filter syntax, reserved bits, one-sided
// rules), mochi with the Validate its server runs, paho with what ReadPacket
// checks. Each loop calls the codec directly, so no harness cost is added to
// the fastest codec's time.
func BenchmarkDecode(b *testing.B) {
	for _, f := range decodeCases {
		b.Run(name(f)+"/mqttspec", func(b *testing.B) {
			d := codec.Decoder{Version: f.v, From: codec.FromClient}
			for setup(b, f); b.Loop(); {
				if _, _, err := d.Decode(f.wire); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name(f)+"/mochi", func(b *testing.B) {
			md := mochiDecoder{version: byte(f.v)}
			var pk mochi.Packet
			for setup(b, f); b.Loop(); {
				if err := md.decode(f.wire, &pk); err != nil {
					b.Fatal(err)
				}
			}
		})
		if f.v == codec.V5 {
			b.Run(name(f)+"/paho", func(b *testing.B) {
				var r bytes.Reader
				for setup(b, f); b.Loop(); {
					r.Reset(f.wire)
					if _, err := paho.ReadPacket(&r); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkEncode writes each fixture into a reused buffer.
func BenchmarkEncode(b *testing.B) {
	for _, f := range encodeCases {
		b.Run(name(f)+"/mqttspec", func(b *testing.B) {
			buf := make([]byte, 0, 2*len(f.wire))
			for setup(b, f); b.Loop(); {
				buf = f.ours.Append(buf[:0], f.v)
			}
		})
		b.Run(name(f)+"/mochi", func(b *testing.B) {
			var buf bytes.Buffer
			for setup(b, f); b.Loop(); {
				buf.Reset()
				if err := mochiEncode(f.mochi, &buf); err != nil {
					b.Fatal(err)
				}
			}
		})
		if f.paho != nil {
			b.Run(name(f)+"/paho", func(b *testing.B) {
				var buf bytes.Buffer
				for setup(b, f); b.Loop(); {
					buf.Reset()
					if _, err := f.paho.WriteTo(&buf); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func name(f fixture) string { return strings.ReplaceAll(f.name, " ", "-") }

func setup(b *testing.B, f fixture) {
	b.ReportAllocs()
	b.SetBytes(int64(len(f.wire)))
}
