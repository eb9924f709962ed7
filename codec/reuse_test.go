package codec

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

// fill sets every exported field reachable from v to a non-zero value, so a
// test can see whether decoding clears what an earlier packet left behind.
// Properties are marked present, as decoding leaves them.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if props, ok := v.Addr().Interface().(*Properties); ok {
			props.present = ^uint64(0)
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte("stale"))
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Int:
		v.SetInt(1)
	}
}

// unaliased turns empty slices into nil ones, so a reused slice of length 0
// compares equal to a fresh nil slice.
func unaliased(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				unaliased(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.Zero(v.Type()))
		}
		for i := 0; i < v.Len(); i++ {
			unaliased(v.Index(i))
		}
	}
}

// TestDecodeForgetsPreviousPacket decodes each round-trip and benchmark
// packet into a Decoder whose values are full of leftovers and into a fresh
// one: the results must be the same, whatever fields the types gain later.
func TestDecodeForgetsPreviousPacket(t *testing.T) {
	type row struct {
		v    Version
		from Role
		text string
	}
	var rows []row
	for _, rt := range roundTrips {
		rows = append(rows, row{rt.v, RoleUnknown, rt.text})
	}
	for _, bp := range benchPackets {
		rows = append(rows, row{bp.v, bp.from, bp.text})
	}
	for _, r := range rows {
		t.Run(r.text, func(t *testing.T) {
			p, err := Parse(r.text)
			require.NoError(t, err)
			wire := p.Append(nil, r.v)
			fresh := Decoder{Version: r.v, From: r.from}
			want, _, err := fresh.Decode(wire)
			require.NoError(t, err)

			dirty := Decoder{Version: r.v, From: r.from}
			for _, p := range []any{&dirty.Connect, &dirty.Connack, &dirty.Publish, &dirty.Ack, &dirty.Subscribe,
				&dirty.Suback, &dirty.Unsubscribe, &dirty.Ping, &dirty.Disconnect, &dirty.Auth} {
				fill(reflect.ValueOf(p).Elem())
			}
			got, _, err := dirty.Decode(wire)
			require.NoError(t, err)
			unaliased(reflect.ValueOf(want).Elem())
			unaliased(reflect.ValueOf(got).Elem())
			require.Equal(t, want, got)

			// The same after each of the other packets, as a connection
			// reuses its Decoder.
			for _, q := range rows {
				prev, err := Parse(q.text)
				require.NoError(t, err)
				d := Decoder{Version: q.v}
				_, _, err = d.Decode(prev.Append(nil, q.v))
				require.NoError(t, err, q.text)
				d.Version, d.From = r.v, r.from
				got, _, err := d.Decode(wire)
				require.NoError(t, err)
				unaliased(reflect.ValueOf(got).Elem())
				require.Equal(t, want, got, "after %s", q.text)
			}
		})
	}
}
