package pcap

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"mqttspec/codec"
)

// FilterHelp describes the filter language; the CLI prints it.
const FilterHelp = `A filter selects packets. Tests combine with && (and), || (or), ! (not)
and parentheses. A test is FIELD OP VALUE, or a FIELD alone (true when set).
  OP:     ==  !=  <  <=  >  >=  (numbers and strings)   ~  !~  (Go regular expression)
  VALUE:  a number, a "quoted string", or a bare word such as PUBLISH, c2b, a/b
Fields:
  type       packet type: CONNECT, PUBLISH, ...
  dir        c2b (client to broker) or b2c
  topic      PUBLISH topic; for SUBSCRIBE and UNSUBSCRIBE any of the filters
  payload    PUBLISH payload (as text)
  qos        PUBLISH QoS; the highest requested QoS of a SUBSCRIBE
  retain     PUBLISH retain flag          dup   PUBLISH dup flag
  id         packet identifier            size  bytes of the whole packet
  client     client identifier from the connection's CONNECT
  addr       client address ip:port      broker  broker address ip:port
  conn       connection number           record  capture record number
  version    protocol version: 3.1, 3.1.1 or 5.0
  violation  statement ID of a violation or decode error, e.g. MQTT-3.3.1-4
  error      decode error text (alone: the packet could not be decoded)
Tests on a field a packet does not have are false, so !(qos>=1) keeps them.
Example: type==PUBLISH && topic~"^a/" && qos>=1 && dir==c2b`

// Filter is a compiled filter expression.
type Filter struct {
	src  string
	test func(m *Message) bool
}

// FilterError is a syntax error in a filter, with the 1-based column.
type FilterError struct {
	Col int
	Msg string
}

func (e *FilterError) Error() string { return "column " + strconv.Itoa(e.Col) + ": " + e.Msg }

// ParseFilter compiles a filter expression (see FilterHelp).
func ParseFilter(src string) (*Filter, error) {
	p := &filterParser{src: src}
	p.next()
	test, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEnd {
		return nil, p.errorf("unexpected " + p.tok.describe() + "; expected && or || or the end")
	}
	return &Filter{src: src, test: test}, nil
}

// Match reports whether m passes the filter.
func (f *Filter) Match(m *Message) bool { return f.test(m) }

func (f *Filter) String() string { return f.src }

type tokKind uint8

const (
	tokEnd tokKind = iota
	tokWord
	tokString
	tokOp
	tokLParen
	tokRParen
	tokBad
)

type token struct {
	kind tokKind
	text string // the word, the unquoted string, or the operator
	col  int
}

func (t token) describe() string {
	switch t.kind {
	case tokEnd:
		return "end of filter"
	case tokString:
		return strconv.Quote(t.text)
	}
	return "'" + t.text + "'"
}

type filterParser struct {
	src string
	pos int
	tok token
	err *FilterError
}

func (p *filterParser) errorf(msg string) *FilterError {
	if p.err != nil {
		return p.err
	}
	return &FilterError{Col: p.tok.col, Msg: msg}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("._-/:+#$[]*", c) >= 0
}

