package broker

import (
	"strings"
	"sync"
	"sync/atomic"
)

// subscription is one topic filter of one session with its options (section 3.8.3.1).
type subscription struct {
	sess              *session
	filter            string // as subscribed, "$share/{name}/" included
	share             string // share name of a shared subscription, empty otherwise
	qos               byte   // granted QoS
	noLocal           bool
	retainAsPublished bool
	retainHandling    byte
	id                int // Subscription Identifier; 0 for none
}

// topicNode is one level of the subscription trie.
type topicNode struct {
	children map[string]*topicNode
	subs     map[*session]*subscription
	groups   map[string]*shareGroup
}

// shareGroup is the sessions of one shared subscription, served round-robin.
type shareGroup struct {
	members []*subscription
	next    atomic.Uint32
}

// topicIndex is the subscription trie: the one owner of every session's subscriptions.
type topicIndex struct {
	mu    sync.RWMutex
	root  topicNode
	count int
}

// splitShared parses a 5.0 shared subscription filter into its share name and filter.
func splitShared(filter string) (share, path string) {
	rest, ok := strings.CutPrefix(filter, "$share/")
	if !ok {
		return "", filter
	}
	share, path, _ = strings.Cut(rest, "/")
	return share, path
}

func (t *topicIndex) node(path string, create bool) *topicNode {
	n := &t.root
	for {
		level, rest, more := strings.Cut(path, "/")
		c := n.children[level]
		if c == nil {
			if !create {
				return nil
			}
			if n.children == nil {
				n.children = map[string]*topicNode{}
			}
			c = &topicNode{}
			n.children[level] = c
		}
		n = c
		if !more {
			return n
		}
		path = rest
	}
}

// subscribe adds sub, replacing the session's subscription with the same filter
// [MQTT-3.8.4-3]. path is the filter without a share prefix. It reports whether one existed,
// and false for ok when the session already has limit subscriptions.
func (t *topicIndex) subscribe(sub *subscription, path string, limit int) (existed, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := sub.sess
	_, existed = s.subs[sub.filter]
	if !existed {
		if len(s.subs) >= limit {
			return false, false
		}
		t.count++
	}
	s.subs[sub.filter] = sub
	n := t.node(path, true)
	if sub.share == "" {
		if n.subs == nil {
			n.subs = map[*session]*subscription{}
		}
		n.subs[s] = sub
		return existed, true
	}
	if n.groups == nil {
		n.groups = map[string]*shareGroup{}
	}
	g := n.groups[sub.share]
	if g == nil {
		g = &shareGroup{}
		n.groups[sub.share] = g
	}
	for i, m := range g.members {
		if m.sess == s {
			g.members[i] = sub
			return existed, true
		}
	}
	g.members = append(g.members, sub)
	return existed, true
}

// unsubscribe removes the session's subscription to filter exactly as written [MQTT-3.10.4-1].
// It reports whether there was one.
func (t *topicIndex) unsubscribe(s *session, filter string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	sub, ok := s.subs[filter]
	if ok {
		t.removeLocked(sub)
	}
	return ok
}

// removeSession drops every subscription of a session that ended.
func (t *topicIndex) removeSession(s *session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, sub := range s.subs {
		t.removeLocked(sub)
	}
}

func (t *topicIndex) removeLocked(sub *subscription) {
	s := sub.sess
	delete(s.subs, sub.filter)
	t.count--
	path := sub.filter
	if sub.share != "" {
		_, path = splitShared(sub.filter)
	}
	n := t.node(path, false)
	if n == nil {
		return
	}
	if sub.share == "" {
		delete(n.subs, s)
	} else if g := n.groups[sub.share]; g != nil {
		for i, m := range g.members {
			if m.sess == s {
				g.members = append(g.members[:i:i], g.members[i+1:]...)
				break
			}
		}
		if len(g.members) == 0 {
			delete(n.groups, sub.share)
		}
	}
	t.prune(path)
}

// prune removes the empty nodes along path, deepest first.
func (t *topicIndex) prune(path string) {
	var walk func(n *topicNode, path string) bool
	walk = func(n *topicNode, path string) bool {
		level, rest, more := strings.Cut(path, "/")
		c := n.children[level]
		if c == nil {
			return false
		}
		if more && !walk(c, rest) {
			return false
		}
		if len(c.children) == 0 && len(c.subs) == 0 && len(c.groups) == 0 {
			delete(n.children, level)
			return true
		}
		return false
	}
	walk(&t.root, path)
}

// match appends the subscriptions whose filter matches topic: every matching non-shared
// subscription, and one chosen member of each matching shared subscription. Filters starting
// with a wildcard do not match topics starting with '$' [MQTT-4.7.2-1].
func (t *topicIndex) match(topic string, dst []*subscription) []*subscription {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.root.match(topic, false, !strings.HasPrefix(topic, "$"), dst)
}

// match walks the levels left in topic; end means none are left.
func (n *topicNode) match(topic string, end, wild bool, dst []*subscription) []*subscription {
	if wild {
		// "#" also matches the parent level: "a/#" matches "a" (section 4.7.1.2).
		if c := n.children["#"]; c != nil {
			dst = c.collect(dst)
		}
	}
	if end {
		return n.collect(dst)
	}
	level, rest, more := strings.Cut(topic, "/")
	if c := n.children[level]; c != nil {
		dst = c.match(rest, !more, true, dst)
	}
	if wild {
		if c := n.children["+"]; c != nil {
			dst = c.match(rest, !more, true, dst)
		}
	}
	return dst
}

func (n *topicNode) collect(dst []*subscription) []*subscription {
	for _, sub := range n.subs {
		dst = append(dst, sub)
	}
	for _, g := range n.groups {
		dst = append(dst, g.pick())
	}
	return dst
}

// pick chooses the next member round-robin, preferring connected sessions.
func (g *shareGroup) pick() *subscription {
	n := uint32(len(g.members))
	start := g.next.Add(1)
	for i := range n {
		if m := g.members[(start+i)%n]; m.sess.online.Load() {
			return m
		}
	}
	return g.members[start%n]
}

// subscriptionCount is the number of subscriptions of all sessions.
func (t *topicIndex) subscriptionCount() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.count
}
