package conformance

import (
	"context"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeBroker accepts connections on loopback and lets behave script them.
func fakeBroker(t *testing.T, behave func(c net.Conn)) *Target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				behave(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	tg, err := ParseTarget("tcp://"+ln.Addr().String(), nil)
	require.NoError(t, err)
	return tg
}

func readSome(c net.Conn) {
	buf := make([]byte, 512)
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, _ = c.Read(buf)
}

// drain reads until the tester closes the connection.
func drain(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.Copy(io.Discard, c)
}

const hostileCase = `case hostile.connect
  title T
  versions 3.1.1
  describe D
  fault keep-open
  timeout 4s
  connect c
  send c PUBLISH qos=1 id=1 topic="${t}" payload="x"
  expect c PUBACK id=1
end
`

func TestHostileBrokers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		behave  func(c net.Conn)
		outcome Outcome
		reason  string
	}{
		{"silent", func(c net.Conn) { readSome(c); drain(c) }, Fail, "nothing arrived"},
		{"garbage", func(c net.Conn) { readSome(c); _, _ = c.Write([]byte{0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff}) }, Fail, "malformed"},
		{"announces 256 MB", func(c net.Conn) {
			readSome(c)
			_, _ = c.Write([]byte{0x20, 0xff, 0xff, 0xff, 0x7f, 0x00})
			drain(c)
		}, Fail, "maximum packet size"},
		{"one byte a second", func(c net.Conn) {
			readSome(c)
			for _, b := range []byte{0x20, 0x02, 0x00, 0x00} {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(time.Second)
			}
		}, Fail, "nothing arrived"},
		{"closes mid-packet", func(c net.Conn) { readSome(c); _, _ = c.Write([]byte{0x20, 0x02, 0x00}); c.Close() }, Fail, "unexpected EOF"},
		{"wrong packet type", func(c net.Conn) {
			readSome(c)
			_, _ = c.Write([]byte{0xd0, 0x00}) // PINGRESP instead of CONNACK
			drain(c)
		}, Fail, "expected CONNACK, got PINGRESP"},
		{"closes at once", func(c net.Conn) { c.Close() }, Fail, "closed the connection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := fakeBroker(t, tc.behave)
			cases, err := ParseScript("hostile", hostileCase)
			require.NoError(t, err)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			res := Execute(context.Background(), cases, Options{Target: tg, Timeout: 1500 * time.Millisecond})
			runtime.ReadMemStats(&after)
			require.Len(t, res, 1)
			require.Equal(t, tc.outcome, res[0].Outcome, res[0].Reason)
			require.Contains(t, res[0].Reason, tc.reason)
			require.Less(t, time.Since(start), 6*time.Second, "a case must end within its timeout")
			require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20), "memory must stay flat")
		})
	}
}

func TestRefusedConnectionIsAnError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	tg, err := ParseTarget("tcp://"+addr, nil)
	require.NoError(t, err)
	cases, err := ParseScript("hostile", hostileCase)
	require.NoError(t, err)
	res := Execute(context.Background(), cases, Options{Target: tg})
	require.Equal(t, Error, res[0].Outcome)
	require.Contains(t, res[0].Reason, "connection refused")
}
