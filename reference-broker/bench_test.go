package broker

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mqttspec/codec"
)

// BenchmarkThroughput measures delivered messages per second through the reference broker and,
// side by side with the same client harness, through mosquitto (started on a free loopback port
// with a temporary configuration; skipped when not installed): QoS 0 and QoS 1, one publisher to
// one and to ten subscribers, 64-byte payloads, MQTT 3.1.1 over loopback TCP. b.N is the number
// of messages published; run with a fixed count, e.g.
//
//	go test -run '^$' -bench Throughput -benchtime 100000x ./reference-broker/
func BenchmarkThroughput(b *testing.B) {
	brokers := []struct{ name, addr string }{{"reference", benchReference(b)}}
	mosq, err := startMosquitto(b)
	if err != nil {
		b.Logf("mosquitto not measured: %v", err)
	} else {
		brokers = append(brokers, struct{ name, addr string }{"mosquitto", mosq})
	}
	for _, qos := range []byte{0, 1} {
		for _, subs := range []int{1, 10} {
			for _, br := range brokers {
				b.Run(fmt.Sprintf("qos%d-1to%d/%s", qos, subs, br.name), func(b *testing.B) {
					rate, err := throughput(br.addr, qos, subs, b.N)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(rate, "msgs/s")
				})
			}
		}
	}
}

// benchReference serves a reference broker with DefaultConfig for the benchmark.
func benchReference(b *testing.B) string {
	cfg := DefaultConfig()
	cfg.SysInterval = 0
	br, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go br.Serve(l)
	b.Cleanup(func() { br.Close() })
	return l.Addr().String()
}

// startMosquitto runs mosquitto on a free loopback port with limits matching the reference
// broker's defaults (1024 inflight and 10000 queued messages per client, no persistence).
func startMosquitto(b *testing.B) (string, error) {
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/mosquitto"); err != nil {
			return "", errors.New("mosquitto is not installed (Debian package mosquitto)")
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	conf := filepath.Join(b.TempDir(), "mosquitto.conf")
	text := "listener " + strconv.Itoa(port) + " 127.0.0.1\nallow_anonymous true\npersistence false\n" +
		"set_tcp_nodelay true\nmax_inflight_messages 1024\nmax_queued_messages 10000\nlog_dest none\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return "", err
	}
	cmd := exec.Command(bin, "-c", conf)
	if err := cmd.Start(); err != nil {
		return "", err
	}
	b.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if nc, err := net.Dial("tcp", addr); err == nil {
			nc.Close()
			return addr, nil
		}
	}
	return "", fmt.Errorf("mosquitto did not listen on %s within 5s", addr)
}

const (
	benchPayload   = 64
	benchWindow    = 1000             // messages published and not yet received by every subscriber
	benchAckWindow = 256              // QoS 1 messages published and not yet acknowledged
	benchStall     = 10 * time.Second // no progress for this long fails the run
	benchWriteSize = 16 << 10         // the publisher writes this much at a time
	benchIdleFlush = 64               // a subscriber acknowledges at least every so many messages
)

var benchRun atomic.Int64

// benchConn is one harness connection speaking MQTT 3.1.1 through the codec.
type benchConn struct {
	nc net.Conn
	r  *codec.Reader
}

