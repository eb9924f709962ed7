package fuzz

import (
	"context"
	"net"
	"sort"
	"strconv"
	"strings"

	"mqttspec/codec"
	broker "mqttspec/reference-broker"
)

// oracle is an in-process reference broker on a loopback port: the same
// session run against it says what a conforming broker answers.
type oracle struct {
	b    *broker.Broker
	addr string
}

func newOracle() (*oracle, error) {
	cfg := broker.DefaultConfig()
	cfg.SysInterval = 0 // no $SYS traffic between the answers
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