// next reads the next token into p.tok.
func (p *filterParser) next() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
	start := p.pos
	p.tok = token{col: start + 1}
	if p.pos >= len(p.src) {
		return
	}
	c := p.src[p.pos]
	switch {
	case c == '(':
		p.pos++
		p.tok.kind, p.tok.text = tokLParen, "("
	case c == ')':
		p.pos++
		p.tok.kind, p.tok.text = tokRParen, ")"
	case c == '"':
		end := p.pos + 1
		for end < len(p.src) && p.src[end] != '"' {
			if p.src[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(p.src) {
			p.tok.kind, p.tok.text = tokBad, p.src[start:]
			p.err = &FilterError{Col: start + 1, Msg: "string is not closed with \""}
			p.pos = len(p.src)
			return
		}
		s, err := strconv.Unquote(p.src[start : end+1])
		if err != nil {
			p.err = &FilterError{Col: start + 1, Msg: "bad string " + p.src[start:end+1]}
		}
		p.pos = end + 1
		p.tok.kind, p.tok.text = tokString, s
	case isWordByte(c):
		for p.pos < len(p.src) && isWordByte(p.src[p.pos]) {
			p.pos++
		}
		p.tok.kind, p.tok.text = tokWord, p.src[start:p.pos]
	default:
		for _, op := range []string{"&&", "||", "==", "!=", "<=", ">=", "!~", "<", ">", "~", "!", "="} {
			if strings.HasPrefix(p.src[p.pos:], op) {
				p.pos += len(op)
				p.tok.kind, p.tok.text = tokOp, op
				return
			}
		}
		p.pos++
		p.tok.kind, p.tok.text = tokBad, string(c)
	}
}

func (p *filterParser) or() (func(*Message) bool, error) {
	left, err := p.and()
	for err == nil && p.tok.kind == tokOp && p.tok.text == "||" {
		p.next()
		var right func(*Message) bool
		if right, err = p.and(); err == nil {
			l := left
			left = func(m *Message) bool { return l(m) || right(m) }
		}
	}
	return left, err
}

func (p *filterParser) and() (func(*Message) bool, error) {
	left, err := p.unary()
	for err == nil && p.tok.kind == tokOp && p.tok.text == "&&" {
		p.next()
		var right func(*Message) bool
		if right, err = p.unary(); err == nil {
			l := left
			left = func(m *Message) bool { return l(m) && right(m) }
		}
	}
	return left, err
}

func (p *filterParser) unary() (func(*Message) bool, error) {
	switch {
	case p.tok.kind == tokOp && p.tok.text == "!":
		p.next()
		inner, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(m *Message) bool { return !inner(m) }, nil
	case p.tok.kind == tokLParen:
		open := p.tok
		p.next()
		inner, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRParen {
			return nil, p.errorf("expected ')' to close the '(' at column " + strconv.Itoa(open.col) + ", found " + p.tok.describe())
		}
		p.next()
		return inner, nil
	case p.tok.kind == tokWord:
		return p.test()
	}
	return nil, p.errorf("expected a field name, '!' or '(', found " + p.tok.describe())
}

// field is one filter field: numeric fields give a number, string fields one
// or more strings; ok is false when the packet has no such field.
type field struct {
	num  func(m *Message) (int, bool)
	strs func(m *Message, each func([]byte) bool) bool // stops when each returns true; reports that
}

var fields = map[string]field{
	"type": {strs: one(func(m *Message) ([]byte, bool) { return []byte(m.Type.String()), true })},
	"dir":  {strs: one(func(m *Message) ([]byte, bool) { return []byte(m.Dir.String()), true })},
	"topic": {strs: func(m *Message, each func([]byte) bool) bool {
		switch p := m.Packet.(type) {
		case *codec.Publish:
			return each(p.Topic)
		case *codec.Subscribe:
			return slices.ContainsFunc(p.Subscriptions, func(s codec.Subscription) bool { return each(s.Filter) })
		case *codec.Unsubscribe:
			return slices.ContainsFunc(p.Filters, each)
		}
		return false
	}},
	"payload": {strs: one(func(m *Message) ([]byte, bool) {
		p, ok := m.Packet.(*codec.Publish)
		if !ok {
			return nil, false
		}
		return p.Payload, true
	})},
	"client":  {strs: one(func(m *Message) ([]byte, bool) { return []byte(m.Conn.ClientID), true })},
	"addr":    {strs: one(func(m *Message) ([]byte, bool) { return []byte(m.Conn.Client.String()), true })},
	"broker":  {strs: one(func(m *Message) ([]byte, bool) { return []byte(m.Conn.Broker.String()), true })},
	"version": {strs: one(func(m *Message) ([]byte, bool) { return []byte(m.Conn.Version.String()), m.Conn.Version != 0 })},
	"violation": {strs: func(m *Message, each func([]byte) bool) bool {
		if e, ok := codec.AsError(m.Err); ok && e.Rule != "" && each([]byte(e.Rule)) {
			return true
		}
		return slices.ContainsFunc(m.Violations, func(v *codec.Error) bool { return v.Rule != "" && each([]byte(v.Rule)) })
	}},
	"error": {strs: one(func(m *Message) ([]byte, bool) {
		if m.Err == nil {
			return nil, false
		}
		return []byte(m.Err.Error()), true
	})},
	"qos": {num: func(m *Message) (int, bool) {
		switch p := m.Packet.(type) {
		case *codec.Publish:
			return int(p.QoS), true
		case *codec.Subscribe:
			q := -1
			for _, s := range p.Subscriptions {
				q = max(q, int(s.QoS))
			}
			return q, q >= 0
		}
		return 0, false
	}},
	"retain": {num: publishFlag(func(p *codec.Publish) bool { return p.Retain })},
	"dup":    {num: publishFlag(func(p *codec.Publish) bool { return p.Dup })},
	"id": {num: func(m *Message) (int, bool) {
		switch p := m.Packet.(type) {
		case *codec.Publish:
			return int(p.PacketID), p.QoS > 0
		case *codec.Ack:
			return int(p.PacketID), true
		case *codec.Subscribe:
			return int(p.PacketID), true
		case *codec.Suback:
			return int(p.PacketID), true
		case *codec.Unsubscribe:
			return int(p.PacketID), true
		}
		return 0, false
	}},
	"size":   {num: func(m *Message) (int, bool) { return len(m.Raw), true }},
	"conn":   {num: func(m *Message) (int, bool) { return m.Conn.ID, true }},
	"record": {num: func(m *Message) (int, bool) { return m.Record, true }},
}

func one(get func(m *Message) ([]byte, bool)) func(*Message, func([]byte) bool) bool {
	return func(m *Message, each func([]byte) bool) bool {
		b, ok := get(m)
		return ok && each(b)
	}
}

func publishFlag(get func(*codec.Publish) bool) func(*Message) (int, bool) {
	return func(m *Message) (int, bool) {
		p, ok := m.Packet.(*codec.Publish)
		if !ok {
			return 0, false
		}
		if get(p) {
			return 1, true
		}
		return 0, true
	}
}

func fieldNames() string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// test parses FIELD [OP VALUE].
func (p *filterParser) test() (func(*Message) bool, error) {
	name := p.tok
	f, ok := fields[name.text]
	if !ok {
		return nil, p.errorf("unknown field " + strconv.Quote(name.text) + " (fields: " + fieldNames() + ")")
	}
	p.next()
	if p.tok.kind != tokOp || p.tok.text == "&&" || p.tok.text == "||" || p.tok.text == "!" {
		// A field alone: it is present and not zero or empty.
		if f.num != nil {
			return func(m *Message) bool { n, ok := f.num(m); return ok && n != 0 }, nil
		}
		return func(m *Message) bool {
			return f.strs(m, func(b []byte) bool { return len(b) > 0 })
		}, nil
	}
	op := p.tok
	if op.text == "=" {
		return nil, p.errorf("'=' is not an operator; use '=='")
	}
	p.next()
	val := p.tok
	if val.kind != tokWord && val.kind != tokString {
		return nil, p.errorf("expected a value after '" + op.text + "', found " + val.describe())
	}
	p.next()
	if op.text == "~" || op.text == "!~" {
		if f.strs == nil {
			return nil, &FilterError{Col: op.col, Msg: "'" + op.text + "' needs a text field; " + name.text + " is a number"}
		}
		re, err := regexp.Compile(val.text)
		if err != nil {
			return nil, &FilterError{Col: val.col, Msg: "bad regular expression: " + err.Error()}
		}
		match := func(m *Message) bool { return f.strs(m, re.Match) }
		if op.text == "!~" {
			return func(m *Message) bool { return !match(m) }, nil
		}
		return match, nil
	}
	if f.num != nil {
		return numTest(f.num, name, op, val)
	}
	return strTest(f.strs, name, op, val)
}

func numTest(get func(*Message) (int, bool), name, op, val token) (func(*Message) bool, error) {
	want, err := strconv.Atoi(val.text)
	switch val.text {
	case "true":
		want, err = 1, nil
	case "false":
		want, err = 0, nil
	}
	if err != nil {
		return nil, &FilterError{Col: val.col, Msg: name.text + " is a number; " + val.describe() + " is not"}
	}
	var cmp func(a int) bool
	switch op.text {
	case "==":
		cmp = func(a int) bool { return a == want }
	case "!=":
		cmp = func(a int) bool { return a != want }
	case "<":
		cmp = func(a int) bool { return a < want }
	case "<=":
		cmp = func(a int) bool { return a <= want }
	case ">":
		cmp = func(a int) bool { return a > want }
	case ">=":
		cmp = func(a int) bool { return a >= want }
	default:
		return nil, &FilterError{Col: op.col, Msg: "operator '" + op.text + "' does not apply to numbers"}
	}
	return func(m *Message) bool { n, ok := get(m); return ok && cmp(n) }, nil
}

func strTest(get func(*Message, func([]byte) bool) bool, name, op, val token) (func(*Message) bool, error) {
	want := []byte(val.text)
	switch name.text {
	case "type":
		t, ok := codec.TypeByName(strings.ToUpper(val.text))
		if !ok {
			return nil, &FilterError{Col: val.col, Msg: "unknown packet type " + val.describe()}
		}
		want = []byte(t.String())
	case "dir":
		if val.text != "c2b" && val.text != "b2c" {
			return nil, &FilterError{Col: val.col, Msg: "dir is c2b or b2c, not " + val.describe()}
		}
	}
	var cmp func(b []byte) bool
	switch op.text {
	case "==", "!=":
		cmp = func(b []byte) bool { return bytes.Equal(b, want) }
	case "<":
		cmp = func(b []byte) bool { return bytes.Compare(b, want) < 0 }
	case "<=":
		cmp = func(b []byte) bool { return bytes.Compare(b, want) <= 0 }
	case ">":
		cmp = func(b []byte) bool { return bytes.Compare(b, want) > 0 }
	case ">=":
		cmp = func(b []byte) bool { return bytes.Compare(b, want) >= 0 }
	default:
		return nil, &FilterError{Col: op.col, Msg: "operator '" + op.text + "' does not apply to " + name.text}
	}
	if op.text == "!=" {
		return func(m *Message) bool { return !get(m, cmp) }, nil
	}
	return func(m *Message) bool { return get(m, cmp) }, nil
}
