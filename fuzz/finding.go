package fuzz

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"mqttspec/codec"
	"mqttspec/pcap"
)

// Finding is one minimized, deduplicated bug, as saved in
// FindingsDir/<ID>.json next to <ID>.mqtts (a conformance script that
// fails on the broker while the bug is there), <ID>.hex and <ID>.pcap.
type Finding struct {
	ID         string   `json:"id"`
	Kind       Kind     `json:"kind"`
	Signature  string   `json:"signature"`
	Statements []string `json:"statements,omitempty"`
	PacketType string   `json:"packet_type,omitempty"`
	Version    string   `json:"version"`
	Detail     string   `json:"detail"`
	Target     string   `json:"target"`
	Seed       int64    `json:"seed"`
	Exec       uint64   `json:"exec"` // the session number in the run that found it
	// FoundAfter is the run time until the session that found it.
	FoundAfter      float64 `json:"found_after_seconds"`
	MinimizeSeconds float64 `json:"minimize_seconds"`
	Checks          int     `json:"minimize_checks"`
	OriginalPackets int     `json:"original_packets"`
	OriginalBytes   int     `json:"original_bytes"`
	// Session is the minimized session, one hex string per packet, before
	// the client identifier and topics are made unique to an execution.
	Session []string `json:"session"`
	// Sent is what the last reproduction wrote, probe included.
	Sent    string   `json:"sent"`
	Answers []Answer `json:"answers"`
	// Reference is the reference broker's summary of the same session.
	Reference  []string `json:"reference,omitempty"`
	ExitStatus string   `json:"exit_status,omitempty"`
	StderrTail string   `json:"stderr_tail,omitempty"`
	// Reproduced is false for a crash or hang that did not happen again
	// when the sessions sent just before it were re-run one by one; they
	// are kept in Candidates.
	Reproduced bool       `json:"reproduced"`
	Candidates [][]string `json:"candidates,omitempty"`
	Files      []string   `json:"files,omitempty"`

	// What the script needs: the broker's answer types to the packets before
	// the offending one, and how the reference broker ended.
	prefixAnswers []string
	offendingAt   int
	// What the reference broker answers the session, for the scripts of
	// invalid answers and divergences.
	scriptItems []string
	scriptEnd   string
}

// Answer is one packet the broker sent.
type Answer struct {
	Hex  string `json:"hex"`
	Text string `json:"text"`
}

func (f *Finding) session() (Session, error) {
	s := make(Session, len(f.Session))
	for i, h := range f.Session {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("finding %s: packet %d is not hex", f.ID, i+1)
		}
		s[i] = b
	}
	return s, nil
}

func hexSession(s Session) []string {
	out := make([]string, len(s))
	for i, p := range s {
		out[i] = hex.EncodeToString(p)
	}
	return out
}

// newFinding fills what every finding has from its verdict and session.
func newFinding(v *verdict, s Session, target string, seed int64, n uint64) *Finding {
	sig := v.signature()
	sum := sha256.Sum256([]byte(sig))
	fd := &Finding{ID: string(v.kind) + "-" + hex.EncodeToString(sum[:4]), Kind: v.kind, Signature: sig,
		Statements: v.statements, Version: v.version.String(), Detail: v.detail, Target: target, Seed: seed,
		Exec: n, Session: hexSession(s), Reproduced: true}
	if v.ptype != 0 {
		fd.PacketType = v.ptype.String()
	}
	return fd
}

// describe fills in the evidence of the last reproduction.
func (f *Finding) describe(x *exchange, v codec.Version) {
	f.Sent = hex.EncodeToString(x.sent)
	f.Answers = f.Answers[:0]
	for _, a := range x.answers {
		f.Answers = append(f.Answers, Answer{Hex: hex.EncodeToString(a), Text: packetText(a, v, codec.FromServer)})
	}
}

