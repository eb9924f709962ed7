package fuzz

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"mqttspec/codec"
	"mqttspec/conformance"
)

// Options configure a fuzzing run.
type Options struct {
	// Target is the broker's URL: tcp:// (mqtt://), tls:// (mqtts://), ws:// or wss://.
	Target string
	// Dial, when set, replaces Target as the way to open a connection.
	Dial func(ctx context.Context) (net.Conn, error)
	// Restart brings back a crashed or hung broker that runs in-process;
	// Exec does it for a broker process. Without either, the run stops at
	// the first crash or hang, which then cannot be minimized.
	Restart func(ctx context.Context) error
	// Exec is a shell command line that starts the broker; the fuzzer
	// starts it, watches it and starts it again after a crash.
	Exec string
	// Seeds are the sessions mutation starts from (default BuiltinSeeds).
	Seeds []Session
	// Duration and MaxExecs bound the run; one execution is one session.
	// With neither, the run lasts a minute.
	Duration time.Duration
	MaxExecs int64
	// Oracle is "reference" to compare every session's answers with the
	// in-process reference broker's, or "none" (the default).
	Oracle string
	// FindingsDir receives each finding's files; empty keeps them in memory.
	FindingsDir string
	// Seed selects the sessions: the n-th session of a run depends only on
	// Seed, n and Seeds.
	Seed int64
	// Parallel is how many sessions run at once (default 8 per CPU).
	Parallel int
	// AnswerWait bounds how long one session waits for the broker (2s).
	AnswerWait time.Duration
	// ProbeTimeout bounds a liveness probe (2s).
	ProbeTimeout time.Duration
	// MinimizeChecks bounds the re-executions spent minimizing one finding (400).
	MinimizeChecks int
	// Status, when set, gets a status line rewritten in place (a terminal).
	Status io.Writer
	// Log, when set, gets a line per finding and per restart of the broker.
	Log io.Writer
}

// Stats describe a finished run.
type Stats struct {
	Target            string  `json:"target"`
	Oracle            string  `json:"oracle"`
	Seed              int64   `json:"seed"`
	Parallel          int     `json:"parallel"`
	Seeds             int     `json:"seeds"`
	Execs             int64   `json:"execs"`
	Seconds           float64 `json:"seconds"`
	FuzzSeconds       float64 `json:"fuzz_seconds"` // without the pauses spent minimizing and restarting
	SessionsPerSecond float64 `json:"sessions_per_second"`
	// CPUSeconds is the processor time of this process during the run:
	// the fuzzer, and the reference broker when it runs in-process.
	CPUSeconds  float64          `json:"cpu_seconds"`
	Findings    []*Finding       `json:"findings"`
	Duplicates  int              `json:"duplicates"`   // candidates with the signature of an earlier finding
	Unconfirmed int              `json:"unconfirmed"`  // candidates that did not happen again when re-run
	Restarts    int              `json:"restarts"`     // the broker was started again
	Stalls      int              `json:"stalls"`       // probes a broker left unanswered in time, then answered
	AnswerTypes map[string]int64 `json:"answer_types"` // packet types the broker sent
	States      map[string]int64 `json:"states"`       // session states reached
}

// Fuzzer runs one fuzzing campaign; make it with New.
type Fuzzer struct {
	o      Options
	t      *target
	oracle *oracle
	seeds  []Session
	tag    string // per run: client identifiers and topics of other runs differ

	next    atomic.Int64 // next execution number
	execs   atomic.Int64
	checks  atomic.Uint64 // re-executions while confirming and minimizing
	down    atomic.Bool   // a worker found the broker gone; the others wait
	epoch   atomic.Int64  // bumped each time the broker is brought back
	stopped atomic.Bool
	gate    sync.RWMutex // workers share it; confirming and minimizing take it alone
	cands   chan candidate
	start   time.Time
	cpu0    time.Duration
	paused  time.Duration

	recentMu sync.Mutex
	recent   []recentSession // the last sessions sent, for crashes
	recentAt int

	mu          sync.Mutex
	stats       Stats
	seen        map[string]*Finding
	infraErr    error
	answerTypes [16]int64
}

