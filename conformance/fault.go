package conformance

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mqttspec/codec"
)

// A Fault is a deliberate misbehaviour injected between the tester and a
// correct broker, to prove that a case notices when a broker breaks its
// rule: every case names at least one fault under which it must fail.
//
//	keep-open              the broker's close never reaches the client; its DISCONNECTs are swallowed
//	drop TYPE [N]          drop the broker's packets of TYPE (only the N-th when N is given)
//	dup TYPE               deliver each of the broker's packets of TYPE twice
//	set TYPE FIELDS        rewrite fields of the broker's packets of TYPE (notation; !field removes one)
//	drop-client TYPE [N]   the broker never sees the client's packets of TYPE
//	set-client TYPE FIELDS rewrite fields of the client's packets of TYPE before the broker sees them
//	close-after TYPE       close the connection right after the broker's first packet of TYPE
//	delay TYPE D           hold the broker's packets of TYPE for duration D
type Fault struct {
	Kind   string
	Type   codec.Type
	Nth    int
	Fields []codec.Field
	Delay  time.Duration
	Text   string
}

var faultKinds = "keep-open, drop, dup, set, drop-client, set-client, close-after, delay"

// ParseFault reads one fault spec.
func ParseFault(s string) (*Fault, error) {
	f := &Fault{Text: s}
	kind, rest := cut(s)
	f.Kind = kind
	if kind == "keep-open" {
		if rest != "" {
			return nil, fmt.Errorf("keep-open takes no arguments")
		}
		return f, nil
	}
	tname, rest := cut(rest)
	t, ok := codec.TypeByName(tname)
	if !ok {
		return nil, fmt.Errorf("fault %s needs a packet type, found %q", kind, tname)
	}
	f.Type = t
	switch kind {
	case "drop", "drop-client":
		if rest != "" {
			n, err := strconv.Atoi(rest)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%s %s: N must be a positive number, found %q", kind, tname, rest)
			}
			f.Nth = n
		}
	case "dup", "close-after":
		if rest != "" {
			return nil, fmt.Errorf("%s takes only a packet type", kind)
		}
	case "set", "set-client":
		_, fs, err := codec.ParseFields("X " + rest)
		if err != nil || len(fs) == 0 {
			return nil, fmt.Errorf("%s %s needs fields in notation, e.g. set PUBLISH retain qos=0: %v", kind, tname, err)
		}
		f.Fields = fs
	case "delay":
		d, err := time.ParseDuration(rest)
		if err != nil {
			return nil, fmt.Errorf("delay %s needs a duration: %v", tname, err)
		}
		f.Delay = d
	default:
		return nil, fmt.Errorf("unknown fault %q (%s)", kind, faultKinds)
	}
	return f, nil
}

// Proxy relays MQTT between clients and a target broker, injecting faults.
type Proxy struct {
	ln     net.Listener
	target *Target
	faults []*Fault
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed atomic.Bool
}

// StartProxy listens on 127.0.0.1 and relays each connection to target.
func StartProxy(target *Target, faults []*Fault) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, faults: faults, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// URL is the proxy's address as a tcp:// target.
func (p *Proxy) URL() string { return "tcp://" + p.ln.Addr().String() }

// Close stops the proxy and every relayed connection.
func (p *Proxy) Close() {
	p.closed.Store(true)
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) track(c net.Conn, on bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on && p.closed.Load() {
		return false
	}
	if on {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
	return true
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.relay(c)
		}()
	}
}

func (p *Proxy) relay(client net.Conn) {
	defer client.Close()
	if !p.track(client, true) {
		return
	}
	defer p.track(client, false)
	s, err := p.target.Dial(contextWithTimeout(5 * time.Second))
	if err != nil {
		return
	}
	defer s.Close()
	if !p.track(s, true) {
		return
	}
	defer p.track(s, false)
	var version atomic.Uint32
	version.Store(uint32(codec.V311))
	keepOpen := p.has("keep-open")
	done := make(chan struct{}, 2)
	go func() { // client -> broker
		p.pump(client, s, false, &version)
		if !keepOpen {
			s.Close()
		}
		done <- struct{}{}
	}()
	go func() { // broker -> client
		p.pump(s, client, true, &version)
		if !keepOpen {
			client.Close()
		}
		done <- struct{}{}
	}()
	<-done
	if keepOpen {
		// The broker went away but the client must not notice: hold the
		// client's side until the client itself leaves.
		_, _ = io.Copy(io.Discard, client)
	}
	client.Close()
	s.Close()
	<-done
}

