package conformance

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"mqttspec/codec"
)

// Level is the strength of the requirement a case checks.
type Level string

const (
	MUST   Level = "MUST"
	SHOULD Level = "SHOULD"
	MAY    Level = "MAY"
)

// Case is one scripted test: a requirement in our own words, the statements
// it traces to, and the steps that probe the broker for it.
type Case struct {
	ID          string
	Title       string
	Section     string // spec section, e.g. "3.3"
	SectionName string
	Versions    []codec.Version
	Statements  map[codec.Version][]string
	Level       Level
	Tags        []string
	Description string
	Requires    []string // capabilities; missing ones skip the case
	Faults      []string // fault specs under which this case must fail (self-test)
	Timeout     time.Duration
	Steps       []Step
	File        string
	Line        int
	Source      string // the case's script text, for reports
}

// StatementsFor lists the statement IDs the case checks in version v.
func (c *Case) StatementsFor(v codec.Version) []string { return c.Statements[v] }

// HasVersion reports whether the case runs for v.
func (c *Case) HasVersion(v codec.Version) bool {
	for _, x := range c.Versions {
		if x == v {
			return true
		}
	}
	return false
}

// Op is what a step does.
type Op string

const (
	OpOpen          Op = "open"
	OpConnect       Op = "connect"
	OpSend          Op = "send"
	OpSendHex       Op = "send-hex"
	OpExpect        Op = "expect"
	OpExpectUnorder Op = "expect-unordered"
	OpExpectOne     Op = "expect-one"
	OpFind          Op = "find"
	OpExpectNone    Op = "expect-none"
	OpExpectClose   Op = "expect-close"
	OpDisconnect    Op = "disconnect"
	OpClose         Op = "close"
	OpWait          Op = "wait"
	OpRepeat        Op = "repeat"
)

// Step is one line (plus continuation lines) of a case body.
type Step struct {
	Op       Op
	Conn     string
	Conns    []string      // expect-one: every connection that may receive
	Within   time.Duration // 0 = the case default
	Packet   string        // notation for send/connect/disconnect (before variable substitution)
	Hex      string        // send-hex
	Patterns []*Pattern    // expect alternatives, expect-unordered set, expect-none filter, connect's CONNACK
	Reasons  []codec.ReasonCode
	Closed   bool          // connect ... -> closed: the broker must refuse the CONNECT
	Count    string        // repeat: a number or $var[+-N]
	Body     []Step        // repeat: the steps repeated, with $i = 1..Count
	Only     codec.Version // @5.0 / @3.1.1 prefix; 0 = every version
	Line     int
	Text     string
}

// SyntaxError locates a script error as file:line:col.
type SyntaxError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

var (
	caseIDRe   = lazyRegexp(`^[a-z0-9][a-z0-9.\-]*$`)
	connNameRe = lazyRegexp(`^[a-z][a-z0-9]{0,7}$`)
	capNameRe  = lazyRegexp(`^!?[a-z][a-z0-9\-]*([<>!]?=?[0-9]+)?$`)
)

// lazyRegexp compiles on first use: commands that never read a script
// should not pay for it at start-up.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// Untestable records a server-side statement no network test can observe,
// and why, so coverage reports it honestly instead of as missing.
type Untestable struct {
	ID      string
	Version codec.Version
	Reason  string
	File    string
	Line    int
}

// ParseScript reads a suite file. name is used in error positions.
func ParseScript(name, src string) ([]*Case, error) {
	cases, _, err := parseScript(name, src)
	return cases, err
}

func parseScript(name, src string) ([]*Case, []Untestable, error) {
	p := scriptParser{file: name, lines: strings.Split(src, "\n")}
	cases, err := p.parse()
	return cases, p.untestable, err
}

type scriptParser struct {
	file       string
	lines      []string
	section    string
	secName    string
	untestable []Untestable
}

func (p *scriptParser) errf(line, col int, format string, a ...any) error {
	return &SyntaxError{File: p.file, Line: line, Col: col, Msg: fmt.Sprintf(format, a...)}
}