func benchDial(addr, id string) (*benchConn, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &benchConn{nc: nc, r: codec.NewReader(nc, 64<<10)}
	c.r.From, c.r.Version = codec.FromServer, codec.V311
	connect, err := codec.Parse(`CONNECT v=3.1.1 clean keepalive=0 client-id="` + id + `"`)
	if err != nil {
		return nil, err
	}
	if _, err := nc.Write(connect.Append(nil, codec.V311)); err != nil {
		return nil, err
	}
	if err := c.expect(codec.CONNACK); err != nil {
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	return c, nil
}

func (c *benchConn) expect(t codec.Type) error {
	c.nc.SetReadDeadline(time.Now().Add(benchStall))
	p, err := c.r.ReadPacket()
	if err != nil {
		return err
	}
	if p.Type() != t {
		return fmt.Errorf("expected %s, got %s", t, codec.Format(p))
	}
	return nil
}

func (c *benchConn) close() {
	c.nc.Write((&codec.Disconnect{}).Append(nil, codec.V311))
	c.nc.Close()
}

// throughput publishes n messages at qos to subs subscribers and returns the delivered
// messages per second (n × subs over the time from the first publish to the last delivery).
// The publisher keeps at most benchWindow messages ahead of the slowest subscriber, so neither
// broker needs to drop anything.
func throughput(addr string, qos byte, subs, n int) (float64, error) {
	run := benchRun.Add(1)
	topic := []byte(fmt.Sprintf("bench/%d", run))
	progress := make(chan struct{}, 1)
	nudge := func() {
		select {
		case progress <- struct{}{}:
		default:
		}
	}
	received := make([]atomic.Int64, subs)
	var failed atomic.Pointer[error]
	fail := func(err error) {
		failed.CompareAndSwap(nil, &err)
		nudge()
	}
	var conns []*benchConn
	defer func() {
		for _, c := range conns {
			c.close()
		}
	}()
	for i := range subs {
		c, err := benchDial(addr, fmt.Sprintf("bench-%d-sub-%d", run, i))
		if err != nil {
			return 0, err
		}
		conns = append(conns, c)
		sub := &codec.Subscribe{PacketID: 1, Subscriptions: []codec.Subscription{{Filter: topic, QoS: qos}}}
		if _, err := c.nc.Write(sub.Append(nil, codec.V311)); err != nil {
			return 0, err
		}
		if err := c.expect(codec.SUBACK); err != nil {
			return 0, err
		}
	}
	pub, err := benchDial(addr, fmt.Sprintf("bench-%d-pub", run))
	if err != nil {
		return 0, err
	}
	conns = append(conns, pub)

	var acked atomic.Int64
	var wg sync.WaitGroup
	for i, c := range conns[:subs] {
		wg.Go(func() {
			if err := benchReceive(c, n, &received[i], nudge); err != nil {
				fail(fmt.Errorf("subscriber %d after %d messages: %w", i, received[i].Load(), err))
			}
		})
	}
	if qos == 1 {
		wg.Go(func() {
			for acked.Load() < int64(n) {
				if err := pub.expect(codec.PUBACK); err != nil {
					fail(fmt.Errorf("publisher after %d PUBACKs: %w", acked.Load(), err))
					return
				}
				if acked.Add(1)%benchIdleFlush == 0 {
					nudge()
				}
			}
			nudge()
		})
	}
	slowest := func() int64 {
		m := int64(n)
		for i := range received {
			m = min(m, received[i].Load())
		}
		return m
	}
	start := time.Now()
	msg := &codec.Publish{QoS: qos, Topic: topic, Payload: make([]byte, benchPayload)}
	var buf []byte
	for sent := 0; sent < n; {
		for failed.Load() == nil && (int64(sent)-slowest() >= benchWindow || qos == 1 && int64(sent)-acked.Load() >= benchAckWindow) {
			if len(buf) > 0 {
				if _, err := pub.nc.Write(buf); err != nil {
					return 0, err
				}
				buf = buf[:0]
			}
			select {
			case <-progress:
			case <-time.After(benchStall):
				fail(fmt.Errorf("no progress for %s: sent %d, slowest subscriber %d, acknowledged %d", benchStall, sent, slowest(), acked.Load()))
			}
		}
		if e := failed.Load(); e != nil {
			return 0, *e
		}
		sent++
		if qos > 0 {
			msg.PacketID = uint16(sent%65535 + 1)
		}
		buf = msg.Append(buf, codec.V311)
		if len(buf) >= benchWriteSize || sent == n {
			if _, err := pub.nc.Write(buf); err != nil {
				return 0, err
			}
			buf = buf[:0]
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	if e := failed.Load(); e != nil {
		return 0, *e
	}
	return float64(n*subs) / elapsed.Seconds(), nil
}

// benchReceive reads n PUBLISH packets, acknowledging QoS 1 ones in batches: whenever nothing
// more is buffered, or every benchIdleFlush messages.
func benchReceive(c *benchConn, n int, count *atomic.Int64, nudge func()) error {
	var acks []byte
	for got := 0; got < n; {
		c.nc.SetReadDeadline(time.Now().Add(benchStall))
		p, err := c.r.ReadPacket()
		if err != nil {
			return err
		}
		pub, ok := p.(*codec.Publish)
		if !ok {
			return fmt.Errorf("unexpected %s", codec.Format(p))
		}
		got++
		if pub.QoS == 1 {
			acks = (&codec.Ack{Kind: codec.PUBACK, PacketID: pub.PacketID}).Append(acks, codec.V311)
		}
		if c.r.Buffered() == 0 || got%benchIdleFlush == 0 || got == n {
			if len(acks) > 0 {
				if _, err := c.nc.Write(acks); err != nil {
					return err
				}
				acks = acks[:0]
			}
			count.Store(int64(got))
			nudge()
		}
	}
	return nil
}
