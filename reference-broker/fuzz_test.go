package broker

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"mqttspec/codec"
)

// fuzzSeeds are packet sequences in notation; each becomes one seed's bytes.
var fuzzSeeds = [][]string{
	{`CONNECT v=5.0 client-id="f" clean props{topic-alias-maximum=2 receive-maximum=1}`,
		`SUBSCRIBE id=1 props{subscription-id=5} sub("a/#" qos=2 rap) sub("$share/g/b" qos=1)`,
		`PUBLISH qos=1 retain id=1 topic="a/b" props{topic-alias=1 message-expiry=5} payload="x"`,
		`PUBLISH qos=2 id=2 topic="" props{topic-alias=1} payload="y"`, `PUBREL id=2`, `PUBACK id=1`,
		`PUBREC id=2`, `PUBCOMP id=2`, `UNSUBSCRIBE id=3 filter="a/#"`, `PINGREQ`, `DISCONNECT reason=disconnect-with-will`},
	{`CONNECT v=3.1.1 client-id="f" will{topic="w" payload="x" qos=1 retain}`, `SUBSCRIBE id=1 sub("#" qos=1)`,
		`PUBLISH qos=2 id=1 topic="a" payload="x"`, `PUBLISH dup qos=2 id=1 topic="a" payload="x"`, `PUBREL id=1`,
		`PUBACK id=1`, `DISCONNECT`},
	{`CONNECT v=5.0 client-id="" props{auth-method="MQTTSPEC-CHALLENGE" session-expiry=10}`,
		`AUTH reason=continue-authentication props{auth-method="MQTTSPEC-CHALLENGE" auth-data=0x00}`},
	{`CONNECT v=3.1 client-id="old" keepalive=10`, `SUBSCRIBE id=1 sub("x" qos=2)`, `PUBLISH qos=1 id=1 topic="x" payload="1"`},
	{`CONNECT v=5.0 client-id="f" props{request-problem-info=0 maximum-packet-size=20}`,
		`PUBLISH topic="t" props{subscription-id=1} payload="x"`},
}

// FuzzSession feeds arbitrary bytes to one broker connection over net.Pipe. The broker must not
// panic, must answer only with packets that decode strictly as a server's, must end the
// connection when the client goes, and must leave no goroutine behind.
func FuzzSession(f *testing.F) {
	for _, seed := range fuzzSeeds {
		var data []byte
		v := codec.V311
		for _, text := range seed {
			p, err := codec.Parse(text)
			if err != nil {
				f.Fatalf("seed %q: %v", text, err)
			}
			if c, ok := p.(*codec.Connect); ok {
				v = c.ProtocolLevel
			}
			data = p.Append(data, v)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A hang anywhere (Close included) is a failure too: dump every goroutine.
		watchdog := time.AfterFunc(20*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic("FuzzSession iteration hung:\n" + string(buf[:runtime.Stack(buf, true)]))
		})
		defer watchdog.Stop()
		cfg := DefaultConfig()
		cfg.SysInterval = 0
		b, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		conn, in, out := newHalfPipe()
		served := make(chan struct{})
		go func() {
			b.ServeConn(conn)
			close(served)
		}()
		go func() {
			in.SetWriteDeadline(time.Now().Add(time.Second))
			in.Write(data)
			in.Close() // the broker reads EOF once it has read everything
		}()
		checkAnswers(t, out, data)
		select {
		case <-served:
		case <-time.After(2 * time.Second):
			t.Fatal("the broker did not end the connection after the client's EOF")
		}
		b.Close()
		// Close has waited for every broker goroutine; one may still be between its last
		// statement and its exit.
		left := brokerGoroutines()
		for end := time.Now().Add(time.Second); len(left) > 0 && time.Now().Before(end); left = brokerGoroutines() {
			time.Sleep(time.Millisecond)
		}
		if len(left) > 0 {
			t.Fatalf("broker goroutines left running after Close:\n%s", strings.Join(left, "\n\n"))
		}
	})
}

// brokerGoroutines lists the stacks of goroutines running the broker's code. The fuzzing engine
// runs goroutines of its own, so counting all of them would not tell a leak.
func brokerGoroutines() []string {
	buf := make([]byte, 1<<20)
	var left []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "reference-broker.(*conn)") || strings.Contains(g, "reference-broker.(*Broker)") {
			left = append(left, g)
		}
	}
	return left
}

// halfPipe is an in-memory connection whose two directions close separately, like TCP: the
// client can send everything and then EOF while still reading the broker's answers.
type halfPipe struct {
	net.Conn          // the direction the broker reads
	w        net.Conn // the direction the broker writes
}

// newHalfPipe returns the broker's end and the client's ends for writing and reading.
func newHalfPipe() (conn *halfPipe, in, out net.Conn) {
	r, in := net.Pipe()
	w, out := net.Pipe()
	return &halfPipe{Conn: r, w: w}, in, out
}

func (h *halfPipe) Write(b []byte) (int, error)        { return h.w.Write(b) }
func (h *halfPipe) SetWriteDeadline(t time.Time) error { return h.w.SetWriteDeadline(t) }
func (h *halfPipe) CloseWrite() error                  { return h.w.Close() }
func (h *halfPipe) Close() error {
	h.w.Close()
	return h.Conn.Close()
}

// checkAnswers reads what the broker sends until it closes, decoding strictly in the version the
// client's CONNECT named.
func checkAnswers(t *testing.T, out net.Conn, data []byte) {
	var probe codec.Decoder
	probe.Decode(data)
	r := newClientReader(out)
	r.Version = codec.V311
	if probe.Connect.ProtocolLevel == codec.V5 {
		r.Version = codec.V5
	}
	out.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		_, err := r.ReadPacket()
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			t.Fatal("the broker neither answered nor closed within 3 seconds")
		case errors.Is(err, io.EOF):
			return
		case err != nil:
			t.Fatalf("the broker sent bytes that do not decode: %v", err)
		}
	}
}