func (p *Proxy) has(kind string) bool {
	for _, f := range p.faults {
		if f.Kind == kind {
			return true
		}
	}
	return false
}

// pump relays packets from src to dst, applying the faults that concern
// this direction. Bytes it cannot frame are relayed as they are.
func (p *Proxy) pump(src, dst net.Conn, fromBroker bool, version *atomic.Uint32) {
	r := codec.NewReader(src, 4096)
	r.Lenient = true
	seen := map[codec.Type]int{}
	for {
		r.Version = codec.Version(version.Load())
		fh, raw, err := r.ReadRaw()
		if err != nil {
			var ce *codec.Error
			if errors.As(err, &ce) {
				_, _ = io.Copy(dst, src)
			}
			return
		}
		if fh.Type == codec.CONNECT && !fromBroker {
			d := codec.Decoder{Lenient: true}
			if pk, _, err := d.Decode(raw); err == nil {
				version.Store(uint32(pk.(*codec.Connect).ProtocolLevel))
			}
		}
		seen[fh.Type]++
		out, closeAfter := p.apply(raw, fh.Type, seen[fh.Type], fromBroker, codec.Version(version.Load()))
		for _, b := range out {
			if _, err := dst.Write(b); err != nil {
				return
			}
		}
		if closeAfter {
			src.Close()
			dst.Close()
			return
		}
	}
}

func (p *Proxy) apply(raw []byte, t codec.Type, nth int, fromBroker bool, v codec.Version) ([][]byte, bool) {
	out := [][]byte{append([]byte(nil), raw...)}
	closeAfter := false
	for _, f := range p.faults {
		if f.Type != t {
			continue
		}
		switch {
		case f.Kind == "keep-open" && fromBroker && t == codec.DISCONNECT:
			return nil, false
		case (f.Kind == "drop" && fromBroker) || (f.Kind == "drop-client" && !fromBroker):
			if f.Nth == 0 || f.Nth == nth {
				return nil, false
			}
		case f.Kind == "dup" && fromBroker:
			out = append(out, out[0])
		case (f.Kind == "set" && fromBroker) || (f.Kind == "set-client" && !fromBroker):
			if b, err := rewrite(out[0], f.Fields, v); err == nil {
				for i := range out {
					out[i] = b
				}
			}
		case f.Kind == "close-after" && fromBroker:
			closeAfter = true
		case f.Kind == "delay" && fromBroker:
			time.Sleep(f.Delay)
		}
	}
	if t == codec.DISCONNECT && fromBroker && p.has("keep-open") {
		return nil, false
	}
	return out, closeAfter
}

// rewrite re-encodes a packet with some of its notation fields replaced.
func rewrite(raw []byte, set []codec.Field, v codec.Version) ([]byte, error) {
	d := codec.Decoder{Version: v, Lenient: true}
	pkt, _, err := d.Decode(raw)
	if err != nil {
		return nil, err
	}
	head, fields, err := codec.ParseFields(codec.Format(pkt))
	if err != nil {
		return nil, err
	}
	for _, s := range set {
		name, remove := strings.CutPrefix(s.Name, "!")
		kept := fields[:0]
		for _, f := range fields {
			if f.Name != name {
				kept = append(kept, f)
			}
		}
		fields = kept
		if !remove {
			fields = append(fields, s)
		}
	}
	np, err := codec.Parse(head.Text + " " + renderFields(fields))
	if err != nil {
		return nil, err
	}
	return np.Append(nil, v), nil
}

// renderFields writes a field tree back as notation.
func renderFields(fs []codec.Field) string {
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(' ')
		}
		if f.Name == "" {
			b.WriteString(tokText(f.Val))
			if f.Val2 != nil {
				b.WriteString("=" + tokText(f.Val2))
			}
			continue
		}
		b.WriteString(f.Name)
		switch f.Kind {
		case '=':
			b.WriteString("=" + tokText(f.Val))
		case '[':
			b.WriteString("=[")
			for j := range f.List {
				if j > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(tokText(&f.List[j]))
			}
			b.WriteByte(']')
		case '{':
			b.WriteString("{" + renderFields(f.Group) + "}")
		case '(':
			b.WriteString("(" + renderFields(f.Args) + ")")
		}
	}
	return b.String()
}
