package fuzz

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"sync"

	"mqttspec/codec"
)

// bug is a defect planted in plantedBroker for the fuzzer to find.
type bug string

const (
	// crashOnSubscribeQoS3: a SUBSCRIBE asking for QoS 3 (a malformed
	// packet [MQTT-3.8.3-4]) indexes past a table and kills the broker.
	crashOnSubscribeQoS3 bug = "crash-subscribe-qos3"
	// crashOnResubscribe: subscribing again to a filter unsubscribed earlier
	// on the same connection reuses a freed node and kills the broker; it
	// takes a sequence of packets, none of them malformed.
	crashOnResubscribe bug = "crash-resubscribe"
	// acceptWildcardTopic: a PUBLISH whose topic name holds '+' or '#'
	// [MQTT-3.3.2-2] is acknowledged like any other: a silent violation.
	acceptWildcardTopic bug = "accept-wildcard-topic"
	// hangOnPingBody: a PINGREQ with a body deadlocks the broker: it still
	// accepts connections and answers none.
	hangOnPingBody bug = "hang-ping-body"
)

// plantedBroker is a small MQTT server built on the codec. It behaves
// (strict decoding, the connection closed on anything the codec rejects,
// CONNECT first and once) except for its one planted bug.
type plantedBroker struct {
	bug   bug
	crash func() // what dying means: close everything, or exit the process

	mu     sync.Mutex
	ln     net.Listener
	addr   string
	conns  map[net.Conn]struct{}
	frozen chan struct{} // closed while the broker is healthy; nil when hung
	wg     sync.WaitGroup
}

func newPlantedBroker(b bug, addr string) (*plantedBroker, error) {
	p := &plantedBroker{bug: b, conns: map[net.Conn]struct{}{}}
	p.crash = p.die
	return p, p.listen(addr)
}

func (p *plantedBroker) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln, p.addr, p.frozen = ln, ln.Addr().String(), nil
	p.mu.Unlock()
	p.wg.Add(1)
	go p.accept(ln)
	return nil
}

func (p *plantedBroker) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns[nc] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(nc)
			nc.Close()
			p.mu.Lock()
			delete(p.conns, nc)
			p.mu.Unlock()
		}()
	}
}

func (p *plantedBroker) dial(ctx context.Context) (net.Conn, error) {
	p.mu.Lock()
	addr := p.addr
	p.mu.Unlock()
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// die is a crash of an in-process broker: the listener and every
// connection go away at once.
func (p *plantedBroker) die() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for nc := range p.conns {
		nc.Close()
	}
}

// restart brings the broker back on a new port, healthy.
func (p *plantedBroker) restart(context.Context) error {
	p.close()
	return p.listen("127.0.0.1:0")
}

func (p *plantedBroker) close() {
	p.die()
	p.mu.Lock()
	if p.frozen != nil {
		close(p.frozen)
	}
	p.frozen = nil
	p.mu.Unlock()
	p.wg.Wait()
}

// freeze makes every connection, new or old, stop answering.
func (p *plantedBroker) freeze() {
	p.mu.Lock()
	if p.frozen == nil {
		p.frozen = make(chan struct{})
	}
	p.mu.Unlock()
}

func (p *plantedBroker) hung() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frozen
}

func hasWildcard(s []byte) bool { return bytes.ContainsAny(s, "+#") }

// serve runs one connection.
func (p *plantedBroker) serve(nc net.Conn) {
	r := codec.NewReader(nc, 0)
	d := codec.Decoder{From: codec.FromClient}
	unsubscribed := map[string]bool{}
	v := codec.V311
	var out []byte
	for i := 0; ; i++ {
		fh, raw, err := r.ReadRaw()
		if h := p.hung(); h != nil {
			<-h
			return
		}
		if err != nil {
			return
		}
		out = out[:0]
		// The planted bugs look at a packet before it is validated, as the
		// buggy code they stand for would.
		look := codec.Decoder{Lenient: true, Version: v}
		lp, _, lerr := look.Decode(raw)
		switch {
		case p.bug == hangOnPingBody && fh.Type == codec.PINGREQ && fh.Remaining > 0:
			p.freeze()
			continue
		case p.bug == crashOnSubscribeQoS3 && lerr == nil && fh.Type == codec.SUBSCRIBE:
			for _, s := range lp.(*codec.Subscribe).Subscriptions {
				if s.QoS == 3 {
					p.crash()
					return
				}
			}
		case p.bug == acceptWildcardTopic && lerr == nil && i > 0 && fh.Type == codec.PUBLISH && hasWildcard(lp.(*codec.Publish).Topic):
			if _, err := nc.Write(publishAnswer(lp.(*codec.Publish), v)); err != nil {
				return
			}
			continue
		}
		pkt, _, err := d.Decode(raw)
		if err != nil || (i == 0) != (pkt.Type() == codec.CONNECT) {
			return
		}
		switch pkt := pkt.(type) {
		case *codec.Connect:
			v = pkt.ProtocolLevel
			out = (&codec.Connack{}).Append(out, v)
		case *codec.Publish:
			out = append(out, publishAnswer(pkt, v)...)
		case *codec.Ack:
			if pkt.Kind == codec.PUBREL {
				out = (&codec.Ack{Kind: codec.PUBCOMP, PacketID: pkt.PacketID}).Append(out, v)
			}
		case *codec.Subscribe:
			granted := make([]byte, len(pkt.Subscriptions))
			for k, s := range pkt.Subscriptions {
				if p.bug == crashOnResubscribe && unsubscribed[string(s.Filter)] {
					p.crash()
					return
				}
				granted[k] = s.QoS
			}
			out = (&codec.Suback{Kind: codec.SUBACK, PacketID: pkt.PacketID, ReasonCodes: granted}).Append(out, v)
		case *codec.Unsubscribe:
			var codes []byte
			for _, f := range pkt.Filters {
				unsubscribed[string(f)] = true
				if v == codec.V5 {
					codes = append(codes, 0)
				}
			}
			out = (&codec.Suback{Kind: codec.UNSUBACK, PacketID: pkt.PacketID, ReasonCodes: codes}).Append(out, v)
		case *codec.Ping:
			out = append(out, byte(codec.PINGRESP)<<4, 0)
		case *codec.Disconnect, *codec.Auth:
			return
		}
		if _, err := nc.Write(out); err != nil {
			return
		}
	}
}

func publishAnswer(p *codec.Publish, v codec.Version) []byte {
	switch p.QoS {
	case 1:
		return (&codec.Ack{Kind: codec.PUBACK, PacketID: p.PacketID}).Append(nil, v)
	case 2:
		return (&codec.Ack{Kind: codec.PUBREC, PacketID: p.PacketID}).Append(nil, v)
	}
	return nil
}

// Environment of a planted broker run as a process of its own (the test
// binary started again), for the --exec tests.
const (
	plantedAddrEnv = "MQTTSPEC_PLANTED_ADDR"
	plantedBugEnv  = "MQTTSPEC_PLANTED_BUG"
)

// servePlanted runs a planted broker as a process until it is killed; its
// crash is a panic message on stderr and exit status 2, like a Go program's.
func servePlanted(addr string, b bug) int {
	p, err := newPlantedBroker(b, addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	p.crash = func() {
		fmt.Fprintf(os.Stderr, "panic: planted bug %s\n\ngoroutine 7 [running]:\nplanted.subscribe(...)\n", b)
		os.Exit(2)
	}
	select {}
}
