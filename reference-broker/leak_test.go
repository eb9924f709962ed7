package broker

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

// TestNoGoroutineLeak connects and disconnects 10,000 times, in the ways a connection can end:
// DISCONNECT, a dropped socket, a Will, a persistent session, a refused CONNECT; then checks
// that the broker runs no more goroutines than before.
func TestNoGoroutineLeak(t *testing.T) {
	const cycles, workers = 10000, 8
	_, addr := startBroker(t, nil)
	base := runtime.NumGoroutine()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < cycles; i += workers {
				if err := cycle(addr, i); err != nil {
					errs <- fmt.Errorf("cycle %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	t.Logf("%d connect/disconnect cycles in %v", cycles, time.Since(start))
	requireGoroutines(t, base)
}

// cycle runs one short connection; i picks its kind.
func cycle(addr string, i int) error {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	v := codec.V311
	if i%2 == 1 {
		v = codec.V5
	}
	c := &codec.Connect{ProtocolName: []byte("MQTT"), ProtocolLevel: v, CleanStart: i%3 != 0,
		ClientID: fmt.Appendf(nil, "leak-%d", i%500)}
	if i%5 == 0 {
		c.WillFlag, c.WillTopic, c.WillPayload = true, []byte("leak/will"), []byte("x")
	}
	if i%7 == 0 {
		c.Reserved = true // refused
	}
	if _, err := nc.Write(c.Append(nil, v)); err != nil {
		return err
	}
	r := codec.NewReader(nc, 256)
	r.From, r.Version = codec.FromServer, v
	if !c.Reserved {
		if _, err := r.ReadPacket(); err != nil {
			return err
		}
		if i%4 == 0 {
			return nil // dropped without DISCONNECT
		}
		if _, err := nc.Write((&codec.Disconnect{}).Append(nil, v)); err != nil {
			return err
		}
	}
	_, err = io.Copy(io.Discard, nc)
	return err
}
