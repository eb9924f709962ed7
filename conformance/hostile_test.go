package conformance

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
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

// scripted runs one case against a fake broker.
func scripted(t *testing.T, behave func(c net.Conn), src string) Result {
	t.Helper()
	tg := fakeBroker(t, behave)
	cases, err := ParseScript("engine", src)
	require.NoError(t, err)
	res := Execute(context.Background(), cases, Options{Target: tg, Timeout: time.Second})
	require.Len(t, res, 1)
	return res[0]
}

func answer(packets ...[]byte) func(c net.Conn) {
	return func(c net.Conn) {
		readSome(c)
		for _, p := range packets {
			_, _ = c.Write(p)
		}
		drain(c)
	}
}

const caseHead = "case e\n  title T\n  versions 5.0\n  describe D\n  fault keep-open\n"

func TestEngineStepSemantics(t *testing.T) {
	connack := []byte{0x20, 0x03, 0x00, 0x00, 0x00}
	pubA := []byte{0x30, 0x07, 0x00, 0x01, 'a', 0x00, 'x', 'y', 'z'}
	pubB := []byte{0x30, 0x07, 0x00, 0x01, 'b', 0x00, 'x', 'y', 'z'}
	big := append([]byte{0x30, 0x0b, 0x00, 0x01, 'a', 0x00}, []byte("0123456")...)
	for _, tc := range []struct {
		name    string
		answers [][]byte
		steps   string
		outcome Outcome
		reason  string
	}{
		{"unordered any order", [][]byte{connack, pubB, pubA}, "  connect c\n  expect-unordered c\n    | PUBLISH topic=\"a\"\n    | PUBLISH topic=\"b\"\n", Pass, ""},
		{"unordered optional copy absent", [][]byte{connack, pubA}, "  connect c\n  expect-unordered c\n    | PUBLISH topic=\"a\"\n    | ? PUBLISH topic=\"a\"\n", Pass, ""},
		{"unordered optional copy present", [][]byte{connack, pubA, pubA}, "  connect c\n  expect-unordered c\n    | PUBLISH topic=\"a\"\n    | ? PUBLISH topic=\"a\"\n  expect-none c within 100ms\n", Pass, ""},
		{"unordered missing required", [][]byte{connack, pubB}, "  connect c\n  expect-unordered c\n    | PUBLISH topic=\"a\"\n    | ? PUBLISH topic=\"a\"\n", Fail, "expected one of"},
		{"client maximum packet size", [][]byte{connack, big}, "  connect c CONNECT clean props{maximum-packet-size=10}\n  expect c PUBLISH\n", Fail, "MQTT-3.1.2-24"},
		{"refusal in 3.1.1 layout to an unknown level", [][]byte{{0x20, 0x02, 0x00, 0x01}}, "  connect c CONNECT v=6 clean -> closed\n", Fail, "expected the broker to close"},
		{"refusal in 5.0 layout to an unknown level", [][]byte{{0x20, 0x03, 0x00, 0x84, 0x00}}, "  connect c CONNECT v=6 clean -> CONNACK reason=unsupported-protocol-version\n", Pass, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := scripted(t, answer(tc.answers...), caseHead+tc.steps+"end\n")
			require.Equal(t, tc.outcome, r.Outcome, r.Reason)
			require.Contains(t, r.Reason, tc.reason)
		})
	}
}

func TestExpectOne(t *testing.T) {
	connack := []byte{0x20, 0x03, 0x00, 0x00, 0x00}
	pub := []byte{0x30, 0x04, 0x00, 0x01, 'a', 0x00}
	var mu sync.Mutex
	n := 0
	// Every connection gets a CONNACK; the first two also get the message,
	// the third only when `both` is set.
	behave := func(both bool) func(c net.Conn) {
		return func(c net.Conn) {
			readSome(c)
			mu.Lock()
			n++
			k := n
			mu.Unlock()
			_, _ = c.Write(connack)
			if k == 2 || (both && k == 3) {
				time.Sleep(50 * time.Millisecond)
				_, _ = c.Write(pub)
			}
			drain(c)
		}
	}
	src := caseHead + "  connect a\n  connect b\n  connect c\n  expect-one b c within 300ms PUBLISH topic=\"a\"\nend\n"
	r := scripted(t, behave(false), src)
	require.Equal(t, Pass, r.Outcome, r.Reason)
	n = 0
	r = scripted(t, behave(true), src)
	require.Equal(t, Fail, r.Outcome)
	require.Contains(t, r.Reason, "exactly one of them")
}

