package conformance

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"mqttspec/codec"
)

// Pattern is an expected packet in the codec's notation where fields left
// out match anything, `*` matches any value, `$name` captures a value (or
// compares with it once bound), `a|b` accepts either value, `!field`
// requires the field's absence, and the word `closed` stands for the
// connection being closed by the broker.
type Pattern struct {
	Text     string
	Closed   bool
	Optional bool // "? PATTERN" in expect-unordered: may match at most one packet, need not
	Type     codec.Type
	Fields   []codec.Field
}

func (p *Pattern) String() string { return p.Text }

// ParsePattern reads one expected-packet pattern.
func ParsePattern(s string) (*Pattern, error) {
	s = strings.TrimSpace(s)
	if s == "closed" {
		return &Pattern{Text: s, Closed: true}, nil
	}
	head, fields, err := codec.ParseFields(s)
	if err != nil {
		return nil, err
	}
	t, ok := codec.TypeByName(head.Text)
	if !ok {
		return nil, &codec.ParseError{Col: head.Pos + 1, Msg: "unknown packet type " + strconv.Quote(head.Text) + " (or 'closed')"}
	}
	if err := checkPatternFields(t, fields, ""); err != nil {
		return nil, err
	}
	return &Pattern{Text: s, Type: t, Fields: fields}, nil
}

// fieldNames lists what each packet's notation may contain, so a typo in a
// pattern is a load error rather than a silently ignored field.
var fieldNames = map[codec.Type]string{
	codec.CONNACK:     "session-present ack-flags reason props",
	codec.PUBLISH:     "dup qos retain id topic props payload",
	codec.PUBACK:      "id reason props",
	codec.PUBREC:      "id reason props",
	codec.PUBREL:      "id reason props",
	codec.PUBCOMP:     "id reason props",
	codec.SUBSCRIBE:   "id props sub",
	codec.SUBACK:      "id props reasons",
	codec.UNSUBSCRIBE: "id props filter",
	codec.UNSUBACK:    "id props reasons",
	codec.PINGREQ:     "",
	codec.PINGRESP:    "",
	codec.DISCONNECT:  "reason props",
	codec.AUTH:        "reason props",
	codec.CONNECT:     "v proto client-id clean keepalive reserved username password will will-qos will-retain props",
}

func checkPatternFields(t codec.Type, fs []codec.Field, group string) error {
	for _, f := range fs {
		name := strings.TrimPrefix(f.Name, "!")
		if group == "props" {
			if name == "user" {
				continue
			}
			if _, ok := codec.PropByName(name); !ok {
				return &codec.ParseError{Col: f.Pos + 1, Msg: "unknown property " + strconv.Quote(name)}
			}
			continue
		}
		if group == "will" || (group == "" && name == "ordered" && f.Kind == 0) {
			continue
		}
		if !strings.Contains(" "+fieldNames[t]+" ", " "+name+" ") {
			return &codec.ParseError{Col: f.Pos + 1, Msg: fmt.Sprintf("%s has no field %q (fields: %s)", t, name, fieldNames[t])}
		}
		if f.Kind == '{' {
			if err := checkPatternFields(t, f.Group, name); err != nil {
				return err
			}
		}
	}
	return nil
}

// defaults are the values a formatted packet leaves out.
var defaults = map[string]string{"qos": "0", "id": "0", "reason": "0", "rh": "0", "ack-flags": "0",
	"payload": `""`, "keepalive": "0"}

// repeated fields may occur several times; a pattern field matches any one.
var repeated = map[string]bool{"user": true, "subscription-id": true, "sub": true, "filter": true}

// matcher compares a pattern with a received packet and collects captures.
type matcher struct {
	vars     *vars
	captured map[string]codec.Token
	// ordered (the pattern word `ordered`) makes repeated fields match in
	// the order they are written, as a subsequence of the packet's.
	ordered bool
}

