package broker

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

// TestChaos streams QoS 1 and QoS 2 messages between two clients with persistent sessions while
// 1,000 connections are dropped at random points, then checks that no QoS 1 message was lost
// and every QoS 2 message arrived exactly once [MQTT-4.3.2, MQTT-4.3.3, MQTT-4.4.0-1].
func TestChaos(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    codec.Version
		qos  byte
	}{
		{"QoS 1 over 3.1.1", codec.V311, 1},
		{"QoS 2 over 5.0", codec.V5, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const messages, drops = 3000, 1000
			_, addr := startBroker(t, nil)
			budget := &atomic.Int64{}
			budget.Store(drops)
			pub := &chaosClient{addr: addr, id: "pub", v: tc.v, qos: tc.qos, budget: budget,
				rng: rand.New(rand.NewPCG(1, uint64(tc.qos))), toSend: messages}
			sub := &chaosClient{addr: addr, id: "sub", v: tc.v, qos: tc.qos, budget: budget,
				rng: rand.New(rand.NewPCG(2, uint64(tc.qos))), counts: make([]int, messages)}
			require.NoError(t, sub.connect(true), "first subscriber connection")
			start := time.Now()
			var wg sync.WaitGroup
			var pubErr, subErr error
			wg.Add(2)
			go func() {
				defer wg.Done()
				pubErr = pub.run(func() bool { return pub.sent == messages && len(pub.inflight) == 0 })
			}()
			go func() { defer wg.Done(); subErr = sub.run(func() bool { return sub.distinct == messages }) }()
			wg.Wait()
			require.NoError(t, pubErr)
			require.NoError(t, subErr)
			require.Zero(t, budget.Load(), "every drop happened")
			// Anything still in flight shows up now, or never.
			sub.done = nil
			require.NoError(t, sub.drain(300*time.Millisecond))
			for seq, n := range sub.counts {
				require.NotZero(t, n, "message %d lost", seq)
				if tc.qos == 2 {
					require.Equal(t, 1, n, "message %d delivered %d times", seq, n)
				}
			}
			t.Logf("%d messages, %d drops, %d reconnections in %v", messages, drops, pub.connects+sub.connects, time.Since(start))
		})
	}
}

// chaosClient is a client that keeps its session state across connections, as the spec asks of
// clients, and drops its connection at random while the drop budget lasts.
type chaosClient struct {
	addr     string
	id       string
	v        codec.Version
	qos      byte
	budget   *atomic.Int64
	rng      *rand.Rand
	nc       net.Conn
	r        *codec.Reader
	connects int
	done     func() bool

	// Publisher state: messages to send and those awaiting acknowledgement, in order.
	toSend, sent int
	inflight     []*chaosMsg
	lastID       uint16

	// Subscriber state: deliveries per message and the QoS 2 identifiers awaiting PUBREL.
	counts   []int
	distinct int
	pending  map[uint16]bool
}

type chaosMsg struct {
	id       uint16
	seq      int
	released bool // PUBREC received, PUBREL sent
}

const chaosWindow = 20

func (c *chaosClient) connect(first bool) error {
	nc, err := net.Dial("tcp", c.addr)
	if err != nil {
		return err
	}
	c.nc, c.r = nc, newClientReader(nc)
	c.r.Version = c.v
	c.connects++
	// 3.1.1 keeps a session only with Clean Session 0; 5.0 starts clean and keeps it by expiry.
	cp := &codec.Connect{ProtocolName: []byte("MQTT"), ProtocolLevel: c.v, CleanStart: first && c.v == codec.V5,
		ClientID: []byte(c.id), KeepAlive: 60}
	if c.v == codec.V5 {
		cp.Props.SessionExpiry = 600
		cp.Props.Set(codec.PropSessionExpiry)
	}
	if err := c.write(cp); err != nil {
		return err
	}
	p, err := c.read()
	if err != nil {
		return err
	}
	ack, ok := p.(*codec.Connack)
	if !ok || ack.ReasonCode != 0 || ack.SessionPresent == first {
		return fmt.Errorf("%s: unexpected %s", c.id, codec.Format(p))
	}
	if first && c.counts != nil {
		c.pending = map[uint16]bool{}
		if err := c.write(&codec.Subscribe{PacketID: 1, Subscriptions: []codec.Subscription{{Filter: []byte("chaos"), QoS: c.qos}}}); err != nil {
			return err
		}
		if p, err := c.read(); err != nil || p.Type() != codec.SUBACK {
			return fmt.Errorf("%s: no SUBACK: %v", c.id, err)
		}
	}
	// Resume: re-send what is unacknowledged, in order, with the original identifiers.
	for _, m := range c.inflight {
		var p codec.Packet = &codec.Ack{Kind: codec.PUBREL, PacketID: m.id}
		if !m.released {
			p = c.publish(m, true)
		}
		if err := c.write(p); err != nil {
			return err
		}
	}
	return nil
}