// packetText is the notation of a packet, or a note on why there is none.
func packetText(raw []byte, v codec.Version, from codec.Role) string {
	d := codec.Decoder{Version: v, From: from}
	if p, _, err := d.Decode(raw); err == nil {
		return codec.Format(p)
	} else if e, ok := codec.AsError(err); ok {
		return "invalid " + codec.Type(raw[0]>>4).String() + ": " + e.Error()
	}
	return "invalid " + codec.Type(raw[0]>>4).String()
}

// LoadFinding reads a finding saved by a run: its .json file, or any file
// of the finding, or its path without extension.
func LoadFinding(path string) (*Finding, error) {
	base := strings.TrimSuffix(path, filepath.Ext(path))
	b, err := os.ReadFile(base + ".json")
	if err != nil {
		return nil, err
	}
	var f Finding
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s.json: %w", base, err)
	}
	if len(f.Session) == 0 && len(f.Candidates) == 0 {
		return nil, fmt.Errorf("%s.json: the finding has no session", base)
	}
	return &f, nil
}

// save writes the finding's files into dir.
func (f *Finding) save(dir string) error {
	base := filepath.Join(dir, f.ID)
	f.Files = nil
	var pending []func() error
	add := func(ext string, write func(path string) error) {
		f.Files = append(f.Files, f.ID+ext)
		pending = append(pending, func() error { return write(base + ext) })
	}
	if f.Reproduced {
		add(".mqtts", func(p string) error { return os.WriteFile(p, []byte(f.script()), 0o644) })
	}
	add(".hex", func(p string) error { return os.WriteFile(p, []byte(f.hexText()), 0o644) })
	if f.Sent != "" {
		add(".pcap", f.writePcap)
	}
	add(".json", func(p string) error {
		b, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(p, append(b, '\n'), 0o644)
	})
	for _, w := range pending {
		if err := w(); err != nil {
			return fmt.Errorf("finding %s: %w", f.ID, err)
		}
	}
	return nil
}

// hexText is the session as raw hex, one packet per line under a comment
// with its notation.
func (f *Finding) hexText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: %s\n# %s\n", f.ID, f.Signature, f.Detail)
	sessions := [][]string{f.Session}
	if !f.Reproduced {
		sessions = f.Candidates
	}
	for k, hs := range sessions {
		if len(sessions) > 1 {
			fmt.Fprintf(&b, "\n# candidate session %d\n", k+1)
		}
		s := make(Session, 0, len(hs))
		for _, h := range hs {
			p, _ := hex.DecodeString(h)
			s = append(s, p)
		}
		v := connectLevel(s.Stream())
		for _, p := range s {
			fmt.Fprintf(&b, "# %s\n%s\n", packetText(p, v, codec.FromClient), spacedHex(p))
		}
	}
	return b.String()
}

func spacedHex(p []byte) string {
	h := hex.EncodeToString(p)
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// writePcap writes the last reproduction as one TCP connection: the
// session as sent, then the broker's answers.
func (f *Finding) writePcap(path string) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	w, err := pcap.NewWriter(out)
	if err != nil {
		return err
	}
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	flow, err := w.Open(netip.MustParseAddrPort("127.0.0.1:50000"), netip.MustParseAddrPort("127.0.0.1:1883"), t)
	if err != nil {
		return err
	}
	sent, _ := hex.DecodeString(f.Sent)
	if err := flow.Send(pcap.ClientToBroker, t.Add(time.Millisecond), sent); err != nil {
		return err
	}
	for i, a := range f.Answers {
		b, _ := hex.DecodeString(a.Hex)
		if err := flow.Send(pcap.BrokerToClient, t.Add(time.Duration(2+i)*time.Millisecond), b); err != nil {
			return err
		}
	}
	if err := flow.Close(t.Add(time.Duration(3+len(f.Answers)) * time.Millisecond)); err != nil {
		return err
	}
	return out.Close()
}

