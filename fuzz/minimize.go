package fuzz

import (
	"bytes"

	"mqttspec/codec"
)

// minimizer shrinks a session while a finding keeps reproducing: first
// delta debugging over whole packets, then, packet by packet, simpler field
// values through the codec and fewer bytes. Every candidate is re-executed
// against the broker; budget bounds how many times.
type minimizer struct {
	still  func(Session) bool
	budget int
	checks int
}

func (m *minimizer) try(s Session) bool {
	if m.checks >= m.budget {
		return false
	}
	m.checks++
	return m.still(s)
}

func (m *minimizer) minimize(s Session) Session {
	s = m.packets(s)
	for i := range s {
		s = m.packetFields(s, i)
		s = m.packetBytes(s, i)
	}
	return s
}

// packets is ddmin over the session's packets: try each of n chunks
// alone, then each complement, and refine n until no single packet can go.
func (m *minimizer) packets(s Session) Session {
	n := 2
	for len(s) >= 2 && m.checks < m.budget {
		chunks := split(s, n)
		reduced := false
		for _, c := range chunks {
			if len(c) < len(s) && m.try(c) {
				s, n, reduced = c, max(n-1, 2), true
				break
			}
		}
		if !reduced && n > 2 {
			for i := range chunks {
				c := complement(chunks, i)
				if m.try(c) {
					s, n, reduced = c, max(n-1, 2), true
					break
				}
			}
		}
		if !reduced {
			if n >= len(s) {
				break
			}
			n = min(2*n, len(s))
		}
	}
	return s
}

func split(s Session, n int) []Session {
	var out []Session
	size, rest := len(s)/n, len(s)%n
	for i, at := 0, 0; i < n && at < len(s); i++ {
		k := size
		if i < rest {
			k++
		}
		out = append(out, s[at:at+k])
		at += k
	}
	return out
}

func complement(chunks []Session, skip int) Session {
	var out Session
	for i, c := range chunks {
		if i != skip {
			out = append(out, c...)
		}
	}
	return out
}

// with returns a copy of s whose packet i is p.
func with(s Session, i int, p []byte) Session {
	out := append(Session(nil), s...)
	out[i] = p
	return out
}

// packetFields tries simpler versions of a packet the codec can read:
// without properties, with an empty payload, with one subscription or
// filter, with shorter strings.
func (m *minimizer) packetFields(s Session, i int) Session {
	v := connectLevel(s.Stream())
	for _, simplify := range simplifications {
		d := codec.Decoder{Lenient: true, Version: v}
		p, n, err := d.Decode(s[i])
		if err != nil || n != len(s[i]) || !bytes.Equal(p.Append(nil, v), s[i]) {
			return s
		}
		if !simplify(p) {
			continue
		}
		if q := p.Append(nil, v); len(q) < len(s[i]) && m.try(with(s, i, q)) {
			s = with(s, i, q)
		}
	}
	return s
}

// simplifications each change a decoded packet in place, reporting
// whether there was anything to change.
var simplifications = []func(codec.Packet) bool{
	func(p codec.Packet) bool { return clearProps(p, false) },
	func(p codec.Packet) bool { return clearProps(p, true) },
	func(p codec.Packet) bool {
		switch p := p.(type) {
		case *codec.Publish:
			if len(p.Payload) > 0 {
				p.Payload = nil
				return true
			}
		case *codec.Connect:
			if len(p.WillPayload) > 0 {
				p.WillPayload = nil
				return true
			}
		}
		return false
	},
	func(p codec.Packet) bool {
		switch p := p.(type) {
		case *codec.Subscribe:
			if len(p.Subscriptions) > 1 {
				p.Subscriptions = p.Subscriptions[len(p.Subscriptions)-1:]
				return true
			}
		case *codec.Unsubscribe:
			if len(p.Filters) > 1 {
				p.Filters = p.Filters[len(p.Filters)-1:]
				return true
			}
		}
		return false
	},
	func(p codec.Packet) bool {
		switch p := p.(type) {
		case *codec.Subscribe:
			if len(p.Subscriptions) > 1 {
				p.Subscriptions = p.Subscriptions[:1]
				return true
			}
		case *codec.Unsubscribe:
			if len(p.Filters) > 1 {
				p.Filters = p.Filters[:1]
				return true
			}
		}
		return false
	},
	func(p codec.Packet) bool {
		if c, ok := p.(*codec.Connect); ok && (c.UsernameFlag || c.PasswordFlag) {
			c.UsernameFlag, c.PasswordFlag, c.Username, c.Password = false, false, nil, nil
			return true
		}
		return false
	},
	func(p codec.Packet) bool {
		if c, ok := p.(*codec.Connect); ok && c.WillFlag {
			c.WillFlag, c.WillQoS, c.WillRetain, c.WillTopic, c.WillPayload = false, 0, false, nil, nil
			c.WillProps = codec.Properties{}
			return true
		}
		return false
	},
}

func clearProps(p codec.Packet, will bool) bool {
	var props *codec.Properties
	switch p := p.(type) {
	case *codec.Connect:
		props = &p.Props
		if will {
			props = &p.WillProps
		}
	case *codec.Publish:
		props = &p.Props
	case *codec.Ack:
		props = &p.Props
	case *codec.Subscribe:
		props = &p.Props
	case *codec.Unsubscribe:
		props = &p.Props
	case *codec.Disconnect:
		props = &p.Props
	case *codec.Auth:
		props = &p.Props
	}
	if props == nil || props.Empty() || (will && p.Type() != codec.CONNECT) {
		return false
	}
	*props = codec.Properties{}
	return true
}

// packetBytes removes runs of bytes from a packet's body, halving the run
// length down to one byte; the Remaining Length is recomputed when the
// original one matched the body, and kept as it was otherwise (it may be
// what the finding is about).
func (m *minimizer) packetBytes(s Session, i int) Session {
	fh, err := codec.ParseFixedHeader(s[i], codec.V311)
	if err != nil || len(s[i]) <= fh.Size {
		return s
	}
	fixLength := fh.Size+fh.Remaining == len(s[i])
	rebuild := func(head, body []byte) []byte {
		if fixLength {
			return framed(head[0], codec.AppendVarint(nil, len(body)), body)
		}
		return append(append([]byte(nil), head...), body...)
	}
	for run := (len(s[i]) - fh.Size) / 2; run >= 1 && m.checks < m.budget; run /= 2 {
		for at := 0; ; {
			head, body := s[i][:fh.Size], s[i][fh.Size:]
			if at+run > len(body) || m.checks >= m.budget {
				break
			}
			cut := append(append([]byte(nil), body[:at]...), body[at+run:]...)
			if c := with(s, i, rebuild(head, cut)); m.try(c) {
				s = c
				if fixLength {
					fh, _ = codec.ParseFixedHeader(s[i], codec.V311)
				}
				continue
			}
			at += run
		}
	}
	return s
}
