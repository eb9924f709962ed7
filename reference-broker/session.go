package broker

import (
	"sync"
	"sync/atomic"
	"time"

	"mqttspec/codec"
)

// neverExpires is the Session Expiry Interval of a session that outlives any disconnection:
// 0xFFFFFFFF in 5.0, and every 3.1.1 session made with Clean Session 0.
const neverExpires = 0xFFFFFFFF

// session is the Session State the server keeps for one client identifier (section 4.1): its
// subscriptions, the messages on their way to the client, and the QoS 2 messages received from
// it and not yet released. mu guards the message state; the subscription set belongs to the
// topic index and the will and expiry timers to the session store.
type session struct {
	id     string
	online atomic.Bool // a connection is attached; read without mu when choosing a shared subscriber

	mu       sync.Mutex
	conn     *conn
	ended    bool
	queue    []*delivery // waiting to be sent, oldest first
	inflight map[uint16]*delivery
	order    []*delivery // inflight deliveries in the order they were first sent
	used     int         // inflight deliveries written on the current connection: the used send quota
	resend   bool        // some inflight delivery is still to be re-sent on this connection
	lastID   uint16
	received map[uint16]struct{} // QoS 2 packet identifiers from the client awaiting PUBREL

	subs map[string]*subscription // guarded by the topic index's lock

	expiry   uint32    // Session Expiry Interval; guarded by the session store's lock
	will     *will     // the Will of the current or last connection; session store's lock
	willAt   time.Time // when a delayed Will is due; session store's lock
	expireAt time.Time // when an offline session ends; session store's lock
}

func newSession(id string) *session {
	return &session{
		id:       id,
		inflight: map[uint16]*delivery{},
		received: map[uint16]struct{}{},
		subs:     map[string]*subscription{},
	}
}

// enqueue adds d to the messages waiting for the client. A full queue loses its oldest QoS 0
// message first; when it holds only QoS 1/2 messages the new one is dropped. It reports whether
// a message was dropped.
func (s *session) enqueue(d *delivery, limit int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return true
	}
	dropped := false
	if len(s.queue) >= limit {
		i := 0
		for i < len(s.queue) && s.queue[i].qos != 0 {
			i++
		}
		if i == len(s.queue) {
			return true // only QoS 1/2 messages wait: the new one is dropped
		}
		s.queue = append(s.queue[:i], s.queue[i+1:]...)
		dropped = true
	}
	s.queue = append(s.queue, d)
	if s.conn != nil {
		s.conn.wakeWriter()
	}
	return dropped
}

// pull appends the packets the connection may send now: first the inflight deliveries still to
// be re-sent on this connection (section 4.4), in their original order [MQTT-4.6.0-1 in 3.1.1], then
// queued deliveries while the send quota allows [MQTT-4.9.0-2]. It reports whether more is
// ready than fitted in one batch.
func (s *session) pull(e *encoder, buf []byte, now time.Time) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || s.conn == nil || &s.conn.enc != e {
		return buf, false
	}
	if s.resend {
		buf = s.pullResend(e, buf, now)
		if s.resend {
			// A full batch leaves more to re-send at once; an exhausted quota waits for an
			// acknowledgement, which wakes the writer.
			return buf, len(buf) >= batchLimit
		}
	}
	var ok bool
	for len(s.queue) > 0 && len(buf) < batchLimit {
		d := s.queue[0]
		if d.qos > 0 && s.used >= e.quota {
			return buf, false
		}
		s.queue[0] = nil
		s.queue = s.queue[1:]
		if d.msg.expired(now) {
			e.stats.dropped.Add(1)
			continue
		}
		if d.qos == 0 {
			buf, _ = e.publish(buf, d, now)
			continue
		}
		d.packetID = s.newPacketID()
		if buf, ok = e.publish(buf, d, now); !ok {
			continue
		}
		d.state = awaitPuback
		if d.qos == 2 {
			d.state = awaitPubrec
		}
		s.inflight[d.packetID] = d
		s.order = append(s.order, d)
		s.used++
	}
	if len(s.queue) == 0 {
		s.queue = nil // let the backing array go once drained
	}
	return buf, len(s.queue) > 0
}

// pullResend re-sends inflight deliveries with their original packet identifiers: a PUBLISH
// with DUP set [MQTT-3.3.1-1] until it is acknowledged, a PUBREL once PUBREC came
// [MQTT-4.3.3-6].
func (s *session) pullResend(e *encoder, buf []byte, now time.Time) []byte {
	var ok bool
	var tooLarge []*delivery // forgotten after the loop: forgetting compacts s.order
	defer func() {
		for _, d := range tooLarge {
			s.forget(d)
		}
	}()
	for _, d := range s.order {
		if !d.unsent {
			continue
		}
		if d.state == awaitPubcomp {
			buf = e.pubrel(buf, d.packetID)
		} else {
			if s.used >= e.quota || len(buf) >= batchLimit {
				return buf
			}
			d.dup = true
			if buf, ok = e.publish(buf, d, now); !ok {
				tooLarge = append(tooLarge, d)
				continue
			}
		}
		d.unsent = false
		s.used++
	}
	s.resend = false
	return buf
}