func (c *chaosClient) write(p codec.Packet) error {
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := c.nc.Write(p.Append(nil, c.v))
	return err
}

func (c *chaosClient) read() (codec.Packet, error) {
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	return c.r.ReadPacket()
}

func (c *chaosClient) publish(m *chaosMsg, dup bool) *codec.Publish {
	return &codec.Publish{Dup: dup, QoS: c.qos, PacketID: m.id, Topic: []byte("chaos"), Payload: strconv.AppendInt(nil, int64(m.seq), 10)}
}

// run works until done reports true, reconnecting after every drop.
func (c *chaosClient) run(done func() bool) error {
	c.done = done
	deadline := time.Now().Add(30 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no progress (sent %d, inflight %d, distinct %d)", c.id, c.sent, len(c.inflight), c.distinct)
		}
		if c.nc == nil {
			if err := c.connect(c.connects == 0); err != nil {
				c.nc = nil
				continue // the broker may still be closing the previous connection
			}
		}
		if err := c.step(); err != nil {
			c.nc.Close()
			c.nc = nil
		}
	}
	if c.nc != nil {
		c.write(&codec.Disconnect{})
		c.nc.Close()
	}
	return nil
}

// step sends what the window allows, handles one packet, and maybe drops the connection.
func (c *chaosClient) step() error {
	for c.sent < c.toSend && len(c.inflight) < chaosWindow {
		c.lastID = c.lastID%65535 + 1
		m := &chaosMsg{id: c.lastID, seq: c.sent}
		c.inflight = append(c.inflight, m)
		c.sent++
		if err := c.write(c.publish(m, false)); err != nil {
			return err
		}
	}
	if c.budget.Load() > 0 && c.rng.IntN(6) == 0 && c.budget.Add(-1) >= 0 {
		return errors.New("dropped")
	}
	c.nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	p, err := c.r.ReadPacket()
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil
	}
	if err != nil {
		return err
	}
	return c.handle(p)
}

func (c *chaosClient) handle(p codec.Packet) error {
	switch p := p.(type) {
	case *codec.Publish:
		seq, err := strconv.Atoi(string(p.Payload))
		if err != nil || seq >= len(c.counts) {
			return fmt.Errorf("bad payload %q", p.Payload)
		}
		switch p.QoS {
		case 1:
			c.deliver(seq)
			return c.write(&codec.Ack{Kind: codec.PUBACK, PacketID: p.PacketID})
		case 2:
			if !c.pending[p.PacketID] {
				c.pending[p.PacketID] = true
				c.deliver(seq)
			}
			return c.write(&codec.Ack{Kind: codec.PUBREC, PacketID: p.PacketID})
		}
	case *codec.Ack:
		switch p.Kind {
		case codec.PUBREL:
			delete(c.pending, p.PacketID)
			return c.write(&codec.Ack{Kind: codec.PUBCOMP, PacketID: p.PacketID})
		case codec.PUBACK, codec.PUBCOMP:
			c.acknowledged(p.PacketID)
		case codec.PUBREC:
			for _, m := range c.inflight {
				if m.id == p.PacketID {
					m.released = true
				}
			}
			return c.write(&codec.Ack{Kind: codec.PUBREL, PacketID: p.PacketID})
		}
	}
	return nil
}

func (c *chaosClient) deliver(seq int) {
	if c.counts[seq] == 0 {
		c.distinct++
	}
	c.counts[seq]++
}

func (c *chaosClient) acknowledged(id uint16) {
	for i, m := range c.inflight {
		if m.id == id {
			c.inflight = append(c.inflight[:i], c.inflight[i+1:]...)
			return
		}
	}
}

// drain reads for d after the run, counting any late deliveries.
func (c *chaosClient) drain(d time.Duration) error {
	if err := c.connect(false); err != nil {
		return err
	}
	defer c.nc.Close()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		c.nc.SetReadDeadline(end)
		p, err := c.r.ReadPacket()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := c.handle(p); err != nil {
			return err
		}
	}
	return nil
}