// unquoted calls f with each index of s that lies outside double-quoted
// strings (whose backslash escapes are skipped), until f returns false.
func unquoted(s string, f func(i int) bool) {
	in := false
	for i := 0; i < len(s); i++ {
		switch {
		case in && s[i] == '\\':
			i++
		case s[i] == '"':
			in = !in
		case !in && !f(i):
			return
		}
	}
}

// stripComment removes a # comment that is not inside a quoted string.
func stripComment(s string) string {
	end := len(s)
	unquoted(s, func(i int) bool {
		if s[i] == '#' {
			end = i
			return false
		}
		return true
	})
	return s[:end]
}

func indentOf(s string) int { return len(s) - len(strings.TrimLeft(s, " \t")) }

func (p *scriptParser) parse() ([]*Case, error) {
	var cases []*Case
	var cur *Case
	var startLine int
	for i := 0; i < len(p.lines); i++ {
		ln := i + 1
		raw := p.lines[i]
		line := strings.TrimSpace(stripComment(raw))
		if line == "" {
			continue
		}
		word, rest := cut(line)
		col := indentOf(raw) + 1
		if cur == nil {
			switch word {
			case "section":
				num, name := cut(rest)
				if num == "" {
					return nil, p.errf(ln, col, "section needs a number and a title: section 3.3 PUBLISH")
				}
				p.section, p.secName = num, name
			case "untestable", "untestable@3.1.1", "untestable@5.0":
				id, reason := cut(rest)
				if !strings.HasPrefix(id, "MQTT-") || reason == "" {
					return nil, p.errf(ln, col, "untestable needs a statement ID and the reason it cannot be tested over the network")
				}
				vs := []codec.Version{codec.V311, codec.V5}
				if _, at, ok := strings.Cut(word, "@"); ok {
					v, _ := codec.ParseVersion(at)
					vs = []codec.Version{v}
				}
				for _, v := range vs {
					p.untestable = append(p.untestable, Untestable{ID: id, Version: v, Reason: reason, File: p.file, Line: ln})
				}
			case "case":
				if !caseIDRe().MatchString(rest) {
					return nil, p.errf(ln, col+5, "case ID %q must be lower-case letters, digits, '.' and '-'", rest)
				}
				cur = &Case{ID: rest, Section: p.section, SectionName: p.secName, Level: MUST,
					Statements: map[codec.Version][]string{}, File: p.file, Line: ln}
				startLine = i
			default:
				return nil, p.errf(ln, col, "expected 'case ID', 'section N TITLE' or 'untestable[@V] ID REASON', found %q", word)
			}
			continue
		}
		if word == "end" && rest == "" {
			cur.Source = strings.Join(p.lines[startLine:i+1], "\n")
			if err := p.finish(cur); err != nil {
				return nil, err
			}
			cases = append(cases, cur)
			cur = nil
			continue
		}
		if strings.HasPrefix(line, "|") {
			return nil, p.errf(ln, col, "continuation line '|' must follow expect, expect-unordered or connect")
		}
		// Gather continuation lines that start with '|'.
		var alts []contLine
		for i+1 < len(p.lines) {
			next := strings.TrimSpace(stripComment(p.lines[i+1]))
			if !strings.HasPrefix(next, "|") {
				if next == "" && i+2 < len(p.lines) && strings.HasPrefix(strings.TrimSpace(p.lines[i+2]), "|") {
					i++
					continue
				}
				break
			}
			i++
			body := strings.TrimPrefix(next, "||") // "|| PATTERN" reads as an alternative too
			if len(body) == len(next) {
				body = next[1:]
			}
			alts = append(alts, contLine{line: i + 1, col: indentOf(p.lines[i]) + 2, text: strings.TrimSpace(body)})
		}
		if err := p.caseLine(cur, ln, col, word, rest, alts); err != nil {
			return nil, err
		}
	}
	if cur != nil {
		return nil, p.errf(cur.Line, 1, "case %s has no 'end'", cur.ID)
	}
	return cases, nil
}

type contLine struct {
	line, col int
	text      string
}

func cut(s string) (string, string) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], strings.TrimSpace(s[i+1:])
	}
	return s, ""
}