type recentSession struct {
	n uint64
	s Session
}

// candidate is a verdict a worker reached, waiting to be confirmed.
type candidate struct {
	v      *verdict
	s      Session
	n      uint64
	epoch  int64
	health health
	at     time.Duration // run time when the session was sent
}

// New checks the options and prepares a run.
func New(o Options) (*Fuzzer, error) {
	if o.Parallel <= 0 {
		o.Parallel = 8 * runtime.GOMAXPROCS(0)
	}
	if o.AnswerWait <= 0 {
		o.AnswerWait = 2 * time.Second
	}
	if o.ProbeTimeout <= 0 {
		o.ProbeTimeout = 2 * time.Second
	}
	if o.MinimizeChecks <= 0 {
		o.MinimizeChecks = 400
	}
	if o.Duration <= 0 && o.MaxExecs <= 0 {
		o.Duration = time.Minute
	}
	switch o.Oracle {
	case "":
		o.Oracle = "none"
	case "none", "reference":
	default:
		return nil, fmt.Errorf("oracle %q: want reference or none", o.Oracle)
	}
	dial := o.Dial
	if dial == nil {
		if o.Target == "" {
			return nil, errors.New("no target: give a URL or a dial function")
		}
		t, err := conformance.ParseTarget(o.Target, nil)
		if err != nil {
			return nil, err
		}
		dial = t.Dial
	}
	seeds := o.Seeds
	if len(seeds) == 0 {
		seeds = BuiltinSeeds()
	}
	for i, s := range seeds {
		if len(s) == 0 {
			return nil, fmt.Errorf("seed session %d is empty", i+1)
		}
	}
	f := &Fuzzer{o: o, seeds: seeds, t: &target{dial: dial, restart: o.Restart}, seen: map[string]*Finding{},
		recent: make([]recentSession, 4*o.Parallel+8)}
	if o.Exec != "" {
		f.t.proc = &process{cmdline: o.Exec, dial: dial}
	}
	var tag [2]byte
	_, _ = rand.Read(tag[:])
	f.tag = hex.EncodeToString(tag[:])
	f.stats = Stats{Target: o.Target, Oracle: o.Oracle, Seed: o.Seed, Parallel: o.Parallel, Seeds: len(seeds),
		AnswerTypes: map[string]int64{}, States: map[string]int64{}}
	if f.stats.Target == "" {
		f.stats.Target = "(dial function)"
	}
	return f, nil
}

// Run fuzzes until the duration or the execution budget is spent, ctx is
// cancelled, or the broker is lost for good. It returns the statistics and
// the findings; an error means the run could not go on (the broker would
// not start, the findings could not be written).
func (f *Fuzzer) Run(ctx context.Context) (*Stats, error) {
	if f.o.FindingsDir != "" {
		if err := os.MkdirAll(f.o.FindingsDir, 0o755); err != nil {
			return nil, err
		}
	}
	cleanup, err := f.setup(ctx)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	base := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if f.o.Duration > 0 {
		var c context.CancelFunc
		ctx, c = context.WithTimeout(ctx, f.o.Duration)
		defer c()
	}
	f.start, f.cpu0 = time.Now(), cpuTime()
	f.cands = make(chan candidate, 2*f.o.Parallel)
	var workers sync.WaitGroup
	for range f.o.Parallel {
		workers.Add(1)
		go func() {
			defer workers.Done()
			f.worker(ctx)
		}()
	}
	coordDone := make(chan struct{})
	go func() {
		defer close(coordDone)
		for c := range f.cands {
			f.handle(base, c, cancel)
		}
	}()
	statusDone := make(chan struct{})
	go f.statusLoop(ctx, statusDone)
	workers.Wait()
	close(f.cands)
	<-coordDone
	cancel()
	<-statusDone
	return f.finish()
}

