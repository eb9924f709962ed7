package broker

import (
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

// expectTimeout bounds every wait for a packet from the broker.
const expectTimeout = 3 * time.Second

// startBroker serves a broker on a loopback port until the test ends, then closes it and checks
// that none of its goroutines are left.
func startBroker(t testing.TB, configure func(*Config)) (*Broker, string) {
	t.Helper()
	before := runtime.NumGoroutine()
	cfg := DefaultConfig()
	cfg.SysInterval = 0
	if configure != nil {
		configure(&cfg)
	}
	b, err := New(cfg)
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- b.Serve(l) }()
	t.Cleanup(func() {
		require.NoError(t, b.Close())
		require.ErrorIs(t, <-served, ErrClosed)
		requireGoroutines(t, before)
	})
	return b, l.Addr().String()
}

// requireGoroutines waits (boundedly) for the goroutine count to fall back to n.
func requireGoroutines(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > n {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutine leak: %d running, %d before\n%s", got, n, buf[:runtime.Stack(buf, true)])
	}
}

// tclient is a minimal MQTT client on the codec: it sends notation and reads strictly, so any
// packet the broker sends that breaks a rule fails the test.
type tclient struct {
	t    testing.TB
	name string
	nc   net.Conn
	r    *codec.Reader
	v    codec.Version
}

func dial(t testing.TB, addr, name string) *tclient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	return &tclient{t: t, name: name, nc: nc, r: newClientReader(nc), v: codec.V311}
}

// newClientReader reads what a broker sends, strictly.
func newClientReader(nc net.Conn) *codec.Reader {
	r := codec.NewReader(nc, 4096)
	r.From = codec.FromServer
	return r
}

func (c *tclient) sendPacket(p codec.Packet) {
	c.t.Helper()
	if cp, ok := p.(*codec.Connect); ok {
		c.v = cp.ProtocolLevel
		c.r.Version = c.v
	}
	c.sendRaw(p.Append(nil, c.v))
}

func (c *tclient) send(text string) {
	c.t.Helper()
	p, err := codec.Parse(text)
	require.NoError(c.t, err, "%s: notation %q", c.name, text)
	c.sendPacket(p)
}

func (c *tclient) sendRaw(b []byte) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(expectTimeout))
	_, err := c.nc.Write(b)
	require.NoError(c.t, err, "%s: write", c.name)
}

// recv reads the next packet within d; it returns the packet's notation.
func (c *tclient) recv(d time.Duration) (codec.Packet, error) {
	c.nc.SetReadDeadline(time.Now().Add(d))
	return c.r.ReadPacket()
}

// expect reads the next packet and compares its notation with want; a want ending in "..."
// is a prefix.
func (c *tclient) expect(want string) codec.Packet {
	c.t.Helper()
	p, err := c.recv(expectTimeout)
	require.NoError(c.t, err, "%s: expected %s", c.name, want)
	got := codec.Format(p)
	if prefix, ok := strings.CutSuffix(want, "..."); ok {
		require.True(c.t, strings.HasPrefix(got, prefix), "%s:\nexpected %s\n  actual %s", c.name, want, got)
	} else {
		require.Equal(c.t, want, got, "%s", c.name)
	}
	return p
}

// expectClosed reads until the broker closes the connection; no packet may come first.
func (c *tclient) expectClosed() {
	c.t.Helper()
	p, err := c.recv(expectTimeout)
	if err == nil {
		c.t.Fatalf("%s: expected the connection to close, got %s", c.name, codec.Format(p))
	}
	require.False(c.t, errors.Is(err, os.ErrDeadlineExceeded), "%s: connection still open", c.name)
	var e *codec.Error
	require.False(c.t, errors.As(err, &e), "%s: undecodable bytes from the broker: %v", c.name, err)
	if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		require.ErrorContains(c.t, err, "reset", "%s", c.name)
	}
}

// expectSilent checks that nothing arrives for a short while.
func (c *tclient) expectSilent() {
	c.t.Helper()
	p, err := c.recv(150 * time.Millisecond)
	if err == nil {
		c.t.Fatalf("%s: expected nothing, got %s", c.name, codec.Format(p))
	}
	require.ErrorIs(c.t, err, os.ErrDeadlineExceeded, "%s", c.name)
}

// script runs lines of the form "<client> <op> <argument>" against the broker at addr:
//
//	a > CONNECT v=5.0 client-id="a" clean     send a packet in notation (dialling a first)
//	a < CONNACK reason=success...             expect a packet (trailing "..." matches a prefix)
//	a raw 300000                              send bytes given in hex
//	a closed                                  expect the broker to close the connection
//	a silent                                  expect nothing for 150 ms
//	a drop                                    close the connection without DISCONNECT
//	a dial                                    connect and send nothing
//	- wait 100ms                              pause
func script(t *testing.T, addr string, lines ...string) {
	t.Helper()
	clients := map[string]*tclient{}
	for _, line := range lines {
		name, rest, _ := strings.Cut(line, " ")
		op, arg, _ := strings.Cut(rest, " ")
		if name == "-" {
			require.Equal(t, "wait", op, "line %q", line)
			d, err := time.ParseDuration(arg)
			require.NoError(t, err, "line %q", line)
			time.Sleep(d)
			continue
		}
		c := clients[name]
		if c == nil {
			c = dial(t, addr, name)
			clients[name] = c
		}
		switch op {
		case ">":
			c.send(arg)
		case "<":
			c.expect(arg)
		case "raw":
			b, err := hex.DecodeString(strings.ReplaceAll(arg, " ", ""))
			require.NoError(t, err, "line %q", line)
			c.sendRaw(b)
		case "closed":
			c.expectClosed()
			delete(clients, name)
		case "silent":
			c.expectSilent()
		case "dial":
		case "drop":
			c.nc.Close()
			delete(clients, name)
		default:
			t.Fatalf("bad script line %q", line)
		}
	}
}

// scriptCase is one row of a scripted test: the statements it checks, the broker's
// configuration and the exchange.
type scriptCase struct {
	name      string
	ids       string // statement IDs checked, "5.0:" or "3.1.1:" where the version matters
	configure func(*Config)
	lines     []string
}

func runScripts(t *testing.T, cases []scriptCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Logf("checks %s", tc.ids)
			_, addr := startBroker(t, tc.configure)
			script(t, addr, tc.lines...)
		})
	}
}

// connack5 is the CONNACK a 5.0 client gets from a broker with DefaultConfig.
const connack5 = `CONNACK reason=success props{topic-alias-maximum=100 maximum-packet-size=1048576}`
