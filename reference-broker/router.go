package broker

import (
	"slices"
	"sync/atomic"
)

// stats are the counters behind the $SYS topics.
type stats struct {
	received atomic.Uint64 // PUBLISH packets accepted from clients
	sent     atomic.Uint64 // PUBLISH packets written to clients
	dropped  atomic.Uint64 // messages discarded: queue full, expired, too large for the client
}

// publish routes m to every session with a matching subscription and stores it if it is
// retained. A session matched by several of its subscriptions gets one copy at the highest
// granted QoS [MQTT-3.3.5-1 in 3.1.1, MQTT-3.3.4-2 in 5.0] carrying the Subscription Identifier
// of each [MQTT-3.3.4-3]; each shared subscription sends its own copy to one member. It returns
// how many sessions the message was queued for.
func (b *Broker) publish(m *message) int {
	ds := b.route(m)
	b.deliver(ds)
	return len(ds)
}

// route stores m if it is retained and works out its deliveries, without queuing them yet.
func (b *Broker) route(m *message) []*delivery {
	if m.retain {
		b.retained.set(m)
	}
	subs := b.topics.match(string(m.topic), nil)
	var perSession, shared []*delivery
	var bySession map[*session]*delivery
	if len(subs) > 8 {
		bySession = make(map[*session]*delivery, len(subs))
	}
	find := func(s *session) *delivery {
		if bySession != nil {
			return bySession[s]
		}
		for _, d := range perSession {
			if d.sess == s {
				return d
			}
		}
		return nil
	}
	for _, sub := range subs {
		if sub.noLocal && sub.sess.id == m.publisher {
			continue // No Local [MQTT-3.8.3-3]
		}
		qos := min(m.qos, sub.qos)
		// Retain As Published keeps the flag [MQTT-3.3.1-13]; otherwise it is cleared on
		// messages for established subscriptions [MQTT-3.3.1-12, MQTT-3.3.1-9 in 3.1.1].
		retain := m.retain && sub.retainAsPublished
		var d *delivery
		switch {
		case sub.share != "":
			d = &delivery{msg: m, sess: sub.sess, qos: qos, retain: retain}
			shared = append(shared, d)
		case find(sub.sess) != nil:
			d = find(sub.sess)
			d.qos = max(d.qos, qos)
			d.retain = d.retain || retain
		default:
			d = &delivery{msg: m, sess: sub.sess, qos: qos, retain: retain}
			perSession = append(perSession, d)
			if bySession != nil {
				bySession[sub.sess] = d
			}
		}
		if sub.id != 0 {
			d.subIDs = append(d.subIDs, sub.id)
		}
	}
	return append(perSession, shared...)
}

// deliver queues each delivery for its session.
func (b *Broker) deliver(ds []*delivery) {
	for _, d := range ds {
		slices.Sort(d.subIDs)
		if d.sess.enqueue(d, b.cfg.MaxQueued) {
			b.stats.dropped.Add(1)
		}
	}
}
