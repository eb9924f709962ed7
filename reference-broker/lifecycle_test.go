package broker

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestShutdown checks that Close sends a 5.0 client DISCONNECT Server shutting down
// (section 3.14.2.1 reason 0x8B) and closes every connection, 3.1.1 ones without a packet.
func TestShutdown(t *testing.T) {
	b, addr := startBroker(t, nil)
	c5 := dial(t, addr, "c5")
	c5.send(`CONNECT v=5.0 client-id="c5" clean`)
	c5.expect(connack5)
	c3 := dial(t, addr, "c3")
	c3.send(`CONNECT v=3.1.1 client-id="c3" clean`)
	c3.expect(`CONNACK reason=success`)
	idle := dial(t, addr, "idle")
	require.NoError(t, b.Close())
	c5.expect(`DISCONNECT reason=server-shutting-down...`)
	c5.expectClosed()
	c3.expectClosed()
	idle.expectClosed()
	server, client := net.Pipe()
	defer client.Close()
	require.ErrorIs(t, b.ServeConn(server), ErrClosed)
}

// TestTrace checks the trace hook: open and close events, and every packet in and out with its
// notation and bytes.
func TestTrace(t *testing.T) {
	var mu sync.Mutex
	var events []TraceEvent
	b, addr := startBroker(t, func(c *Config) {
		c.Trace = func(ev TraceEvent) {
			mu.Lock()
			defer mu.Unlock()
			ev.Raw = append([]byte(nil), ev.Raw...)
			events = append(events, ev)
		}
	})
	script(t, addr, `c > CONNECT v=5.0 client-id="c" clean`, `c < `+connack5, `c > PINGREQ`, `c < PINGRESP`,
		`c > DISCONNECT`, `c closed`)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(events) == 7
	}, 2*time.Second, 10*time.Millisecond)
	require.NoError(t, b.Close())
	var got []string
	for _, ev := range events {
		require.Equal(t, uint64(1), ev.ConnID)
		require.False(t, ev.Time.IsZero())
		require.NotEmpty(t, ev.Remote)
		if ev.Kind == TraceIn || ev.Kind == TraceOut {
			require.NotEmpty(t, ev.Raw)
		}
		got = append(got, ev.Kind.String()+" "+ev.ClientID+" "+ev.Packet+ev.Reason)
	}
	want := []string{
		"open  ",
		`in  CONNECT v=5.0 client-id="c" clean...`, // the client identifier is known once accepted
		"out c " + connack5,
		"in c PINGREQ",
		"out c PINGRESP",
		"in c DISCONNECT",
		"close c client sent DISCONNECT normal-disconnection",
	}
	require.Len(t, got, len(want))
	for i, w := range want {
		if prefix, ok := strings.CutSuffix(w, "..."); ok {
			require.True(t, strings.HasPrefix(got[i], prefix), "event %d: %q", i, got[i])
		} else {
			require.Equal(t, w, got[i], "event %d", i)
		}
	}
}