func (p *scriptParser) caseLine(c *Case, ln, col int, word, rest string, alts []contLine) error {
	if len(alts) > 0 && word != "expect" && word != "expect-unordered" && word != "repeat" && !strings.HasPrefix(word, "@") {
		return p.errf(alts[0].line, alts[0].col, "continuation lines only follow expect, expect-unordered and repeat")
	}
	header := len(c.Steps) == 0
	switch {
	case word == "title" && header:
		c.Title = rest
	case word == "describe" && header:
		c.Description = rest
	case word == "versions" && header:
		for _, f := range strings.Fields(rest) {
			v, ok := codec.ParseVersion(f)
			if !ok {
				return p.errf(ln, col, "unknown MQTT version %q (use 3.1, 3.1.1 or 5.0)", f)
			}
			c.Versions = append(c.Versions, v)
		}
	case (word == "statements" || strings.HasPrefix(word, "statements@")) && header:
		vs := c.Versions
		if at := strings.IndexByte(word, '@'); at >= 0 {
			v, ok := codec.ParseVersion(word[at+1:])
			if !ok {
				return p.errf(ln, col, "unknown MQTT version in %q", word)
			}
			vs = []codec.Version{v}
		}
		if len(vs) == 0 {
			return p.errf(ln, col, "put 'versions' before 'statements'")
		}
		for _, id := range strings.Fields(rest) {
			for _, v := range vs {
				c.Statements[v] = append(c.Statements[v], id)
			}
		}
	case word == "level" && header:
		switch Level(rest) {
		case MUST, SHOULD, MAY:
			c.Level = Level(rest)
		default:
			return p.errf(ln, col, "level must be MUST, SHOULD or MAY, not %q", rest)
		}
	case word == "tags" && header:
		c.Tags = append(c.Tags, strings.Fields(rest)...)
	case word == "require" && header:
		for _, f := range strings.Fields(rest) {
			if !capNameRe().MatchString(f) {
				return p.errf(ln, col, "bad capability name %q", f)
			}
			c.Requires = append(c.Requires, f)
		}
	case word == "fault" && header:
		if _, err := ParseFault(rest); err != nil {
			return p.errf(ln, col+6, "%v", err)
		}
		c.Faults = append(c.Faults, rest)
	case word == "timeout" && header:
		d, err := time.ParseDuration(rest)
		if err != nil || d <= 0 {
			return p.errf(ln, col, "timeout needs a duration such as 3s, not %q", rest)
		}
		c.Timeout = d
	default:
		st, err := p.step(c, ln, col, word, rest, alts)
		if err != nil {
			return err
		}
		c.Steps = append(c.Steps, st)
	}
	return nil
}