// match reports whether got fits p; why explains the first mismatch.
func (m *matcher) match(p *Pattern, got codec.Packet) (bool, string) {
	if p.Closed {
		return false, "expected the connection to be closed, got " + got.Type().String()
	}
	if got.Type() != p.Type {
		return false, fmt.Sprintf("expected %s, got %s", p.Type, got.Type())
	}
	_, gf, err := codec.ParseFields(codec.Format(got))
	if err != nil {
		return false, "cannot read back the received packet: " + err.Error()
	}
	m.captured = map[string]codec.Token{}
	want := p.Fields
	m.ordered = false
	for i, f := range want {
		if f.Name == "ordered" && f.Kind == 0 {
			m.ordered = true
			want = append(append([]codec.Field(nil), want[:i]...), want[i+1:]...)
			break
		}
	}
	if why := m.fields(want, gf, ""); why != "" {
		return false, why
	}
	for k, v := range m.captured {
		m.vars.m[k] = v
	}
	return true, ""
}

func (m *matcher) fields(want, got []codec.Field, path string) string {
	used := make([]bool, len(got))
	last := map[string]int{}
	for i := range want {
		w := &want[i]
		name, neg := strings.CutPrefix(w.Name, "!")
		full := path + name
		present, why := false, ""
		matched := -1
		for j := range got {
			g := &got[j]
			if g.Name != name || used[j] {
				continue
			}
			if at, ok := last[name]; m.ordered && repeated[name] && ok && j <= at {
				continue
			}
			present = true
			if neg && w.Kind == 0 {
				break
			}
			if r := m.field(w, g, full); r == "" {
				matched = j
				break
			} else if why == "" {
				why = r
			}
		}
		switch {
		case neg && w.Kind == 0 && present:
			return full + ": present but the pattern requires its absence"
		case neg && matched >= 0:
			return full + ": has the value the pattern excludes"
		case neg:
			continue
		case matched >= 0:
			if repeated[name] {
				used[matched] = true
				last[name] = matched
			}
			continue
		case present:
			return why
		}
		// Absent: formatted packets leave default values out.
		if def, ok := defaults[name]; ok && w.Kind == '=' {
			tok := codec.WordToken(def)
			if def == `""` {
				tok = codec.StringToken("")
			}
			g := codec.Field{Name: name, Kind: '=', Val: &tok}
			if r := m.field(w, &g, full); r == "" {
				continue
			} else {
				return r
			}
		}
		if w.Kind == '{' && m.fields(w.Group, nil, full+".") == "" {
			continue
		}
		return full + ": missing"
	}
	return ""
}

func (m *matcher) field(w, g *codec.Field, path string) string {
	switch w.Kind {
	case 0:
		if g.Kind != 0 {
			return path + ": expected a flag"
		}
		return ""
	case '=':
		if g.Kind != '=' {
			return path + ": has no value"
		}
		return m.value(w.Val, g.Val, path)
	case '[':
		if g.Kind != '[' {
			return path + ": expected a list"
		}
		if len(w.List) != len(g.List) {
			return fmt.Sprintf("%s: expected %d entries, got %d (%s)", path, len(w.List), len(g.List), listText(g.List))
		}
		for i := range w.List {
			if r := m.value(&w.List[i], &g.List[i], fmt.Sprintf("%s[%d]", path, i)); r != "" {
				return r + " in " + listText(g.List)
			}
		}
		return ""
	case '{':
		if g.Kind != '{' {
			return path + ": expected a group"
		}
		return m.fields(w.Group, g.Group, path+".")
	case '(':
		if g.Kind != '(' {
			return path + ": expected arguments"
		}
		return m.args(w.Args, g.Args, path)
	}
	return path + ": unsupported pattern"
}

