package fuzz

import (
	"context"
	"net"
	"strings"
	"time"

	"mqttspec/codec"
)

// handle confirms a candidate, minimizes it and saves the finding. The
// workers are paused meanwhile: the re-executions must see the broker
// alone, and a crash must not be blamed on someone else's session.
func (f *Fuzzer) handle(ctx context.Context, c candidate, stop func()) {
	down := c.v.kind == Crash || c.v.kind == Hang
	if down && c.epoch != f.epoch.Load() {
		return
	}
	if !down {
		f.mu.Lock()
		_, dup := f.seen[c.v.signature()]
		if dup {
			f.stats.Duplicates++
		}
		f.mu.Unlock()
		if dup {
			return
		}
	}
	f.gate.Lock()
	t0 := time.Now()
	defer func() {
		f.mu.Lock()
		f.paused += time.Since(t0)
		f.mu.Unlock()
		f.gate.Unlock()
	}()
	var fd *Finding
	if down {
		fd = f.handleDown(ctx, c, stop)
		f.epoch.Add(1)
		f.down.Store(false)
	} else {
		fd = f.confirm(ctx, c)
	}
	if fd == nil {
		return
	}
	fd.FoundAfter = c.at.Seconds()
	fd.MinimizeSeconds = time.Since(t0).Seconds()
	f.record(fd)
}

// record deduplicates and saves a finding.
func (f *Fuzzer) record(fd *Finding) {
	f.mu.Lock()
	if _, dup := f.seen[fd.Signature]; dup && fd.Reproduced {
		f.stats.Duplicates++
		f.mu.Unlock()
		return
	}
	f.seen[fd.Signature] = fd
	f.stats.Findings = append(f.stats.Findings, fd)
	f.mu.Unlock()
	f.logf("finding %s: %s (%d packets, %d bytes, %d checks)", fd.ID, oneLine(fd.Detail), len(fd.Session), fd.sessionBytes(), fd.Checks)
	if f.o.FindingsDir != "" {
		if err := fd.save(f.o.FindingsDir); err != nil {
			f.fail(err)
		}
	}
}

func (fd *Finding) sessionBytes() int {
	n := 0
	for _, h := range fd.Session {
		n += len(h) / 2
	}
	return n
}

func (f *Fuzzer) fail(err error) {
	f.mu.Lock()
	if f.infraErr == nil {
		f.infraErr = err
	}
	f.mu.Unlock()
	f.stopped.Store(true)
}

// reproduction is the result of re-executing a session during confirmation
// and minimization.
type reproduction struct {
	x   *exchange
	ref *exchange
	v   *verdict
	id  ident
}

// again re-executes a session with a fresh identity and judges it as a
// worker would.
func (f *Fuzzer) again(ctx context.Context, s Session, n uint64, withOracle bool) reproduction {
	id := newIdent(f.tag+"m", f.checks.Add(1))
	stream := rewrite(s, id)
	x := runSession(ctx, f.t.dial, stream, f.o.AnswerWait)
	if x.dialErr == nil {
		f.remember(n, s) // a crash while minimizing is looked for among these too
	}
	v := connectLevel(stream)
	off := firstOffence(x.sent)
	r := reproduction{x: x, id: id, v: judge(x, off, v)}
	if r.v == nil && off == nil && withOracle && f.oracle != nil && x.dialErr == nil && !discretionary(x.sent) {
		r.ref = runSession(ctx, f.oracle.dial, stream, f.o.AnswerWait)
		r.v = divergence(summary(x, v), summary(r.ref, v), v)
	}
	return r
}