// newPacketID picks a non-zero identifier no inflight delivery uses [MQTT-2.2.1-4]. MaxInflight
// is below 65535, so one is always free.
func (s *session) newPacketID() uint16 {
	for {
		s.lastID++
		if s.lastID == 0 {
			continue
		}
		if _, used := s.inflight[s.lastID]; !used {
			return s.lastID
		}
	}
}

// acknowledge handles PUBACK, PUBREC and PUBCOMP from the client. It returns the packet to
// answer with (a PUBREL for a PUBREC), or nil.
func (s *session) acknowledge(kind codec.Type, id uint16, rc codec.ReasonCode, v codec.Version) codec.Packet {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.inflight[id]
	switch kind {
	case codec.PUBACK:
		if d != nil && d.state == awaitPuback {
			s.forget(d)
		}
	case codec.PUBCOMP:
		if d != nil && d.state == awaitPubcomp {
			s.forget(d)
		}
	case codec.PUBREC:
		rel := &codec.Ack{Kind: codec.PUBREL, PacketID: id}
		switch {
		case d == nil || d.state == awaitPuback:
			if v == codec.V5 {
				rel.ReasonCode = codec.PacketIdentifierNotFound
				setReasonString(&rel.Props, "no QoS 2 message was sent with this packet identifier")
			}
			return rel
		case rc >= 0x80:
			// An error PUBREC acknowledges the message for good [MQTT-4.4.0-2].
			s.forget(d)
			return nil
		case d.state == awaitPubrec:
			d.state = awaitPubcomp
		}
		if d.unsent {
			d.unsent = false
			s.used++
		}
		return rel
	}
	return nil
}

// forget drops an inflight delivery, giving back its send quota.
func (s *session) forget(d *delivery) {
	delete(s.inflight, d.packetID)
	if !d.unsent {
		s.used--
	}
	d.unsent = false
	d.state = done
	if s.conn != nil {
		s.conn.wakeWriter()
	}
	s.compact()
}

// compact removes acknowledged deliveries from the front of the send order, and rebuilds the
// order when holes dominate.
func (s *session) compact() {
	for len(s.order) > 0 && s.order[0].state == done {
		s.order[0] = nil
		s.order = s.order[1:]
	}
	if len(s.order) > 2*len(s.inflight)+32 {
		kept := make([]*delivery, 0, len(s.inflight))
		for _, d := range s.order {
			if d.state != done {
				kept = append(kept, d)
			}
		}
		s.order = kept
	}
}

// receiveQoS2 records a QoS 2 PUBLISH from the client. It reports whether the packet
// identifier is already awaiting PUBREL (a re-sent PUBLISH that must not be delivered again
// [MQTT-4.3.3-10]), or whether accepting it would exceed limit.
func (s *session) receiveQoS2(id uint16, limit int) (dup, full bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.received[id]; ok {
		return true, false
	}
	if s.ended || len(s.received) >= limit {
		return false, true
	}
	s.received[id] = struct{}{}
	return false, false
}

// awaitingRelease is how many QoS 2 messages from the client wait for PUBREL.
func (s *session) awaitingRelease() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.received)
}

// forgetReceived undoes receiveQoS2 when the PUBREC carries an error: the identifier is then
// free for a new message [MQTT-4.3.3-9].
func (s *session) forgetReceived(id uint16) {
	s.mu.Lock()
	delete(s.received, id)
	s.mu.Unlock()
}

// release handles PUBREL: it reports whether id was awaiting release.
func (s *session) release(id uint16) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.received[id]
	delete(s.received, id)
	return ok
}

// attach binds c to the session, marking every inflight delivery for re-sending.
func (s *session) attach(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conn = c
	s.online.Store(true)
	s.used = 0
	s.resend = len(s.inflight) > 0
	for _, d := range s.order {
		if d.state != done {
			d.unsent = true
		}
	}
}

// detach unbinds c if it is still the session's connection.
func (s *session) detach(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != c {
		return false
	}
	s.conn = nil
	s.online.Store(false)
	return true
}

// end discards the message state of a session that no longer exists.
func (s *session) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
	s.queue, s.inflight, s.order, s.received = nil, nil, nil, nil
}
