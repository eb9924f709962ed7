package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"mqttspec/codec"
)

// Options configure a run.
type Options struct {
	Target         *Target
	Versions       []codec.Version // versions to test; empty = every version a case declares
	Run, Skip      *regexp.Regexp  // select cases by ID
	Tags           []string        // run only cases carrying one of these tags
	Parallel       int
	Username       string
	Password       string
	ClientIDPrefix string // default "ms"
	TopicPrefix    string // default "mqttspec"
	Timeout        time.Duration
	// Repeat runs each case this many times (default 1): a broker that
	// breaks a rule only now and then fails the case in some runs only.
	Repeat   int
	Profile  *Profile
	Caps     Capabilities // probed capabilities (Probe fills them)
	Progress func(r *Result)
}

// job is one case in one version.
type job struct {
	c *Case
	v codec.Version
}

// Select lists the (case, version) pairs the options ask for, in suite order.
func Select(cases []*Case, o *Options) []job {
	var out []job
	for _, c := range cases {
		if o.Run != nil && !o.Run.MatchString(c.ID) {
			continue
		}
		if o.Skip != nil && o.Skip.MatchString(c.ID) {
			continue
		}
		if len(o.Tags) > 0 && !anyTag(c.Tags, o.Tags) {
			continue
		}
		for _, v := range c.Versions {
			if len(o.Versions) > 0 && !hasVersion(o.Versions, v) {
				continue
			}
			out = append(out, job{c, v})
		}
	}
	return out
}

func anyTag(have, want []string) bool {
	for _, w := range want {
		for _, h := range have {
			if h == w {
				return true
			}
		}
	}
	return false
}

func hasVersion(vs []codec.Version, v codec.Version) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// Execute runs the selected cases against the target, in parallel, and
// returns every result in suite order.
func Execute(ctx context.Context, cases []*Case, o Options) []Result {
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.ClientIDPrefix == "" {
		o.ClientIDPrefix = "ms"
	}
	if o.TopicPrefix == "" {
		o.TopicPrefix = "mqttspec"
	}
	repeat := max(o.Repeat, 1)
	runID := randomID(4)
	jobs := Select(cases, &o)
	// runs[i*repeat+r] is the r-th run of job i.
	runs := make([]Result, len(jobs)*repeat)
	left := make([]int, len(jobs))
	for i := range left {
		left[i] = repeat
	}
	results := make([]Result, len(jobs))
	// Start the cases that must wait longest first, so they overlap with
	// the quick ones instead of trailing at the end of the run.
	order := make([]int, len(jobs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return jobs[order[a]].c.waiting() > jobs[order[b]].c.waiting() })
	var mu sync.Mutex
	forEach(ctx, len(runs), o.Parallel, func(k int) {
		i, r := order[k/repeat], k%repeat
		// Every run has client ids and topics of its own.
		cid := fmt.Sprintf("%s%s%d", o.ClientIDPrefix, runID, r*len(jobs)+i)
		runs[i*repeat+r] = runJob(ctx, jobs[i], &o, cid, runID)
		mu.Lock()
		defer mu.Unlock()
		if left[i]--; left[i] > 0 {
			return
		}
		results[i] = merge(runs[i*repeat : (i+1)*repeat])
		clear(runs[i*repeat : (i+1)*repeat]) // let the other runs' transcripts go
		if o.Progress != nil {
			o.Progress(&results[i])
		}
	})
	return results
}

