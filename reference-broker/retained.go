package broker

import (
	"strings"
	"sync"
	"time"
)

// retainNode is one topic level of the retained message tree.
type retainNode struct {
	children map[string]*retainNode
	msg      *message
}

// retainedStore holds the last retained message of each topic [MQTT-3.3.1-5].
type retainedStore struct {
	mu    sync.RWMutex
	root  retainNode
	count int
}

// set stores m as the topic's retained message, replacing the one before; an empty payload
// removes it instead [MQTT-3.3.1-6, MQTT-3.3.1-7 in 5.0; MQTT-3.3.1-10, MQTT-3.3.1-11 in 3.1.1].
func (r *retainedStore) set(m *message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	topic := string(m.topic)
	if len(m.payload) == 0 {
		r.remove(topic)
		return
	}
	n := &r.root
	for level := range strings.SplitSeq(topic, "/") {
		c := n.children[level]
		if c == nil {
			if n.children == nil {
				n.children = map[string]*retainNode{}
			}
			c = &retainNode{}
			n.children[level] = c
		}
		n = c
	}
	if n.msg == nil {
		r.count++
	}
	n.msg = m
}

// remove deletes the retained message of topic and the nodes it leaves empty.
func (r *retainedStore) remove(topic string) {
	var walk func(n *retainNode, path string) bool
	walk = func(n *retainNode, path string) bool {
		level, rest, more := strings.Cut(path, "/")
		c := n.children[level]
		if c == nil {
			return false
		}
		if more {
			if !walk(c, rest) {
				return false
			}
		} else if c.msg != nil {
			c.msg = nil
			r.count--
		}
		if c.msg == nil && len(c.children) == 0 {
			delete(n.children, level)
			return true
		}
		return false
	}
	walk(&r.root, topic)
}

// match appends the unexpired retained messages whose topic matches filter, leaving out topics
// starting with '$' for filters starting with a wildcard [MQTT-4.7.2-1].
func (r *retainedStore) match(filter string, now time.Time, dst []*message) []*message {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.root.match(filter, true, now, dst)
}

func (n *retainNode) match(filter string, root bool, now time.Time, dst []*message) []*message {
	level, rest, more := strings.Cut(filter, "/")
	switch level {
	case "#":
		return n.all(root, now, dst)
	case "+":
		for name, c := range n.children {
			if !(root && strings.HasPrefix(name, "$")) {
				dst = c.matchNext(rest, more, now, dst)
			}
		}
		return dst
	}
	if c := n.children[level]; c != nil {
		dst = c.matchNext(rest, more, now, dst)
	}
	return dst
}

// matchNext continues below n with the rest of the filter, or takes n's message at its end.
func (n *retainNode) matchNext(rest string, more bool, now time.Time, dst []*message) []*message {
	if more {
		return n.match(rest, false, now, dst)
	}
	if n.msg != nil && !n.msg.expired(now) {
		dst = append(dst, n.msg)
	}
	return dst
}

// all appends n's message and every message below n: what "#" matches, the parent level
// included.
func (n *retainNode) all(root bool, now time.Time, dst []*message) []*message {
	if n.msg != nil && !n.msg.expired(now) {
		dst = append(dst, n.msg)
	}
	for name, c := range n.children {
		if !(root && strings.HasPrefix(name, "$")) {
			dst = c.all(false, now, dst)
		}
	}
	return dst
}

// purge drops expired retained messages.
func (r *retainedStore) purge(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var expired []string
	var walk func(n *retainNode)
	walk = func(n *retainNode) {
		if n.msg != nil && n.msg.expired(now) {
			expired = append(expired, string(n.msg.topic))
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(&r.root)
	for _, t := range expired {
		r.remove(t)
	}
}

// size is the number of retained messages.
func (r *retainedStore) size() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.count
}
