package pcap

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"mqttspec/codec"
)

// maxTopics bounds the per-topic table so a capture with endless distinct
// topics keeps memory flat; the rest is counted as other.
const maxTopics = 10000

// Summary accumulates the statistics `pcap dump --stats` prints.
type Summary struct {
	Packets     int
	Bytes       int64 // MQTT bytes, fixed headers included
	Types       [16]int
	QoS         [4]int // PUBLISH per QoS; [3] is the invalid QoS 3
	Retained    int
	MinSize     int
	MaxSize     int
	SizeBuckets [len(sizeBounds) + 1]int
	Undecodable int
	Damaged     int // Damaged events
	Lost        int64
	Discarded   int64
	Encrypted   int
	Clients     map[string]*ClientSummary
	Topics      map[string]*int
	OtherTopics int // PUBLISHes whose topic did not fit the table
	Violations  map[string]*ViolationSummary

	byConn map[*Conn]connClient // open connections, to find their client fast
	// The last connection and topic seen: packets come in runs of one
	// connection and one topic, and a comparison costs less than a lookup.
	lastConn  *Conn
	lastCC    connClient
	lastTopic []byte
	lastCount *int
}

type connClient struct {
	id string
	c  *ClientSummary
}

// sizeBounds are the upper ends of the packet size histogram buckets.
var sizeBounds = [...]int{16, 128, 1024, 16 << 10, 256 << 10}

// ClientSummary counts one client's traffic across its connections.
type ClientSummary struct {
	Connections int
	Sent        int // packets from the client
	Received    int // packets to the client
	Published   int // PUBLISH sent
	Delivered   int // PUBLISH received
}

// ViolationSummary counts one broken rule (or decode error kind).
type ViolationSummary struct {
	Count   int
	Example string // the first occurrence, as the codec words it
}

// NewSummary returns an empty Summary.
func NewSummary() *Summary {
	return &Summary{Clients: map[string]*ClientSummary{}, Topics: map[string]*int{},
		Violations: map[string]*ViolationSummary{}, byConn: map[*Conn]connClient{}}
}

// clientKey names a connection's client: its identifier, or its address
// when the CONNECT was not captured or the identifier is empty.
func clientKey(c *Conn) string {
	if c.ClientID != "" {
		return c.ClientID
	}
	return "(" + c.Client.String() + ")"
}

// Message adds one packet.
func (s *Summary) Message(m *Message) {
	s.Packets++
	n := len(m.Raw)
	s.Bytes += int64(n)
	if s.Packets == 1 || n < s.MinSize {
		s.MinSize = n
	}
	s.MaxSize = max(s.MaxSize, n)
	b := 0
	for b < len(sizeBounds) && n > sizeBounds[b] {
		b++
	}
	s.SizeBuckets[b]++
	s.Types[m.Type&0x0f]++

	cc, ok := s.lastCC, m.Conn == s.lastConn
	if !ok {
		cc, ok = s.byConn[m.Conn]
	}
	if !ok || cc.id != m.Conn.ClientID {
		key := clientKey(m.Conn)
		cc = connClient{id: m.Conn.ClientID, c: s.Clients[key]}
		if cc.c == nil {
			cc.c = &ClientSummary{}
			s.Clients[key] = cc.c
		}
		cc.c.Connections++
		s.byConn[m.Conn] = cc
	}
	s.lastConn, s.lastCC = m.Conn, cc
	c := cc.c
	pub, _ := m.Packet.(*codec.Publish)
	if m.Dir == ClientToBroker {
		c.Sent++
		if pub != nil {
			c.Published++
		}
	} else {
		c.Received++
		if pub != nil {
			c.Delivered++
		}
	}
	if pub != nil {
		s.QoS[pub.QoS&3]++
		if pub.Retain {
			s.Retained++
		}
		if s.lastCount != nil && string(pub.Topic) == string(s.lastTopic) {
			*s.lastCount++
		} else if t := s.Topics[string(pub.Topic)]; t != nil {
			*t++
			s.lastTopic, s.lastCount = append(s.lastTopic[:0], pub.Topic...), t
		} else if len(s.Topics) < maxTopics {
			one := 1
			s.Topics[string(pub.Topic)] = &one
			s.lastTopic, s.lastCount = append(s.lastTopic[:0], pub.Topic...), &one
		} else {
			s.OtherTopics++
		}
	}
	if m.Err != nil {
		s.Undecodable++
		s.violation(m.Type, m.Err)
	}
	for _, v := range m.Violations {
		s.violation(m.Type, v)
	}
}

func (s *Summary) violation(t codec.Type, err error) {
	key := ""
	if e, ok := codec.AsError(err); ok {
		key = e.Rule
		if key == "" {
			key = t.String() + " " + e.Field
		}
	} else {
		key = t.String() + " undecodable"
	}
	v := s.Violations[key]
	if v == nil {
		v = &ViolationSummary{Example: err.Error()}
		s.Violations[key] = v
	}
	v.Count++
}