// setup starts the broker (--exec) and the reference broker (--oracle
// reference) and checks that the broker answers.
func (f *Fuzzer) setup(ctx context.Context) (cleanup func(), err error) {
	var undo []func()
	cleanup = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	if f.t.proc != nil {
		if err := f.t.proc.start(ctx); err != nil {
			return nil, err
		}
		undo = append(undo, f.t.proc.stop)
	}
	if f.o.Oracle == "reference" {
		o, err := newOracle(capabilities(ctx, f.t.dial, "fz"+f.tag+"caps", f.o.ProbeTimeout))
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("reference broker: %w", err)
		}
		f.oracle = o
		undo = append(undo, o.close)
	}
	if h := f.t.check(ctx, f.o.ProbeTimeout); h != alive {
		cleanup()
		return nil, fmt.Errorf("the broker %s before fuzzing started", h)
	}
	return cleanup, nil
}

func (f *Fuzzer) finish() (*Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.stats
	st.Execs = f.execs.Load()
	elapsed := time.Since(f.start)
	st.Seconds = elapsed.Seconds()
	st.FuzzSeconds = (elapsed - f.paused).Seconds()
	if st.FuzzSeconds > 0 {
		st.SessionsPerSecond = float64(st.Execs) / st.FuzzSeconds
	}
	st.CPUSeconds = (cpuTime() - f.cpu0).Seconds()
	for t, n := range f.answerTypes {
		if n > 0 {
			st.AnswerTypes[codec.Type(t).String()] = n
		}
	}
	return &st, f.infraErr
}