// confirm re-runs a spec violation or divergence, minimizes the session
// while the same signature comes back, and describes the smallest one.
func (f *Fuzzer) confirm(ctx context.Context, c candidate) *Finding {
	sig := c.v.signature()
	oracle := c.v.kind == Divergence
	var best reproduction
	still := func(s Session) bool {
		r := f.again(ctx, s, c.n, oracle)
		if r.v == nil || r.v.signature() != sig {
			return false
		}
		best = r
		return true
	}
	if !still(c.s) {
		f.mu.Lock()
		f.stats.Unconfirmed++
		f.mu.Unlock()
		return nil
	}
	m := &minimizer{still: still, budget: f.o.MinimizeChecks}
	s := m.minimize(c.s)
	fd := newFinding(best.v, s, f.stats.Target, f.o.Seed, c.n)
	fd.Checks, fd.OriginalPackets, fd.OriginalBytes = m.checks+1, len(c.s), c.s.Size()
	v := connectLevel(best.x.sent)
	fd.describe(best.x, v)
	if best.ref != nil {
		fd.Reference = summary(best.ref, v)
	}
	switch fd.Kind {
	case AcceptedInvalid:
		f.prefixAnswers(ctx, fd, best.x.sent)
	case InvalidAnswer, Divergence:
		f.referenceAnswers(ctx, fd, best.x.sent, v)
	}
	return fd
}

// collect runs a stream without closing early, so that late answers
// (deliveries after their acknowledgement) arrive as they would for a
// script, and returns them as script items, the probe's PINGRESP left out
// (the script has its own), with how the exchange ended.
func collect(ctx context.Context, dial func(context.Context) (net.Conn, error), stream []byte, v codec.Version, wait time.Duration) ([]string, string) {
	dctx, cancel := context.WithTimeout(ctx, wait)
	nc, err := dial(dctx)
	cancel()
	if err != nil {
		return nil, "end: no answer"
	}
	x := exchangeOn(nc, stream, wait, false)
	d := codec.Decoder{Lenient: true, Version: answerVersion(x, v)}
	var items []string
	for _, a := range x.answers {
		p, _, err := d.Decode(a)
		switch {
		case err != nil:
			items = append(items, "invalid "+codec.Type(a[0]>>4).String())
		case p.Type() != codec.DISCONNECT: // expect-close takes it
			items = append(items, answerItem(p))
		}
	}
	end := "end: no answer"
	switch {
	case x.probeAnswered():
		end = "end: read everything"
	case x.closed:
		end = "end: closed"
	}
	return trimProbe(items, end), end
}

// referenceAnswers runs the session on the reference broker (the one
// comparing, or one started for this) for the script: a conforming broker
// answers as it does.
func (f *Fuzzer) referenceAnswers(ctx context.Context, fd *Finding, sent []byte, v codec.Version) {
	o := f.oracle
	if o == nil {
		var err error
		if o, err = newOracle(capabilities(ctx, f.t.dial, "fz"+f.tag+"caps", f.o.ProbeTimeout)); err != nil {
			return
		}
		defer o.close()
	}
	fd.scriptItems, fd.scriptEnd = collect(ctx, o.dial, sent[:len(sent)-len(probe)], v, f.o.AnswerWait)
}

// prefixAnswers runs the packets before the offending one alone and keeps
// the types of the broker's answers: the script expects them before it
// sends the offending packet (a conforming broker may grant or refuse
// them differently).
func (f *Fuzzer) prefixAnswers(ctx context.Context, fd *Finding, sent []byte) {
	off := firstOffence(sent)
	if off == nil {
		return
	}
	fd.offendingAt = off.index
	var prefix []byte
	for _, p := range frames(sent)[:off.index] {
		prefix = append(prefix, p...)
	}
	items, _ := collect(ctx, f.t.dial, prefix, connectLevel(sent), f.o.AnswerWait)
	for _, it := range items {
		t, _, _ := strings.Cut(it, " ")
		fd.prefixAnswers = append(fd.prefixAnswers, t)
	}
}