// script is the finding as a conformance case (docs/scripts.md) that fails
// while the broker has the bug and passes on a conforming broker, so that
// `mqttspec run --suite-dir DIR` replays every finding of DIR.
func (f *Finding) script() string {
	v, _ := codec.ParseVersion(f.Version)
	if v == 0 {
		v = codec.V311
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Found by mqttspec fuzz (seed %d, session %d) against %s.\n", f.Seed, f.Exec, f.Target)
	fmt.Fprintf(&b, "# %s\n", oneLine(f.Detail))
	fmt.Fprintf(&b, "section fuzz Fuzzer findings\n\ncase fuzz.%s\n", f.ID)
	fmt.Fprintf(&b, "  title      %s\n", f.title())
	fmt.Fprintf(&b, "  versions   %s\n", v)
	if len(f.Statements) > 0 {
		fmt.Fprintf(&b, "  statements %s\n", strings.Join(f.Statements, " "))
	}
	fmt.Fprintf(&b, "  tags       fuzz %s\n", f.Kind)
	fmt.Fprintf(&b, "  describe   %s\n", oneLine(f.Detail))
	fmt.Fprintf(&b, "  fault      %s\n\n", f.fault())
	b.WriteString("  open c\n")
	sent, _ := hex.DecodeString(f.Sent)
	if f.Kind != Crash && f.Kind != Hang {
		// The script's own steps stand for the probe; a crash or hang may
		// need its bytes (an earlier packet's length can swallow them).
		sent = sent[:max(0, len(sent)-len(probe))]
	}
	packets := frames(sent)
	split := len(packets)
	if f.Kind == AcceptedInvalid && f.offendingAt < len(packets) {
		split = f.offendingAt
	}
	for _, p := range packets[:split] {
		b.WriteString(sendStep(p, v))
	}
	if f.Kind == AcceptedInvalid {
		expectAll(&b, f.prefixAnswers, v)
		for _, p := range packets[split:] {
			b.WriteString(sendStep(p, v))
		}
	}
	switch f.Kind {
	case AcceptedInvalid:
		b.WriteString("  expect-close c\n")
	case InvalidAnswer, Divergence:
		// What the reference broker answers: a broker that sends a
		// malformed packet instead, or answers otherwise, fails.
		expectAll(&b, f.scriptItems, v)
		if f.scriptEnd == "end: read everything" {
			b.WriteString("  send c PINGREQ\n  expect c PINGRESP\n")
		} else {
			b.WriteString("  expect-close c\n")
		}
	case Crash:
		b.WriteString("  wait 500ms\n  connect p\n")
	case Hang:
		b.WriteString("  connect p within 3s\n  send p PINGREQ\n  expect p within 3s PINGRESP\n")
	}
	b.WriteString("end\n")
	return b.String()
}

// trimProbe drops the PINGRESP that answered the fuzzer's own probe: the
// script sends its own.
func trimProbe(items []string, end string) []string {
	if end != "end: read everything" {
		return items
	}
	for i := len(items) - 1; i >= 0; i-- {
		if items[i] == "PINGRESP" {
			return append(append([]string(nil), items[:i]...), items[i+1:]...)
		}
	}
	return items
}

// expectAll expects the summary items in any order.
func expectAll(b *strings.Builder, items []string, v codec.Version) {
	var lines []string
	for _, it := range items {
		if !strings.HasPrefix(it, "invalid ") {
			lines = append(lines, "  | "+itemPattern(it, v)+"\n")
		}
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("  expect-unordered c\n")
	b.WriteString(strings.Join(lines, ""))
}

// itemPattern turns a summary item into a pattern of the script language:
// "ok" and "refused" become every reason code of that kind the packet type
// has in version v.
func itemPattern(item string, v codec.Version) string {
	t, rest, _ := strings.Cut(item, " ")
	pt, _ := codec.TypeByName(t)
	switch {
	case rest == "" || rest == "[]" || (v != codec.V5 && pt >= codec.PUBACK && pt <= codec.PUBCOMP):
		// Before 5.0 acknowledgements carry no reason code.
		return t
	case strings.HasPrefix(rest, "["):
		codes := strings.Fields(strings.Trim(rest, "[]"))
		for i, c := range codes {
			if c == "ok" || c == "refused" {
				codes[i] = reasonChoice(pt, v, c == "refused")
			}
		}
		return t + " reasons=[" + strings.Join(codes, " ") + "]"
	case rest == "ok" || rest == "refused":
		return t + " reason=" + reasonChoice(pt, v, rest == "refused")
	}
	return t + " reason=" + rest
}

// reasonChoice lists, as pattern alternatives, the reason codes a server
// may send in a packet of type t that grant (below 0x80) or refuse: the
// codes the codec accepts from a server in that packet.
func reasonChoice(t codec.Type, v codec.Version, refuse bool) string {
	var names []string
	for rc := 0; rc < 256; rc++ {
		refusing := rc >= 0x80 || (t == codec.CONNACK && rc != 0) // a 3.1.1 CONNACK refuses with 1-5
		if refusing != refuse {
			continue
		}
		var p codec.Packet
		switch t {
		case codec.CONNACK:
			p = &codec.Connack{ReasonCode: codec.ReasonCode(rc)}
		case codec.SUBACK, codec.UNSUBACK:
			p = &codec.Suback{Kind: t, PacketID: 1, ReasonCodes: []byte{byte(rc)}}
		default:
			p = &codec.Ack{Kind: t, PacketID: 1, ReasonCode: codec.ReasonCode(rc)}
		}
		d := codec.Decoder{Version: v, From: codec.FromServer}
		if _, _, err := d.Decode(p.Append(nil, v)); err == nil {
			names = append(names, codec.ReasonCode(rc).Name(t))
		}
	}
	return strings.Join(names, "|")
}

// sendStep writes a packet in the notation when the notation encodes it to
// the same bytes (with the script's own client identifier), else as hex;
// a packet the codec rejects gets a comment saying why.
func sendStep(p []byte, v codec.Version) string {
	note := ""
	strict := codec.Decoder{Version: v, From: codec.FromClient}
	if _, _, err := strict.Decode(p); errors.Is(err, codec.ErrShortBuffer) {
		note = "  # an incomplete packet\n"
	} else if err != nil {
		note = "  # " + oneLine(err.Error()) + "\n"
	}
	d := codec.Decoder{Lenient: true, Version: v}
	if q, n, err := d.Decode(p); err == nil && n == len(p) {
		text := codec.Format(q)
		if back, err := codec.Parse(text); err == nil && bytes.Equal(back.Append(nil, v), p) {
			if c, ok := q.(*codec.Connect); ok && len(c.ClientID) > 0 {
				c.ClientID = []byte("${cid}-c")
				text = codec.Format(c)
			}
			return note + "  send c " + text + "\n"
		}
	}
	return note + "  send-hex c " + spacedHex(p) + "\n"
}

// frames splits a stream into packets by their Remaining Length; what is
// left after the last whole packet is one more piece.
func frames(stream []byte) [][]byte {
	var out [][]byte
	for off := 0; off < len(stream); {
		fh, err := codec.ParseFixedHeader(stream[off:], codec.V311)
		n := fh.Size + fh.Remaining
		if err != nil || n > len(stream)-off {
			return append(out, stream[off:])
		}
		out = append(out, stream[off:off+n])
		off += n
	}
	return out
}

func (f *Finding) title() string {
	switch f.Kind {
	case Crash:
		return "The broker survives this session (it crashed on it)"
	case Hang:
		return "The broker keeps answering after this session (it hung on it)"
	case AcceptedInvalid:
		return "The broker closes the connection on an invalid " + f.PacketType + " (it went on)"
	case InvalidAnswer:
		return "The broker's " + f.PacketType + " in answer to this session is valid (it was not)"
	}
	return "The broker answers this session like the reference broker (it did not)"
}

// fault names a fault under which a conforming broker fails the script,
// so that `mqttspec selftest` can prove the script checks something.
func (f *Finding) fault() string {
	switch f.Kind {
	case Crash:
		return "drop CONNACK"
	case Hang:
		return "drop PINGRESP"
	case InvalidAnswer, Divergence:
		if f.scriptEnd == "end: read everything" {
			return "drop PINGRESP"
		}
	}
	return "keep-open"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