// Event adds one connection event.
func (s *Summary) Event(e *StreamEvent) {
	switch e.Kind {
	case Damaged:
		s.Damaged++
		s.Lost += int64(e.Lost)
		s.Discarded += int64(e.Discarded)
	case Encrypted:
		s.Encrypted++
	case Closed:
		delete(s.byConn, e.Conn)
		if s.lastConn == e.Conn {
			s.lastConn, s.lastCC = nil, connClient{}
		}
	}
}

// top returns the n keys of m with the highest counts, ties by name.
func top[V any](m map[string]V, count func(V) int, n int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if d := count(m[b]) - count(m[a]); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return keys[:min(n, len(keys))]
}

func sizeText(n int64) string {
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 10<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// WriteText prints the summary with the reader's stats; topN bounds the
// client and topic tables.
func (s *Summary) WriteText(w io.Writer, st Stats, topN int) error {
	var b strings.Builder
	span := st.Last.Sub(st.First)
	fmt.Fprintf(&b, "capture      %d records, %s, %s; %d TCP connections, %d MQTT (%d over WebSocket), %d TLS\n",
		st.Records, sizeText(st.Bytes), span.Round(time.Millisecond), st.Connections, st.MQTTConnections,
		st.WebSocketConnections, st.TLSConnections)
	if st.NotTCP+st.Fragments+st.Malformed+st.UnknownLink+st.Truncated > 0 {
		fmt.Fprintf(&b, "skipped      %d not TCP, %d IP fragments, %d malformed, %d unknown link type; %d cut by the snap length\n",
			st.NotTCP, st.Fragments, st.Malformed, st.UnknownLink, st.Truncated)
	}
	fmt.Fprintf(&b, "packets      %d, %s of MQTT\n", s.Packets, sizeText(s.Bytes))
	b.WriteString("types       ")
	for t, n := range s.Types {
		if n > 0 {
			fmt.Fprintf(&b, " %s %d", codec.Type(t), n)
		}
	}
	fmt.Fprintf(&b, "\nQoS          0: %d  1: %d  2: %d", s.QoS[0], s.QoS[1], s.QoS[2])
	if s.QoS[3] > 0 {
		fmt.Fprintf(&b, "  3 (invalid): %d", s.QoS[3])
	}
	fmt.Fprintf(&b, "  retained: %d\n", s.Retained)
	if s.Packets > 0 {
		fmt.Fprintf(&b, "sizes        min %s, mean %s, max %s;", sizeText(int64(s.MinSize)),
			sizeText(s.Bytes/int64(s.Packets)), sizeText(int64(s.MaxSize)))
		for i, n := range s.SizeBuckets {
			if i < len(sizeBounds) {
				fmt.Fprintf(&b, " <=%s: %d", sizeText(int64(sizeBounds[i])), n)
			} else {
				fmt.Fprintf(&b, " more: %d", n)
			}
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "clients      %d (top %d by packets)\n", len(s.Clients), min(topN, len(s.Clients)))
	for _, k := range top(s.Clients, func(c *ClientSummary) int { return c.Sent + c.Received }, topN) {
		c := s.Clients[k]
		fmt.Fprintf(&b, "  %-32q sent %d, received %d, published %d, delivered %d, connections %d\n",
			k, c.Sent, c.Received, c.Published, c.Delivered, c.Connections)
	}
	fmt.Fprintf(&b, "topics       %d (top %d by PUBLISH count)", len(s.Topics), min(topN, len(s.Topics)))
	if s.OtherTopics > 0 {
		fmt.Fprintf(&b, "; %d more PUBLISHes on topics beyond the first %d", s.OtherTopics, maxTopics)
	}
	b.WriteByte('\n')
	for _, k := range top(s.Topics, func(n *int) int { return *n }, topN) {
		fmt.Fprintf(&b, "  %-32q %d\n", k, *s.Topics[k])
	}
	fmt.Fprintf(&b, "violations   %d kinds; undecodable packets: %d\n", len(s.Violations), s.Undecodable)
	for _, k := range top(s.Violations, func(v *ViolationSummary) int { return v.Count }, len(s.Violations)) {
		v := s.Violations[k]
		fmt.Fprintf(&b, "  %-16s %d  e.g. %s\n", k, v.Count, v.Example)
	}
	fmt.Fprintf(&b, "damage       %d damaged stream directions, %d events: %s lost in gaps, %s skipped to resynchronize\n",
		st.DamagedStreams, s.Damaged, sizeText(s.Lost), sizeText(s.Discarded))
	_, err := io.WriteString(w, b.String())
	return err
}