func (p *scriptParser) step(c *Case, ln, col int, word, rest string, alts []contLine) (Step, error) {
	st := Step{Line: ln, Text: strings.TrimSpace(word + " " + rest)}
	if strings.HasPrefix(word, "@") {
		v, ok := codec.ParseVersion(word[1:])
		if !ok {
			return st, p.errf(ln, col, "unknown version prefix %q (use @3.1.1 or @5.0)", word)
		}
		inner, err := p.step(c, ln, col+len(word)+1, firstWord(rest), restWords(rest), alts)
		inner.Only = v
		return inner, err
	}
	st.Op = Op(word)
	switch st.Op {
	case OpExpectOne:
		for {
			w, after := cut(rest)
			if w == "within" || !connNameRe().MatchString(w) {
				break
			}
			st.Conns, rest = append(st.Conns, w), after
		}
		if len(st.Conns) < 2 {
			return st, p.errf(ln, col, "expect-one needs two or more connection names, then the pattern")
		}
		st.Conn = st.Conns[0]
		if w, after := cut(rest); w == "within" {
			d, tail := cut(after)
			dur, err := time.ParseDuration(d)
			if err != nil || dur <= 0 {
				return st, p.errf(ln, col, "within needs a duration such as 500ms, not %q", d)
			}
			st.Within, rest = dur, tail
		}
		pt, err := ParsePattern(rest)
		if err != nil {
			return st, p.errAtPattern(ln, col, rest, err)
		}
		st.Patterns = []*Pattern{pt}
		return st, nil
	case OpOpen, OpConnect, OpSend, OpSendHex, OpExpect, OpExpectUnorder, OpExpectNone, OpExpectClose, OpDisconnect, OpClose, OpFind:
		conn, after := cut(rest)
		if !connNameRe().MatchString(conn) {
			return st, p.errf(ln, col+len(word)+1, "%s needs a connection name (a-z, 0-9, up to 8 chars), found %q", word, conn)
		}
		st.Conn, rest = conn, after
		if w, after := cut(rest); w == "within" {
			d, tail := cut(after)
			dur, err := time.ParseDuration(d)
			if err != nil || dur <= 0 {
				return st, p.errf(ln, col, "within needs a duration such as 500ms, not %q", d)
			}
			st.Within, rest = dur, tail
		}
	case OpRepeat:
		if rest == "" || len(alts) == 0 {
			return st, p.errf(ln, col, "repeat needs a count and '|' lines with the steps to repeat")
		}
		st.Count = rest
		if _, ok := (&vars{placeholder: true}).number(rest); !ok {
			return st, p.errf(ln, col+7, "repeat count must be a number or $var, $var+N, $var-N, found %q", rest)
		}
		for _, a := range alts {
			w, r := cut(a.text)
			inner, err := p.step(c, a.line, a.col, w, r, nil)
			if err != nil {
				return st, err
			}
			if inner.Op == OpRepeat {
				return st, p.errf(a.line, a.col, "repeat blocks do not nest")
			}
			st.Body = append(st.Body, inner)
		}
		return st, nil
	case OpWait:
		d, err := time.ParseDuration(rest)
		if err != nil || d < 0 {
			return st, p.errf(ln, col, "wait needs a duration such as 1.5s, not %q", rest)
		}
		st.Within = d
		return st, nil
	default:
		return st, p.errf(ln, col, "unknown step %q (open, connect, send, send-hex, expect, expect-unordered, expect-one, expect-none, expect-close, find, disconnect, close, wait, repeat)", word)
	}
	switch st.Op {
	case OpOpen, OpClose:
		if rest != "" {
			return st, p.errf(ln, col, "%s takes only a connection name", word)
		}
	case OpConnect:
		pkt, pat, _ := strings.Cut(rest, "->")
		pkt, pat = strings.TrimSpace(pkt), strings.TrimSpace(pat)
		if pkt != "" && !strings.HasPrefix(pkt, "CONNECT") {
			return st, p.errf(ln, col, "connect takes an optional CONNECT packet, found %q", pkt)
		}
		st.Packet = pkt
		if pat == "" {
			pat = "CONNACK reason=success"
		}
		if w, r := cut(pat); w == "closed" {
			st.Closed = true
			var err error
			if st.Reasons, err = parseReasons(r); err != nil {
				return st, p.errf(ln, col, "%v", err)
			}
			if err := checkNotation(pkt); pkt != "" && err != nil {
				return st, p.errf(ln, col, "%v", err)
			}
			return st, nil
		}
		pt, err := ParsePattern(pat)
		if err != nil {
			return st, p.errAtPattern(ln, col, pat, err)
		}
		st.Patterns = []*Pattern{pt}
		if err := checkNotation(pkt); pkt != "" && err != nil {
			return st, p.errf(ln, col, "%v", err)
		}
	case OpSend, OpDisconnect:
		if st.Op == OpDisconnect && rest == "" {
			rest = "DISCONNECT"
		}
		if err := checkNotation(rest); err != nil {
			return st, p.errf(ln, col+strings.Index(p.lines[ln-1], rest)-indentOf(p.lines[ln-1]), "%v", err)
		}
		st.Packet = rest
	case OpSendHex:
		h := strings.Join(strings.Fields(rest), "")
		if h == "" || len(h)%2 != 0 || strings.Trim(strings.ToLower(h), "0123456789abcdef") != "" {
			return st, p.errf(ln, col, "send-hex needs hex bytes such as 30 02 00 01")
		}
		st.Hex = h
	case OpExpect, OpExpectUnorder, OpExpectNone, OpFind:
		texts := []contLine{}
		if rest != "" {
			texts = append(texts, contLine{line: ln, col: col, text: rest})
		}
		texts = append(texts, alts...)
		if len(texts) == 0 && st.Op != OpExpectNone {
			return st, p.errf(ln, col, "%s needs a packet pattern", word)
		}
		for _, t := range texts {
			text, optional := strings.CutPrefix(t.text, "? ")
			if optional && st.Op != OpExpectUnorder {
				return st, p.errf(t.line, t.col, "optional '? PATTERN' lines belong to expect-unordered")
			}
			for _, alt := range splitAlternatives(text) {
				pt, err := ParsePattern(alt)
				if err != nil {
					return st, p.errAtPattern(t.line, t.col, alt, err)
				}
				pt.Optional = optional
				st.Patterns = append(st.Patterns, pt)
			}
		}
	case OpExpectClose:
		var err error
		if st.Reasons, err = parseReasons(rest); err != nil {
			return st, p.errf(ln, col, "%v", err)
		}
	}
	return st, nil
}