// merge folds the runs of one case into its result: the first failed run,
// else the first that ended in an error, else the first. With more than one
// run, the result counts the failed ones and its reason says how many.
func merge(runs []Result) Result {
	pick, failed := 0, 0
	for k := range runs {
		switch o := runs[k].Outcome; {
		case o == Fail:
			if failed == 0 {
				pick = k
			}
			failed++
		case o == Error && failed == 0 && runs[pick].Outcome != Error:
			pick = k
		}
	}
	res := runs[pick]
	if len(runs) > 1 {
		res.Runs, res.FailedRuns = len(runs), failed
		if failed > 0 {
			res.Reason += fmt.Sprintf(" [failed in %d of %d runs]", failed, len(runs))
		}
	}
	return res
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// maxRepeat bounds a repeat block: suites stay small and fast.
const maxRepeat = 1000

// waiting estimates the time a case spends waiting by design: quiet
// windows, waits and closes the broker makes it wait for.
func (c *Case) waiting() time.Duration {
	var d time.Duration
	for _, st := range c.Steps {
		switch st.Op {
		case OpWait:
			d += st.Within
		case OpExpectNone:
			if st.Within == 0 {
				d += 500 * time.Millisecond
			}
			d += st.Within
		case OpExpectClose:
			d += st.Within / 2
		}
	}
	return d
}

// forEach calls f(0..n-1) from at most parallel goroutines, and stops
// handing out work once ctx is done.
func forEach(ctx context.Context, n, parallel int, f func(i int)) {
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				f(i)
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		select {
		case work <- i:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
}

// caseRun is the state of one case while it runs.
type caseRun struct {
	ctx      context.Context
	c        *Case
	v        codec.Version
	o        *Options
	vars     *vars
	conns    map[string]*conn
	start    time.Time
	res      *Result
	retained map[string]codec.Version // topics this case left a retained message on
	sessions map[string]codec.Version // client ids that may have left a session behind
}

func runJob(ctx context.Context, j job, o *Options, cid, runID string) Result {
	c, v := j.c, j.v
	res := Result{ID: c.ID, Title: c.Title, Version: v.String(), Section: c.Section, SectionName: c.SectionName,
		Statements: c.StatementsFor(v), Level: c.Level, Tags: c.Tags, Description: c.Description,
		Script: c.Source, File: c.File, Line: c.Line, Deviation: -1}
	if reason := skipReason(c, v, o); reason != "" {
		res.Outcome, res.Reason = Skip, reason
		return res
	}
	r := &caseRun{ctx: ctx, c: c, v: v, o: o, vars: newVars(), conns: map[string]*conn{}, start: time.Now(), res: &res,
		retained: map[string]codec.Version{}, sessions: map[string]codec.Version{}}
	r.vars.setString("t", o.TopicPrefix+"/"+runID+"/"+cid)
	r.vars.setString("cid", cid)
	for k, val := range o.Caps {
		r.vars.setWord("cap-"+k, val)
	}
	if o.Profile != nil {
		for k, val := range o.Profile.Vars {
			r.vars.setString(k, val)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	r.ctx = ctx
	res.Outcome = Pass
	for i := range c.Steps {
		st := &c.Steps[i]
		if st.Only != 0 && st.Only != v {
			continue
		}
		if ctx.Err() != nil {
			r.fail(-1, "", fmt.Sprintf("case timed out after %s at line %d", c.Timeout, st.Line))
			break
		}
		if !r.step(st) {
			break
		}
	}
	for _, cn := range r.conns {
		cn.close()
	}
	r.cleanup()
	res.Duration = time.Since(r.start)
	return res
}

func skipReason(c *Case, v codec.Version, o *Options) string {
	if o.Profile != nil {
		if why := o.Profile.skips(c.ID); why != "" {
			return "profile: " + why
		}
		if !o.Profile.speaks(v) {
			return "profile: the broker does not speak MQTT " + v.String()
		}
	}
	if !o.Caps.speaks(v) {
		return "the broker does not accept MQTT " + v.String() + " connections (probe)"
	}
	for _, need := range c.Requires {
		if ok, why := o.Caps.Satisfies(need, v); !ok {
			return why
		}
	}
	return ""
}

func (r *caseRun) since() time.Duration { return time.Since(r.start) }

func (r *caseRun) log(conn, dir, text, hexs, note string) int {
	r.res.Transcript = append(r.res.Transcript, Event{At: r.since(), Conn: conn, Dir: dir, Text: text, Hex: hexs, Note: note})
	return len(r.res.Transcript) - 1
}

func (r *caseRun) fail(at int, expected, reason string) bool {
	r.res.Outcome, r.res.Reason, r.res.Deviation, r.res.Expected = Fail, reason, at, expected
	return false
}

func (r *caseRun) errorf(format string, a ...any) bool {
	r.res.Outcome, r.res.Reason = Error, fmt.Sprintf(format, a...)
	return false
}

func (r *caseRun) within(st *Step, def time.Duration) time.Time {
	d := st.Within
	if d == 0 {
		d = def
	}
	return time.Now().Add(d)
}

// step runs one step; false stops the case.
func (r *caseRun) step(st *Step) bool {
	switch st.Op {
	case OpOpen:
		return r.open(st.Conn)
	case OpConnect:
		if cn, ok := r.conns[st.Conn]; !ok || cn.closed || cn.gone {
			if !r.open(st.Conn) {
				return false
			}
		}
		if !r.sendConnect(st) {
			return false
		}
		if st.Closed {
			return r.expectClose(st)
		}
		return r.expect(st, r.within(st, r.o.Timeout))
	case OpSend, OpDisconnect:
		cn, ok := r.conn(st)
		if !ok {
			return false
		}
		text, flags := splitFlags(substitute(st.Packet, r.vars))
		p, err := codec.Parse(text)
		if err != nil {
			return r.errorf("line %d: %v", st.Line, err)
		}
		if !r.sendFlags(cn, p, flags) {
			return false
		}
		if st.Op == OpDisconnect {
			time.Sleep(20 * time.Millisecond) // let the DISCONNECT leave before the FIN
			cn.close()
			r.log(cn.name, "close", "closed by the tester", "", "")
		}
		return true
	case OpSendHex:
		cn, ok := r.conn(st)
		if !ok {
			return false
		}
		b, _ := hex.DecodeString(st.Hex)
		text := "raw bytes"
		d := codec.Decoder{Version: cn.version, Lenient: true}
		if p, _, err := d.Decode(b); err == nil {
			text = "raw: " + codec.Format(p)
		}
		r.log(cn.name, "send", text, hex.EncodeToString(b), "")
		if err := cn.write(b); err != nil {
			return r.fail(len(r.res.Transcript)-1, "", "write failed: "+err.Error())
		}
		return true
	case OpExpect:
		return r.expect(st, r.within(st, r.o.Timeout))
	case OpExpectUnorder:
		return r.expectUnordered(st, r.within(st, r.o.Timeout))
	case OpExpectOne:
		return r.expectOne(st, r.within(st, r.o.Timeout))
	case OpFind:
		return r.find(st, r.within(st, r.o.Timeout))
	case OpExpectNone:
		return r.expectNone(st)
	case OpExpectClose:
		return r.expectClose(st)
	case OpClose:
		cn, ok := r.conn(st)
		if !ok {
			return false
		}
		cn.close()
		r.log(cn.name, "close", "network connection dropped by the tester (no DISCONNECT)", "", "")
		return true
	case OpRepeat:
		n, ok := r.vars.number(st.Count)
		if !ok || n < 0 || n > maxRepeat {
			return r.errorf("line %d: repeat count %q is not a number in 0..%d", st.Line, st.Count, maxRepeat)
		}
		for i := 1; i <= n; i++ {
			r.vars.setWord("i", strconv.Itoa(i))
			for j := range st.Body {
				b := &st.Body[j]
				if b.Only != 0 && b.Only != r.v {
					continue
				}
				if !r.step(b) {
					return false
				}
			}
		}
		return true
	case OpWait:
		select {
		case <-time.After(st.Within):
		case <-r.ctx.Done():
		}
		return true
	}
	return r.errorf("line %d: unknown step %s", st.Line, st.Op)
}

func (r *caseRun) conn(st *Step) (*conn, bool) {
	cn, ok := r.conns[st.Conn]
	if !ok {
		return nil, r.errorf("line %d: connection %q is not open (open or connect it first)", st.Line, st.Conn)
	}
	return cn, true
}

func (r *caseRun) open(name string) bool {
	if old, ok := r.conns[name]; ok {
		old.close()
	}
	dctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
	defer cancel()
	nc, err := r.o.Target.Dial(dctx)
	if err != nil {
		r.log(name, "info", "connect to "+r.o.Target.URL+" failed: "+err.Error(), "", "")
		return r.errorf("cannot open connection %s to %s: %v", name, r.o.Target.URL, err)
	}
	r.conns[name] = newConn(name, nc, r.v)
	r.log(name, "info", "network connection open to "+r.o.Target.URL, "", "")
	return true
}

// sendConnect completes the CONNECT line with what the case leaves out:
// the version under test, a unique client id, a keep alive and credentials.
func (r *caseRun) sendConnect(st *Step) bool {
	cn := r.conns[st.Conn]
	text := st.Packet
	if text == "" {
		text = "CONNECT clean"
	}
	_, fields, _ := codec.ParseFields(text)
	has := map[string]bool{}
	for _, f := range fields {
		has[f.Name] = true
	}
	if !has["v"] {
		text += " v=" + r.v.String()
	}
	if !has["client-id"] {
		text += ` client-id="${cid}-` + st.Conn + `"`
	}
	if !has["keepalive"] {
		text += " keepalive=60"
	}
	if !has["username"] && r.o.Username != "" {
		text += " username=" + quote(r.o.Username)
	}
	if !has["password"] && r.o.Password != "" {
		text += " password=" + quote(r.o.Password)
	}
	p, err := codec.Parse(substitute(text, r.vars))
	if err != nil {
		return r.errorf("line %d: %v", st.Line, err)
	}
	c := p.(*codec.Connect)
	cn.version, cn.clientID = c.ProtocolLevel, string(c.ClientID)
	cn.maxIn = 0
	if c.ProtocolLevel == codec.V5 && c.Props.Has(codec.PropMaximumPacketSize) {
		cn.maxIn = int(c.Props.MaximumPacketSize)
	}
	if !c.CleanStart || c.Props.SessionExpiry > 0 {
		r.sessions[cn.clientID] = c.ProtocolLevel
	}
	if c.WillFlag && c.WillRetain && len(c.WillPayload) > 0 {
		r.retained[string(c.WillTopic)] = c.ProtocolLevel
	}
	return r.send(cn, c)
}

func (r *caseRun) send(cn *conn, p codec.Packet) bool { return r.sendFlags(cn, p, -1) }

// sendFlags sends p, with the fixed header's flag nibble replaced when
// flags >= 0 (the `flags=` field of a send line: reserved-flag cases).
func (r *caseRun) sendFlags(cn *conn, p codec.Packet, flags int) bool {
	if c, ok := p.(*codec.Connect); ok {
		cn.version = c.ProtocolLevel
	}
	if pub, ok := p.(*codec.Publish); ok && pub.Retain && len(pub.Payload) > 0 && len(pub.Topic) > 0 {
		r.retained[string(pub.Topic)] = cn.version
	}
	b := p.Append(nil, cn.version)
	text := wireText(p, b, cn.version)
	if flags >= 0 {
		b[0] = b[0]&0xf0 | byte(flags)
		text += fmt.Sprintf(" flags=0x%x", flags)
	}
	at := r.log(cn.name, "send", text, hex.EncodeToString(b), "")
	if err := cn.write(b); err != nil {
		return r.fail(at, "", "write failed: "+err.Error())
	}
	return true
}

// received decodes an arrival for the transcript and the matcher.
type received struct {
	ev     inbound
	pkt    codec.Packet
	closed bool
	bad    error // strict decoding failed: the broker sent a malformed packet
	at     int   // transcript index
}

func (r *caseRun) receive(cn *conn, ev inbound) received {
	rv := received{ev: ev}
	if ev.err != nil {
		cn.closed = true
		if isClosedErr(ev.err) {
			rv.closed = true
			rv.at = r.logAt(ev.at, cn.name, "close", "network connection closed by the broker", "", "")
		} else {
			rv.bad = ev.err
			rv.at = r.logAt(ev.at, cn.name, "recv", "unreadable bytes", "", ev.err.Error())
		}
		return rv
	}
	v := answerVersion(cn.version, ev.raw)
	cn.dec.Version = v
	p, _, err := cn.dec.Decode(ev.raw)
	if err == nil && cn.maxIn > 0 && len(ev.raw) > cn.maxIn {
		err = &codec.Error{Rule: "MQTT-3.1.2-24", Reason: codec.PacketTooLarge, Type: p.Type(), Field: "packet size",
			Msg: fmt.Sprintf("a %d-byte packet exceeds the Maximum Packet Size %d the client set in CONNECT", len(ev.raw), cn.maxIn)}
	}
	if err != nil {
		rv.bad = err
		lenient := codec.Decoder{Version: v, Lenient: true}
		text := "malformed packet"
		if lp, _, lerr := lenient.Decode(ev.raw); lerr == nil {
			text = codec.Format(lp)
		}
		rv.at = r.logAt(ev.at, cn.name, "recv", text, hex.EncodeToString(ev.raw), err.Error())
		return rv
	}
	rv.pkt = p
	rv.at = r.logAt(ev.at, cn.name, "recv", codec.Format(p), hex.EncodeToString(ev.raw), "")
	if pub, ok := p.(*codec.Publish); ok {
		r.resolveAlias(cn, pub, rv.at)
	}
	return rv
}

// wireText is the notation of what was actually sent: fields the version
// cannot carry (5.0 properties on a 3.1.1 connection) are not shown.
func wireText(p codec.Packet, b []byte, v codec.Version) string {
	if v == codec.V5 {
		return codec.Format(p)
	}
	d := codec.Decoder{Version: v, Lenient: true}
	if c, ok := p.(*codec.Connect); ok {
		d.Version = c.ProtocolLevel
	}
	if back, _, err := d.Decode(b); err == nil {
		return codec.Format(back)
	}
	return codec.Format(p)
}

// resolveAlias fills in the topic of a PUBLISH that uses one of the
// broker's topic aliases, so patterns compare topics whatever the broker's
// choice to use aliases (which the client allowed). The transcript keeps
// the packet as it was sent.
func (r *caseRun) resolveAlias(cn *conn, p *codec.Publish, at int) {
	if !p.Props.Has(codec.PropTopicAlias) {
		return
	}
	if cn.aliases == nil {
		cn.aliases = map[uint16][]byte{}
	}
	a := p.Props.TopicAlias
	if len(p.Topic) > 0 {
		cn.aliases[a] = append([]byte(nil), p.Topic...)
		return
	}
	if t, ok := cn.aliases[a]; ok {
		p.Topic = t
		r.res.Transcript[at].Note = "topic alias " + strconv.Itoa(int(a)) + " stands for " + strconv.Quote(string(t))
	}
}

// answerVersion is the layout to read a broker's packet in. After a CONNECT
// with a protocol level mqttspec does not speak, the refusal may come in
// the 3.1.1 layout (a 2-byte CONNACK) or the 5.0 one: both are legitimate.
func answerVersion(v codec.Version, raw []byte) codec.Version {
	switch v {
	case codec.V31, codec.V311, codec.V5:
		return v
	}
	if len(raw) == 4 {
		return codec.V311
	}
	return codec.V5
}

func (r *caseRun) logAt(t time.Time, conn, dir, text, hexs, note string) int {
	r.res.Transcript = append(r.res.Transcript, Event{At: t.Sub(r.start), Conn: conn, Dir: dir, Text: text, Hex: hexs, Note: note})
	return len(r.res.Transcript) - 1
}

func patternsText(ps []*Pattern) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Text
	}
	return strings.Join(s, " || ")
}

// expect takes the next arrival and matches it against the alternatives.
func (r *caseRun) expect(st *Step, deadline time.Time) bool {
	cn, ok := r.conn(st)
	if !ok {
		return false
	}
	want := patternsText(st.Patterns)
	rv, hit, why, ok := r.await(st, cn, st.Patterns, deadline)
	if !ok {
		return false
	}
	if hit < 0 {
		return r.fail(rv.at, want, fmt.Sprintf("line %d: expected %s; %s", st.Line, want, why))
	}
	return true
}

// await receives one arrival and finds the first pattern it matches (-1:
// none, with why). ok is false when the step already failed.
func (r *caseRun) await(st *Step, cn *conn, pats []*Pattern, deadline time.Time) (received, int, string, bool) {
	want := patternsText(pats)
	ev, ok := cn.next(deadline)
	if !ok {
		at := r.log(cn.name, "info", "nothing arrived", "", "")
		return received{}, -1, "", r.fail(at, want, fmt.Sprintf("line %d: expected %s within %s, nothing arrived", st.Line, want, r.waited(st)))
	}
	rv := r.receive(cn, ev)
	if rv.bad != nil {
		return rv, -1, "", r.fail(rv.at, want, fmt.Sprintf("line %d: the broker sent a malformed packet: %v", st.Line, rv.bad))
	}
	hit, why := r.matchAny(rv, pats)
	return rv, hit, why, true
}

func (r *caseRun) matchAny(rv received, pats []*Pattern) (int, string) {
	m := matcher{vars: r.vars}
	why := ""
	for i, p := range pats {
		if rv.closed {
			if p.Closed {
				return i, ""
			}
			continue
		}
		ok, w := m.match(p, rv.pkt)
		if ok {
			return i, ""
		}
		if why == "" || (p.Type == rv.pkt.Type() && !strings.HasPrefix(w, "expected ")) {
			why = w
		}
	}
	if rv.closed {
		why = "the broker closed the connection"
	}
	return -1, why
}

// expectUnordered takes one arrival per required pattern, in any order.
// Optional patterns ("? PATTERN") may each match one arrival; once the
// required ones have matched, a short grace period collects late optional
// copies and leaves anything else queued.
func (r *caseRun) expectUnordered(st *Step, deadline time.Time) bool {
	cn, ok := r.conn(st)
	if !ok {
		return false
	}
	open := append([]*Pattern(nil), st.Patterns...)
	required := 0
	for _, p := range open {
		if !p.Optional {
			required++
		}
	}
	for required > 0 {
		rv, hit, why, ok := r.await(st, cn, open, deadline)
		if !ok {
			return false
		}
		if hit < 0 {
			want := patternsText(open)
			return r.fail(rv.at, want, fmt.Sprintf("line %d: expected one of %s; %s", st.Line, want, why))
		}
		if !open[hit].Optional {
			required--
		}
		open = append(open[:hit], open[hit+1:]...)
	}
	for len(open) > 0 {
		ev, ok := cn.next(time.Now().Add(optionalGrace))
		if !ok {
			break
		}
		at := len(r.res.Transcript)
		rv := r.receive(cn, ev)
		hit, _ := r.matchAny(rv, open)
		if hit < 0 || rv.bad != nil {
			r.res.Transcript = r.res.Transcript[:at]
			cn.unread(ev)
			break
		}
		open = append(open[:hit], open[hit+1:]...)
	}
	return true
}

// find waits for a packet matching one of the patterns and leaves every
// other arrival queued, in order, for later steps: the order-insensitive
// matching that replayed captures need where brokers may legitimately
// interleave packets differently.
func (r *caseRun) find(st *Step, deadline time.Time) bool {
	cn, ok := r.conn(st)
	if !ok {
		return false
	}
	want := patternsText(st.Patterns)
	var kept []inbound
	defer func() { cn.unread(kept...) }()
	closest := ""
	for {
		ev, ok := cn.next(deadline)
		if !ok {
			at := r.log(cn.name, "info", "nothing matching arrived", "", "")
			if closest != "" {
				closest = " (closest: " + closest + ")"
			}
			return r.fail(at, want, fmt.Sprintf("line %d: expected %s within %s, it did not arrive%s", st.Line, want, r.waited(st), closest))
		}
		at := len(r.res.Transcript)
		rv := r.receive(cn, ev)
		if rv.bad != nil {
			return r.fail(rv.at, want, fmt.Sprintf("line %d: the broker sent a malformed packet: %v", st.Line, rv.bad))
		}
		hit, why := r.matchAny(rv, st.Patterns)
		if hit >= 0 {
			return true
		}
		if rv.closed {
			return r.fail(rv.at, want, fmt.Sprintf("line %d: expected %s; the broker closed the connection", st.Line, want))
		}
		if closest == "" && rv.pkt.Type() == st.Patterns[0].Type {
			closest = why
		}
		r.res.Transcript = r.res.Transcript[:at]
		kept = append(kept, ev)
	}
}

// optionalGrace is how long expect-unordered waits for optional copies.
const optionalGrace = 200 * time.Millisecond

// expectOne passes when exactly one of the connections receives a packet
// matching the pattern before the deadline (the shared-subscription rule:
// one member of the group gets each message). Other arrivals stay queued.
func (r *caseRun) expectOne(st *Step, deadline time.Time) bool {
	var conns []*conn
	for _, name := range st.Conns {
		cn, ok := r.conns[name]
		if !ok {
			return r.errorf("line %d: connection %q is not open", st.Line, name)
		}
		conns = append(conns, cn)
	}
	want := st.Patterns[0].Text
	kept := make([][]inbound, len(conns))
	defer func() {
		for i, cn := range conns {
			cn.unread(kept[i]...)
		}
	}()
	var got []string
	first := -1
	for time.Now().Before(deadline) {
		idle := true
		for i, cn := range conns {
			ev, ok := cn.next(time.Now())
			if !ok {
				continue
			}
			idle = false
			rv := r.receive(cn, ev)
			if rv.bad != nil || rv.closed {
				return r.fail(rv.at, want, fmt.Sprintf("line %d: expected %s on one of %s; %s got something else", st.Line, want,
					strings.Join(st.Conns, ", "), cn.name))
			}
			if hit, _ := r.matchAny(rv, st.Patterns); hit < 0 {
				r.res.Transcript = r.res.Transcript[:rv.at]
				kept[i] = append(kept[i], ev)
				continue
			}
			got = append(got, cn.name)
			if first < 0 {
				first = rv.at
			}
			if len(got) > 1 {
				return r.fail(rv.at, want, fmt.Sprintf("line %d: %s reached %s; exactly one of them must receive it", st.Line, want, strings.Join(got, " and ")))
			}
		}
		if idle {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if len(got) == 0 {
		at := r.log(st.Conn, "info", "nothing arrived on "+strings.Join(st.Conns, ", "), "", "")
		return r.fail(at, want, fmt.Sprintf("line %d: expected %s on one of %s within %s; none received it", st.Line, want, strings.Join(st.Conns, ", "), r.waited(st)))
	}
	return true
}

func (r *caseRun) waited(st *Step) time.Duration {
	if st.Within > 0 {
		return st.Within
	}
	return r.o.Timeout
}

// expectNone passes when nothing (matching) arrives for the whole window.
func (r *caseRun) expectNone(st *Step) bool {
	cn, ok := r.conn(st)
	if !ok {
		return false
	}
	d := st.Within
	if d == 0 {
		d = 500 * time.Millisecond
	}
	deadline := time.Now().Add(d)
	var keep []inbound
	defer func() { cn.unread(keep...) }()
	for {
		ev, ok := cn.next(deadline)
		if !ok {
			r.log(cn.name, "info", fmt.Sprintf("nothing arrived for %s, as expected", d), "", "")
			return true
		}
		rv := r.receive(cn, ev)
		if rv.closed {
			return r.fail(rv.at, "nothing", fmt.Sprintf("line %d: expected nothing for %s, the broker closed the connection", st.Line, d))
		}
		if rv.bad != nil && len(st.Patterns) > 0 {
			// A malformed packet this step does not watch for (another
			// case's traffic on a wildcard subscription, say) is not its
			// business: judge it by its lenient reading.
			lenient := codec.Decoder{Version: answerVersion(cn.version, ev.raw), Lenient: true}
			if p, _, err := lenient.Decode(ev.raw); err == nil {
				if hit, _ := r.matchAny(received{pkt: p}, st.Patterns); hit < 0 {
					r.res.Transcript = r.res.Transcript[:rv.at]
					keep = append(keep, ev)
					continue
				}
			}
		}
		if rv.bad != nil {
			return r.fail(rv.at, "nothing", fmt.Sprintf("line %d: expected nothing for %s, got a malformed packet: %v", st.Line, d, rv.bad))
		}
		if len(st.Patterns) == 0 {
			return r.fail(rv.at, "nothing", fmt.Sprintf("line %d: expected nothing for %s, got %s", st.Line, d, rv.pkt.Type()))
		}
		m := matcher{vars: r.vars}
		for _, p := range st.Patterns {
			if ok, _ := m.match(p, rv.pkt); ok {
				return r.fail(rv.at, "no "+p.Text, fmt.Sprintf("line %d: expected no %s for %s, got one", st.Line, p.Text, d))
			}
		}
		// Not what this step watches for: leave it for the next step. It
		// is already in the transcript.
		r.res.Transcript = r.res.Transcript[:rv.at]
		keep = append(keep, ev)
	}
}

// expectClose passes when the broker closes the connection within the
// window. A 5.0 DISCONNECT before the close is allowed; if its reason is not
// among the expected ones the case still passes (closing is the MUST, the
// reason a SHOULD) and the deviation is noted.
func (r *caseRun) expectClose(st *Step) bool {
	cn, ok := r.conn(st)
	if !ok {
		return false
	}
	d := st.Within
	if d == 0 {
		d = 3 * time.Second
	}
	deadline := time.Now().Add(d)
	want := "closed"
	for {
		ev, ok := cn.next(deadline)
		if !ok {
			at := r.log(cn.name, "info", fmt.Sprintf("still open after %s", d), "", "")
			return r.fail(at, want, fmt.Sprintf("line %d: expected the broker to close the connection within %s; it stayed open", st.Line, d))
		}
		rv := r.receive(cn, ev)
		switch {
		case rv.closed:
			return true
		case rv.bad != nil:
			return r.fail(rv.at, want, fmt.Sprintf("line %d: expected the connection to be closed, got a malformed packet: %v", st.Line, rv.bad))
		case rv.pkt.Type() == codec.DISCONNECT && cn.version == codec.V5:
			rc := rv.pkt.(*codec.Disconnect).ReasonCode
			if len(st.Reasons) > 0 && !containsReason(st.Reasons, rc) {
				r.res.Notes = append(r.res.Notes, fmt.Sprintf("line %d: DISCONNECT reason %s; the spec suggests %s",
					st.Line, rc.Name(codec.DISCONNECT), reasonsText(st.Reasons)))
			}
		case rv.pkt.Type() == codec.CONNACK && rc(rv.pkt) >= 0x80:
			// A refusing CONNACK before the close is how a server reports
			// a bad CONNECT.
			if len(st.Reasons) > 0 && !containsReason(st.Reasons, codec.ReasonCode(rc(rv.pkt))) {
				r.res.Notes = append(r.res.Notes, fmt.Sprintf("line %d: CONNACK reason 0x%02x; the spec suggests %s",
					st.Line, rc(rv.pkt), reasonsText(st.Reasons)))
			}
		case rv.pkt.Type() == codec.CONNACK && cn.version != codec.V5 && rc(rv.pkt) != 0:
		default:
			return r.fail(rv.at, want, fmt.Sprintf("line %d: expected the connection to be closed, got %s", st.Line, rv.pkt.Type()))
		}
	}
}

func rc(p codec.Packet) int { return int(p.(*codec.Connack).ReasonCode) }

func containsReason(rs []codec.ReasonCode, rc codec.ReasonCode) bool {
	for _, x := range rs {
		if x == rc {
			return true
		}
	}
	return false
}

func reasonsText(rs []codec.ReasonCode) string {
	s := make([]string, len(rs))
	for i, x := range rs {
		s[i] = x.Name(codec.DISCONNECT)
	}
	return strings.Join(s, " or ")
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// cleanup removes what the case left on the broker: retained messages and
// persistent sessions, so cases never disturb each other or other users.
func (r *caseRun) cleanup() {
	if len(r.retained) == 0 && len(r.sessions) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	topics := make([]string, 0, len(r.retained))
	for t := range r.retained {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	for id, v := range r.sessions {
		r.clean(ctx, v, id, nil)
	}
	if len(topics) > 0 {
		v := codec.V311
		for _, tv := range r.retained {
			v = tv
		}
		r.clean(ctx, v, r.res.ID[:0]+mustVar(r.vars, "cid")+"-cl", topics)
	}
}

func mustVar(v *vars, name string) string { s, _ := v.lookup(name); return s }

// clean connects with a clean session as clientID (ending any session the
// case left) and clears retained messages on topics.
func (r *caseRun) clean(ctx context.Context, v codec.Version, clientID string, topics []string) {
	nc, err := r.o.Target.Dial(ctx)
	if err != nil {
		return
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(3 * time.Second))
	c := &codec.Connect{ProtocolName: []byte("MQTT"), ProtocolLevel: v, CleanStart: true, ClientID: []byte(clientID), KeepAlive: 10}
	if v == codec.V31 {
		c.ProtocolName = []byte("MQIsdp")
	}
	if r.o.Username != "" {
		c.UsernameFlag, c.Username = true, []byte(r.o.Username)
	}
	if r.o.Password != "" {
		c.PasswordFlag, c.Password = true, []byte(r.o.Password)
	}
	buf := c.Append(nil, v)
	for i, t := range topics {
		buf = (&codec.Publish{QoS: 1, PacketID: uint16(i + 1), Retain: true, Topic: []byte(t)}).Append(buf, v)
	}
	buf = (&codec.Disconnect{}).Append(buf, v)
	if _, err := nc.Write(buf); err != nil {
		return
	}
	// Wait for the PUBACKs so the clears are processed before we leave.
	rd := codec.NewReader(nc, 512)
	rd.Version = v
	for acks := 0; acks < len(topics); {
		p, err := rd.ReadPacket()
		if err != nil {
			return
		}
		if p.Type() == codec.PUBACK {
			acks++
		}
	}
}