// handleDown deals with a broker that crashed or hung: bring it back, find
// which of the last sessions does it again on its own, and minimize that
// one. A broker that cannot be brought back ends the run.
func (f *Fuzzer) handleDown(ctx context.Context, c candidate, stop func()) *Finding {
	kind := c.v.kind
	status, stderr := f.exitInfo()
	f.logf("%s: the broker %s (around session %d)", kind, c.health, c.n)
	recent := f.recentSessions()
	if !f.t.canRestart() {
		fd := f.unreproduced(c, recent, status, stderr)
		f.stopped.Store(true)
		stop()
		return fd
	}
	if err := f.bringBack(ctx); err != nil {
		f.fail(err)
		stop()
		return f.unreproduced(c, recent, status, stderr)
	}
	for _, r := range recent {
		if !f.downAgain(ctx, kind, r.s) {
			continue
		}
		m := &minimizer{still: func(s Session) bool { return f.downAgain(ctx, kind, s) }, budget: f.o.MinimizeChecks}
		s := m.minimize(r.s)
		// One more run for the evidence; the broker is brought back after it.
		x, ok := f.downRun(ctx, kind, s)
		st, se := f.exitInfo()
		if ok {
			if err := f.bringBack(ctx); err != nil {
				f.fail(err)
			}
		}
		v := &verdict{kind: kind, ptype: codec.Type(s[len(s)-1][0] >> 4), version: connectLevel(s.Stream()),
			detail: "the broker " + c.health.String() + " after this session"}
		if st != "" {
			v.detail += " (" + st + ")"
		}
		fd := newFinding(v, s, f.stats.Target, f.o.Seed, r.n)
		fd.Checks, fd.OriginalPackets, fd.OriginalBytes = m.checks+1, len(r.s), r.s.Size()
		fd.ExitStatus, fd.StderrTail = st, se
		if x != nil {
			fd.describe(x, v.version)
		}
		return fd
	}
	f.logf("%s: none of the last %d sessions does it again on its own", kind, len(recent))
	return f.unreproduced(c, recent, status, stderr)
}

// unreproduced keeps a crash or hang that could not be pinned on one
// session, with the sessions sent just before it.
func (f *Fuzzer) unreproduced(c candidate, recent []recentSession, status, stderr string) *Finding {
	v := &verdict{kind: c.v.kind, key: "unreproduced", version: c.v.version, detail: "the broker " + c.health.String()}
	if status != "" {
		v.detail += " (" + status + ")"
	}
	fd := newFinding(v, nil, f.stats.Target, f.o.Seed, c.n)
	fd.Reproduced, fd.ExitStatus, fd.StderrTail = false, status, stderr
	fd.Session = nil
	for _, r := range recent {
		fd.Candidates = append(fd.Candidates, hexSession(r.s))
	}
	fd.ID += "-" + itoa(int(c.n))
	fd.Signature += "|" + itoa(int(c.n))
	return fd
}

// downAgain runs a session and reports whether the broker went down the
// same way; it brings the broker back when it did.
func (f *Fuzzer) downAgain(ctx context.Context, kind Kind, s Session) bool {
	if _, ok := f.downRun(ctx, kind, s); !ok {
		return false
	}
	if err := f.bringBack(ctx); err != nil {
		f.fail(err)
		return false
	}
	return true
}

// downRun runs a session and probes the broker after it. A broker found
// down the wrong way (a hang while looking for a crash) is brought back.
func (f *Fuzzer) downRun(ctx context.Context, kind Kind, s Session) (*exchange, bool) {
	if ctx.Err() != nil {
		return nil, false
	}
	id := newIdent(f.tag+"m", f.checks.Add(1))
	x := runSession(ctx, f.t.dial, rewrite(s, id), f.o.AnswerWait)
	h := f.health(ctx)
	if h == alive {
		return x, false
	}
	if (kind == Crash && h == refused) || (kind == Hang && h == silent) {
		return x, true
	}
	if err := f.bringBack(ctx); err != nil {
		f.fail(err)
	}
	return x, false
}

func (f *Fuzzer) bringBack(ctx context.Context) error {
	f.mu.Lock()
	f.stats.Restarts++
	f.mu.Unlock()
	return f.t.bringBack(ctx)
}

func (f *Fuzzer) exitInfo() (status, stderr string) {
	if f.t.proc == nil || !f.t.proc.exited(0) {
		return "", ""
	}
	return f.t.proc.exitStatus(), f.t.proc.stderrTail()
}