// parseReasons reads the optional "reason=NAME|NAME" of expect-close and
// connect ... -> closed.
func parseReasons(s string) ([]codec.ReasonCode, error) {
	if s == "" {
		return nil, nil
	}
	k, v, ok := strings.Cut(s, "=")
	if !ok || k != "reason" {
		return nil, fmt.Errorf("expected an optional reason=NAME|NAME, found %q", s)
	}
	var out []codec.ReasonCode
	for _, r := range strings.Split(v, "|") {
		tok := codec.WordToken(r)
		rc, err := codec.TokenReason(&tok)
		if err != nil {
			return nil, fmt.Errorf("unknown reason code %q", r)
		}
		out = append(out, rc)
	}
	return out, nil
}

// errAtPattern places a pattern's parse error at its column in the source line.
func (p *scriptParser) errAtPattern(ln, col int, pat string, err error) error {
	off := strings.Index(p.lines[ln-1], pat)
	if pe, ok := err.(*codec.ParseError); ok && off >= 0 {
		return p.errf(ln, off+pe.Col, "%s", pe.Msg)
	}
	return p.errf(ln, col, "%v", err)
}

func firstWord(s string) string { w, _ := cut(s); return w }
func restWords(s string) string { _, r := cut(s); return r }

// splitAlternatives splits "A || B" outside quoted strings.
func splitAlternatives(s string) []string {
	var out []string
	start := 0
	unquoted(s, func(i int) bool {
		if i >= start && s[i] == '|' && i+1 < len(s) && s[i+1] == '|' {
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 2
		}
		return true
	})
	return append(out, strings.TrimSpace(s[start:]))
}

// checkNotation parses a packet line with placeholder values for variables,
// so syntax errors surface when the suite loads rather than mid-run.
func checkNotation(s string) error {
	text, _ := splitFlags(substitute(s, &vars{placeholder: true}))
	_, err := codec.Parse(text)
	return err
}

// splitFlags takes a top-level `flags=N` field out of a send line: the
// fixed-header flag nibble to send instead of the packet's own (-1: none).
func splitFlags(s string) (string, int) {
	head, fields, err := codec.ParseFields(s)
	if err != nil {
		return s, -1
	}
	for i, f := range fields {
		if f.Name != "flags" || f.Kind != '=' {
			continue
		}
		n, err := strconv.ParseUint(f.Val.Text, 0, 4)
		if err != nil {
			return s, -1
		}
		rest := append(append([]codec.Field(nil), fields[:i]...), fields[i+1:]...)
		return strings.TrimSpace(head.Text + " " + renderFields(rest)), int(n)
	}
	return s, -1
}

func (p *scriptParser) finish(c *Case) error {
	if c.Title == "" {
		return p.errf(c.Line, 1, "case %s has no title", c.ID)
	}
	if len(c.Versions) == 0 {
		return p.errf(c.Line, 1, "case %s has no versions", c.ID)
	}
	if c.Description == "" {
		return p.errf(c.Line, 1, "case %s has no 'describe' line", c.ID)
	}
	if len(c.Steps) == 0 {
		return p.errf(c.Line, 1, "case %s has no steps", c.ID)
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	return nil
}