func listText(l []codec.Token) string {
	parts := make([]string, len(l))
	for i, t := range l {
		parts[i] = t.Text
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// args matches sub("filter" qos=1 ...) and user("k"="v"): positional strings
// in order, then named fields.
func (m *matcher) args(want, got []codec.Field, path string) string {
	var wNamed, gNamed []codec.Field
	var wPos, gPos []codec.Field
	for _, a := range want {
		if a.Name == "" {
			wPos = append(wPos, a)
		} else {
			wNamed = append(wNamed, a)
		}
	}
	for _, a := range got {
		if a.Name == "" {
			gPos = append(gPos, a)
		} else {
			gNamed = append(gNamed, a)
		}
	}
	if len(wPos) > len(gPos) {
		return path + ": missing arguments"
	}
	for i := range wPos {
		if r := m.value(wPos[i].Val, gPos[i].Val, path); r != "" {
			return r
		}
		if wPos[i].Val2 != nil {
			if gPos[i].Val2 == nil {
				return path + ": expected a key=value pair"
			}
			if r := m.value(wPos[i].Val2, gPos[i].Val2, path); r != "" {
				return r
			}
		}
	}
	return m.fields(wNamed, gNamed, path+".")
}

// value compares one expected token with one received token.
func (m *matcher) value(w, g *codec.Token, path string) string {
	if !w.IsString() {
		if w.Text == "*" {
			return ""
		}
		if strings.HasPrefix(w.Text, "$") && len(w.Text) > 1 {
			name := w.Text[1:]
			if bound, ok := m.vars.m[name]; ok {
				if sameValue(path, &bound, g, m.vars) {
					return ""
				}
				return fmt.Sprintf("%s: expected %s (=%s), got %s", path, w.Text, tokText(&bound), tokText(g))
			}
			if prev, ok := m.captured[name]; ok && !sameValue(path, &prev, g, m.vars) {
				return fmt.Sprintf("%s: expected %s (=%s), got %s", path, w.Text, tokText(&prev), tokText(g))
			}
			m.captured[name] = *g
			return ""
		}
		if strings.Contains(w.Text, "|") {
			for _, alt := range strings.Split(w.Text, "|") {
				t := codec.WordToken(alt)
				if sameValue(path, &t, g, m.vars) {
					return ""
				}
			}
			return fmt.Sprintf("%s: expected one of %s, got %s", path, w.Text, tokText(g))
		}
	}
	if sameValue(path, w, g, m.vars) {
		return ""
	}
	return fmt.Sprintf("%s: expected %s, got %s", path, tokText(w), tokText(g))
}

func tokText(t *codec.Token) string {
	if t.IsString() {
		return strconv.Quote(t.Text)
	}
	return t.Text
}

// sameValue compares by meaning: reason codes by number, numbers by value,
// byte strings by content whatever their quoting.
func sameValue(path string, w, g *codec.Token, v *vars) bool {
	if strings.HasSuffix(path, "reason") || strings.Contains(path, "reasons[") {
		a, err1 := codec.TokenReason(w)
		b, err2 := codec.TokenReason(g)
		return err1 == nil && err2 == nil && a == b
	}
	if !w.IsString() && !g.IsString() {
		a, err1 := strconv.ParseUint(w.Text, 0, 64)
		b, err2 := strconv.ParseUint(g.Text, 0, 64)
		if err1 == nil && err2 == nil && !strings.HasPrefix(w.Text, "0x") == !strings.HasPrefix(g.Text, "0x") {
			return a == b
		}
		if err1 == nil && err2 == nil && !isDataField(path) {
			return a == b
		}
	}
	wt := *w
	if wt.IsString() {
		wt = codec.StringToken(expand(wt.Text, v))
	}
	a, err1 := codec.TokenBytes(&wt)
	b, err2 := codec.TokenBytes(g)
	if err1 == nil && err2 == nil {
		return bytes.Equal(a, b)
	}
	return w.Text == g.Text
}

// isDataField reports fields whose values are bytes (hex words are data).
func isDataField(path string) bool {
	for _, s := range []string{"payload", "correlation-data", "auth-data", "password", "topic", "client-id"} {
		if strings.HasSuffix(path, s) {
			return true
		}
	}
	return false
}

// expand replaces ${name} in an unquoted string with the variable's text.
func expand(s string, v *vars) string {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return s
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return s
		}
		val, ok := v.lookup(s[i+2 : i+end])
		if !ok {
			return s
		}
		s = s[:i] + val + s[i+end+1:]
	}
}