func TestHMACVariable(t *testing.T) {
	v := newVars()
	v.setString("auth-secret", "mqttspec")
	v.setWord("nonce", "0x0102")
	mac := hmac.New(sha256.New, []byte("mqttspec"))
	mac.Write([]byte{1, 2})
	require.Equal(t, "auth-data=0x"+hex.EncodeToString(mac.Sum(nil)), substitute("auth-data=$hmac-sha256(auth-secret,nonce)", v))
}

// TestRepeatCatchesIntermittentFailures: a broker that answers wrongly on
// every other connection fails a repeated case in half of its runs, and the
// result says so and shows a failed run.
func TestRepeatCatchesIntermittentFailures(t *testing.T) {
	for _, tc := range []struct {
		name           string
		every          int64 // the n-th connections get a wrong answer; 0: none
		repeat         int
		outcome        Outcome
		runs, failed   int
		reasonContains string
	}{
		{"every other run fails", 2, 4, Fail, 4, 2, "[failed in 2 of 4 runs]"},
		{"every run fails", 1, 3, Fail, 3, 3, "[failed in 3 of 3 runs]"},
		{"no run fails", 0, 3, Pass, 3, 0, ""},
		{"not repeated", 0, 1, Pass, 0, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int64
			tg := fakeBroker(t, func(c net.Conn) {
				readSome(c)
				_, _ = c.Write([]byte{0x20, 0x02, 0x00, 0x00})
				readSome(c)
				if k := n.Add(1); tc.every > 0 && k%tc.every == 0 {
					_, _ = c.Write([]byte{0xd0, 0x00}) // PINGRESP instead of PUBACK
				} else {
					_, _ = c.Write([]byte{0x40, 0x02, 0x00, 0x01})
				}
				drain(c)
			})
			cases, err := ParseScript("hostile", hostileCase)
			require.NoError(t, err)
			res := Execute(context.Background(), cases, Options{Target: tg, Timeout: time.Second, Repeat: tc.repeat})
			require.Len(t, res, 1)
			r := res[0]
			require.Equal(t, tc.outcome, r.Outcome, r.Reason)
			require.Equal(t, tc.runs, r.Runs)
			require.Equal(t, tc.failed, r.FailedRuns)
			require.Equal(t, max(tc.repeat, 1), int(n.Load()), "one connection per run")
			if tc.outcome == Fail {
				require.Contains(t, r.Reason, "expected PUBACK")
				require.Contains(t, r.Reason, tc.reasonContains)
				require.GreaterOrEqual(t, r.Deviation, 0, "the transcript is a failed run's")
			} else {
				require.Empty(t, r.Reason)
			}
		})
	}
}

func TestMergeRuns(t *testing.T) {
	run := func(o Outcome, reason string) Result { return Result{Outcome: o, Reason: reason} }
	for _, tc := range []struct {
		name   string
		runs   []Result
		want   Outcome
		reason string
	}{
		{"first failure wins over an error", []Result{run(Pass, ""), run(Error, "refused"), run(Fail, "a"), run(Fail, "b")}, Fail, "a [failed in 2 of 4 runs]"},
		{"an error wins over passes", []Result{run(Pass, ""), run(Error, "refused"), run(Error, "reset")}, Error, "refused"},
		{"passes", []Result{run(Pass, ""), run(Pass, "")}, Pass, ""},
		{"skips", []Result{run(Skip, "needs qos2"), run(Skip, "needs qos2")}, Skip, "needs qos2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := merge(tc.runs)
			require.Equal(t, tc.want, got.Outcome)
			require.Equal(t, tc.reason, got.Reason)
			require.Equal(t, len(tc.runs), got.Runs)
		})
	}
}
