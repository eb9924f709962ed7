package broker

import (
	"sync"
	"time"

	"mqttspec/codec"
)

// detachHow is how a connection left its session.
type detachHow byte

const (
	closedAbnormally detachHow = iota // no DISCONNECT, or DISCONNECT with a non-zero reason: Will goes out
	closedNormally                    // DISCONNECT 0x00: the Will is discarded [MQTT-3.14.4-3]
	closedByShutdown                  // the broker is closing
)

// sessionStore owns the sessions by client identifier, the binding of connections to them,
// their expiry and their Wills.
type sessionStore struct {
	b     *Broker
	mu    sync.Mutex
	all   map[string]*session
	timed map[*session]struct{} // offline sessions with a Will or an expiry due
	kick  chan struct{}         // wakes the janitor when a deadline is added
}

func newSessionStore(b *Broker) *sessionStore {
	return &sessionStore{b: b, all: map[string]*session{}, timed: map[*session]struct{}{}, kick: make(chan struct{}, 1)}
}

// maxTakeovers bounds how often one CONNECT waits for another connection to leave the session.
const maxTakeovers = 8

// attach binds c to the session of its client identifier. A connection already bound is closed
// first (DISCONNECT Session taken over in 5.0) [MQTT-3.1.4-3 in 5.0, MQTT-3.1.4-2 in 3.1.1];
// Clean Start discards an existing session [MQTT-3.1.2-4]. It reports whether a session was
// resumed, the Session Present flag [MQTT-3.2.2-2, MQTT-3.2.2-3], to accepted, which runs under
// the store's lock: a connection that takes the session over later finds the CONNACK queued.
func (st *sessionStore) attach(c *conn, cleanStart bool, expiry uint32, w *will, accepted func(*session, bool)) error {
	for range maxTakeovers {
		st.mu.Lock()
		s := st.all[c.clientID]
		var old *conn
		if s != nil {
			s.mu.Lock()
			old = s.conn
			s.mu.Unlock()
		}
		if old == nil {
			present := s != nil && !cleanStart
			if s != nil {
				// Any new connection for the client identifier before the Will Delay Interval
				// has passed cancels the delayed Will [MQTT-3.1.2-8, MQTT-3.1.3-9].
				s.will, s.willAt = nil, time.Time{}
				if cleanStart {
					st.endLocked(s, nil)
					s = nil
				}
			}
			if s == nil {
				s = newSession(c.clientID)
				st.all[c.clientID] = s
			}
			s.will, s.expireAt, s.expiry = w, time.Time{}, expiry
			delete(st.timed, s)
			s.attach(c)
			accepted(s, present)
			st.mu.Unlock()
			return nil
		}
		st.mu.Unlock()
		old.takeOver()
		select {
		case <-old.done:
		case <-time.After(st.b.cfg.ConnectTimeout):
			return &closeError{reason: codec.ServerBusy, msg: "the connection holding the session did not close"}
		}
	}
	return &closeError{reason: codec.ServerBusy, msg: "the session is being taken over repeatedly"}
}

// detach unbinds c from s after its network connection closed. The Will goes out now, or after
// its delay; a session with Session Expiry Interval 0 ends now [MQTT-4.1.0-2], others when the
// interval has passed [MQTT-3.1.2-23].
func (st *sessionStore) detach(c *conn, s *session, how detachHow) {
	now := time.Now()
	st.mu.Lock()
	if !s.detach(c) || how == closedByShutdown {
		st.mu.Unlock()
		return
	}
	var due []*will
	w := s.will
	s.will = nil
	if how == closedAbnormally && w != nil {
		if w.delay == 0 {
			due = append(due, w)
		} else {
			s.will, s.willAt = w, now.Add(time.Duration(w.delay)*time.Second)
		}
	}
	switch {
	case s.expiry == 0:
		due = st.endLocked(s, due)
	case s.expiry != neverExpires:
		s.expireAt = now.Add(time.Duration(s.expiry) * time.Second)
	}
	if _, live := st.all[s.id]; live && (!s.willAt.IsZero() || !s.expireAt.IsZero()) {
		st.timed[s] = struct{}{}
		select {
		case st.kick <- struct{}{}:
		default:
		}
	}
	st.mu.Unlock()
	st.b.publishWills(due)
}

// endLocked ends s: it leaves the store and the topic index, its messages are discarded, and a
// Will still waiting for its delay is due now.
func (st *sessionStore) endLocked(s *session, due []*will) []*will {
	delete(st.all, s.id)
	delete(st.timed, s)
	if s.will != nil {
		due = append(due, s.will)
		s.will = nil
	}
	st.b.topics.removeSession(s)
	s.end()
	return due
}

// expire publishes the delayed Wills and ends the sessions that are due at now. It returns the
// next deadline, zero if none.
func (st *sessionStore) expire(now time.Time) time.Time {
	var due []*will
	var next time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	st.mu.Lock()
	for s := range st.timed {
		if !s.willAt.IsZero() && !now.Before(s.willAt) {
			due = append(due, s.will)
			s.will, s.willAt = nil, time.Time{}
		}
		if !s.expireAt.IsZero() && !now.Before(s.expireAt) {
			due = st.endLocked(s, due)
			continue
		}
		if s.willAt.IsZero() && s.expireAt.IsZero() {
			delete(st.timed, s)
			continue
		}
		earliest(s.willAt)
		earliest(s.expireAt)
	}
	st.mu.Unlock()
	st.b.publishWills(due)
	return next
}

// setExpiry changes a session's Session Expiry Interval (5.0 DISCONNECT).
func (st *sessionStore) setExpiry(s *session, expiry uint32) {
	st.mu.Lock()
	s.expiry = expiry
	st.mu.Unlock()
}

// exists reports whether a session with client identifier id exists.
func (st *sessionStore) exists(id string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	_, ok := st.all[id]
	return ok
}

// count is the number of sessions, connected or not.
func (st *sessionStore) count() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.all)
}