// worker runs executions until the budget is spent.
func (f *Fuzzer) worker(ctx context.Context) {
	m := newMutator(f.seeds, f.o.Seed)
	var dec codec.Decoder
	for ctx.Err() == nil && !f.stopped.Load() {
		if f.down.Load() {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		f.gate.RLock()
		n := f.next.Add(1) - 1
		if f.o.MaxExecs > 0 && n >= f.o.MaxExecs {
			f.gate.RUnlock()
			return
		}
		c := f.execute(ctx, m, &dec, uint64(n))
		f.gate.RUnlock()
		if c != nil {
			select {
			case f.cands <- *c:
			case <-ctx.Done():
				return
			}
		}
	}
}

// execute runs session n and returns what it found, if anything.
func (f *Fuzzer) execute(ctx context.Context, m *mutator, dec *codec.Decoder, n uint64) *candidate {
	s := m.session(n)
	id := newIdent(f.tag, n)
	stream := rewrite(s, id)
	epoch, sent := f.epoch.Load(), time.Since(f.start)
	x := runSession(ctx, f.t.dial, stream, f.o.AnswerWait)
	if x.dialErr == nil {
		f.remember(n, s) // sessions that never reached the broker cannot be what broke it
	}
	if ended(ctx) {
		return nil
	}
	f.execs.Add(1)
	v := connectLevel(stream)
	f.observe(x, v, dec)
	if x.dialErr != nil || x.timedOut || (f.t.proc != nil && f.t.proc.exited(0)) {
		h := f.health(ctx)
		if h == silent {
			// A broker busy with a burst (a flood of retained messages to
			// one subscriber, a machine short of CPU) is not hung: give it
			// five more probe times to answer before calling it that.
			if h = f.t.probeOnce(ctx, 5*f.o.ProbeTimeout); h == alive {
				f.mu.Lock()
				f.stats.Stalls++
				f.mu.Unlock()
				f.logf("stall: the broker answered a probe only after %s", 3*f.o.ProbeTimeout)
			}
		}
		if ended(ctx) {
			return nil // the run ended during the probe: it proves nothing
		}
		if h != alive {
			if f.down.CompareAndSwap(false, true) {
				kind := Crash
				if h == silent {
					kind = Hang
				}
				return &candidate{v: &verdict{kind: kind, version: v, detail: "the broker " + h.String()}, s: s, n: n, epoch: epoch, health: h, at: sent}
			}
			return nil
		}
		if x.dialErr != nil {
			return nil
		}
	}
	// Judged is what the broker read: the session and the probe, which an
	// incomplete last packet makes part of itself.
	off := firstOffence(x.sent)
	vd := judge(x, off, v)
	// Where the codec rejects the session it is the judge; the reference
	// broker is asked about sessions the codec finds valid.
	if vd == nil && off == nil && f.oracle != nil && !discretionary(x.sent) {
		rx := runSession(ctx, f.oracle.dial, stream, f.o.AnswerWait)
		vd = divergence(summary(x, v), summary(rx, v), v)
	}
	if vd == nil {
		return nil
	}
	return &candidate{v: vd, s: s, n: n, epoch: epoch, at: sent}
}

// ended reports a context that is done or past its deadline: a dial cut
// short by the deadline can return before the context says it is done.
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// health asks whether the broker is still there: an exited process is a
// crash without further probing.
func (f *Fuzzer) health(ctx context.Context) health {
	if f.t.proc != nil && f.t.proc.exited(0) {
		return refused
	}
	h := f.t.check(ctx, f.o.ProbeTimeout)
	if h == refused && f.t.proc != nil {
		f.t.proc.exited(time.Second) // let the exit status arrive
	}
	return h
}

func (f *Fuzzer) remember(n uint64, s Session) {
	f.recentMu.Lock()
	f.recent[f.recentAt%len(f.recent)] = recentSession{n: n, s: s}
	f.recentAt++
	f.recentMu.Unlock()
}

// recentSessions lists the sessions sent last, newest first.
func (f *Fuzzer) recentSessions() []recentSession {
	f.recentMu.Lock()
	defer f.recentMu.Unlock()
	var out []recentSession
	for i := 1; i <= len(f.recent); i++ {
		r := f.recent[(f.recentAt-i+len(f.recent)*2)%len(f.recent)]
		if r.s != nil {
			out = append(out, r)
		}
	}
	return out
}

// observe counts the answer types and the session states an exchange
// reached, for the status line and the statistics.
func (f *Fuzzer) observe(x *exchange, v codec.Version, dec *codec.Decoder) {
	states := make([]string, 0, 8)
	add := func(s string) {
		if !contains(states, s) {
			states = append(states, s)
		}
	}
	dec.Lenient, dec.Version = true, v
	var types [16]int64
	for _, a := range x.answers {
		types[a[0]>>4]++
		p, _, err := dec.Decode(a)
		if err != nil {
			continue
		}
		switch p := p.(type) {
		case *codec.Connack:
			if p.ReasonCode == 0 {
				add("connected")
			} else {
				add("connect refused")
			}
		case *codec.Suback:
			for _, rc := range p.ReasonCodes {
				if rc < 0x80 {
					add(map[codec.Type]string{codec.SUBACK: "subscribed", codec.UNSUBACK: "unsubscribed"}[p.Kind])
				} else {
					add(map[codec.Type]string{codec.SUBACK: "subscribe refused", codec.UNSUBACK: "unsubscribe refused"}[p.Kind])
				}
			}
			if len(p.ReasonCodes) == 0 && p.Kind == codec.UNSUBACK {
				add("unsubscribed")
			}
		case *codec.Ack:
			add(map[codec.Type]string{codec.PUBACK: "qos1 acknowledged", codec.PUBREC: "qos2 received",
				codec.PUBREL: "qos2 released", codec.PUBCOMP: "qos2 completed"}[p.Kind])
		case *codec.Publish:
			add("message delivered")
		case *codec.Disconnect:
			add("disconnected by the broker")
		case *codec.Auth:
			add("authenticating")
		}
	}
	switch {
	case x.dialErr != nil:
		add("connection refused")
	case x.probeAnswered():
		add("read to the end")
	case x.closed:
		add("closed early")
	case x.timedOut:
		add("no answer")
	}
	f.mu.Lock()
	for t, n := range types {
		f.answerTypes[t] += n
	}
	for _, s := range states {
		f.stats.States[s]++
	}
	f.mu.Unlock()
}

// cpuTime is the processor time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (f *Fuzzer) logf(format string, a ...any) {
	if f.o.Log != nil {
		fmt.Fprintf(f.o.Log, format+"\n", a...)
	}
}
