package fuzz

import (
	"context"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"mqttspec/codec"
	broker "mqttspec/reference-broker"
)

// oracle is an in-process reference broker on a loopback port: the same
// session run against it says what a conforming broker answers.
type oracle struct {
	b    *broker.Broker
	addr string
}

// newOracle starts the reference broker with the capabilities the broker
// under test announced (a 5.0 CONNACK's properties, nil when it speaks no
// 5.0): a smaller Topic Alias Maximum or Receive Maximum is a choice, not a
// difference worth reporting.
func newOracle(announced *codec.Properties) (*oracle, error) {
	cfg := broker.DefaultConfig()
	cfg.SysInterval = 0 // no $SYS traffic between the answers
	if a := announced; a != nil {
		byteOr := func(id codec.PropID, v byte, def byte) byte {
			if a.Has(id) {
				return v
			}
			return def
		}
		cfg.MaximumQoS = byteOr(codec.PropMaximumQoS, a.MaximumQoS, 2)
		cfg.RetainAvailable = byteOr(codec.PropRetainAvailable, a.RetainAvailable, 1) == 1
		cfg.WildcardSubAvailable = byteOr(codec.PropWildcardSubAvailable, a.WildcardSubAvailable, 1) == 1
		cfg.SubIDAvailable = byteOr(codec.PropSubIDAvailable, a.SubIDAvailable, 1) == 1
		cfg.SharedSubAvailable = byteOr(codec.PropSharedSubAvailable, a.SharedSubAvailable, 1) == 1
		cfg.TopicAliasMaximum = a.TopicAliasMaximum // 0, none, when not announced
		cfg.ReceiveMaximum = a.ReceiveMaximum       // 0 means 65535, the protocol's default
		cfg.ServerKeepAlive = a.ServerKeepAlive
		if a.Has(codec.PropMaximumPacketSize) {
			cfg.MaximumPacketSize = a.MaximumPacketSize
		}
	}
	b, err := broker.New(cfg)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Close()
		return nil, err
	}
	go func() { _ = b.Serve(l) }()
	return &oracle{b: b, addr: l.Addr().String()}, nil
}

// capabilities connects to the broker as a 5.0 client and returns the
// properties of its CONNACK; nil when it does not accept 5.0.
func capabilities(ctx context.Context, dial func(context.Context) (net.Conn, error), clientID string, wait time.Duration) *codec.Properties {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	nc, err := dial(ctx)
	if err != nil {
		return nil
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(wait))
	c := &codec.Connect{ProtocolName: []byte("MQTT"), ProtocolLevel: codec.V5, CleanStart: true, ClientID: []byte(clientID), KeepAlive: 30}
	if _, err := nc.Write((&codec.Disconnect{}).Append(c.Append(nil, codec.V5), codec.V5)); err != nil {
		return nil
	}
	r := codec.NewReader(nc, 256)
	r.Version = codec.V5
	p, err := r.ReadPacket()
	if err != nil {
		return nil
	}
	ack, ok := p.(*codec.Connack)
	if !ok || ack.ReasonCode != 0 {
		return nil
	}
	props := ack.Props
	return &props
}

func (o *oracle) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", o.addr)
}

func (o *oracle) close() { _ = o.b.Close() }

// diverge compares two summaries as multisets: brokers may order their
// answers differently (acknowledge before or after delivering) and still
// conform, so only what was answered is compared, not in which order.
func diverge(target, ref []string) (onlyTarget, onlyRef []string) {
	count := map[string]int{}
	for _, s := range ref {
		count[s]++
	}
	for _, s := range target {
		if count[s] > 0 {
			count[s]--
			continue
		}
		onlyTarget = append(onlyTarget, s)
	}
	for _, s := range ref {
		if count[s] > 0 {
			count[s]--
			onlyRef = append(onlyRef, s)
		}
	}
	sort.Strings(onlyTarget)
	sort.Strings(onlyRef)
	return onlyTarget, onlyRef
}

// divergence turns a difference between the summaries into a verdict; nil
// when they agree or either broker did not finish (a timeout says nothing
// about what it would have answered).
func divergence(target, ref []string, v codec.Version) *verdict {
	if last(target) == "end: no answer" || last(ref) == "end: no answer" {
		return nil
	}
	ot, or := diverge(target, ref)
	if len(ot) == 0 && len(or) == 0 {
		return nil
	}
	first := func(xs []string) string {
		if len(xs) == 0 {
			return "nothing"
		}
		return xs[0]
	}
	key := first(ot) + " / reference " + first(or)
	pt := itemType(first(ot))
	if pt == 0 {
		pt = itemType(first(or))
	}
	return &verdict{kind: Divergence, key: key, ptype: pt, version: v,
		detail: "the broker answered [" + strings.Join(target, ", ") + "], the reference broker [" + strings.Join(ref, ", ") + "]"}
}

func last(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[len(xs)-1]
}

// itemType is the packet type a summary item names, 0 for the end item.
func itemType(item string) codec.Type {
	w, _, _ := strings.Cut(strings.TrimPrefix(item, "invalid "), " ")
	t, _ := codec.TypeByName(w)
	return t
}

func itoa(n int) string { return strconv.Itoa(n) }
