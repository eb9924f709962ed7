package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"mqttspec/codec"
	"mqttspec/pcap"
)

func init() {
	register(command{"pcap", "show the MQTT in packet captures (pcap dump FILE), or turn one into a case (pcap script FILE)", pcapCmd})
}

const pcapUsage = `usage: mqttspec pcap dump FILE [--json] [--stats] [--port N] [--filter EXPR]
       mqttspec pcap script FILE [--port N] [--id ID] [--timing] [--topic-prefix] > case.mqtts

Prints one line per MQTT packet found in a pcap or pcapng capture: time since
the first record, connection (client → broker), direction, and the packet in
the codec's notation, with the rules it breaks after "!!". MQTT is found on
port 1883, on --port ports, and on any port by its content (a CONNECT, or a
WebSocket upgrade offering mqtt); 8883 is reported as TLS.

Exit status: 0 read to the end; 1 the file is unreadable or damaged (what was
decoded before is printed); 2 bad arguments or filter.
`

func pcapCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, pcapUsage)
		return 2
	}
	switch args[0] {
	case "dump":
		return pcapDump(args[1:], stdout, stderr)
	case "script":
		return pcapScript(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "mqttspec pcap: unknown subcommand %q\n\n%s", args[0], pcapUsage)
	return 2
}

// pcapPorts collects --port values (repeatable, or comma-separated).
type pcapPorts []uint16

func (p *pcapPorts) String() string { return fmt.Sprint(*p) }

func (p *pcapPorts) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 16)
		if err != nil || n == 0 {
			return fmt.Errorf("%q is not a TCP port", f)
		}
		*p = append(*p, uint16(n))
	}
	return nil
}

// maxWarnings is how many record warnings are printed before the rest are
// only counted.
const maxWarnings = 20

// pcapPayloadMax is how much of a payload a dump line shows.
const pcapPayloadMax = 64

func pcapDump(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mqttspec pcap dump", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "one JSON object per line (with --stats: the summary as one object)")
	stats := fs.Bool("stats", false, "print a summary instead of the packets")
	filterSrc := fs.String("filter", "", "show only packets matching `EXPR` (see --help-filter)")
	helpFilter := fs.Bool("help-filter", false, "describe the filter language")
	top := fs.Int("top", 20, "rows of the --stats client and topic tables")
	var ports pcapPorts
	fs.Var(&ports, "port", "another TCP `port` carrying plain MQTT (repeatable)")
	fs.Usage = func() { fmt.Fprint(stderr, pcapUsage, "\nflags:\n"); fs.PrintDefaults() }
	// Flags may come before or after the file name.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if *helpFilter {
		fmt.Fprintln(stdout, pcap.FilterHelp)
		return 0
	}
	if len(files) != 1 {
		fmt.Fprintf(stderr, "mqttspec pcap dump: want exactly one capture file, got %d\n", len(files))
		fs.Usage()
		return 2
	}
	var filter *pcap.Filter
	if *filterSrc != "" {
		var err error
		if filter, err = pcap.ParseFilter(*filterSrc); err != nil {
			fmt.Fprintf(stderr, "mqttspec pcap dump: --filter: %v\n  %s\n  %*s\n", err, *filterSrc, filterCol(err), "^")
			return 2
		}
	}
	r, err := pcap.Open(files[0])
	if err != nil {
		fmt.Fprintf(stderr, "mqttspec pcap dump: %v\n", err)
		return 1
	}
	defer r.Close()
	r.Ports = ports

	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	d := &pcapDumper{w: out, r: r, json: *asJSON, filter: filter}
	if *stats {
		d.summary = pcap.NewSummary()
	}
	warnings := 0
	walkErr := r.Walk(pcap.Handler{
		Message: d.message,
		Stream:  d.event,
		Warning: func(w *pcap.Warning) {
			warnings++
			if warnings <= maxWarnings {
				fmt.Fprintf(stderr, "warning: %v\n", w)
			}
		},
	})
	if d.summary != nil {
		if d.json {
			d.writeJSON(pcapStatsJSON{Summary: d.summary, Stats: r.Stats()})
		} else if err := d.summary.WriteText(out, r.Stats(), *top); err != nil {
			d.err = err
		}
	}
	if err := out.Flush(); err != nil && d.err == nil {
		d.err = err
	}
	if warnings > maxWarnings {
		fmt.Fprintf(stderr, "warning: %d more warnings not shown\n", warnings-maxWarnings)
	}
	if d.err != nil {
		fmt.Fprintf(stderr, "mqttspec pcap dump: writing output: %v\n", d.err)
		return 1
	}
	if walkErr != nil {
		fmt.Fprintf(stderr, "mqttspec pcap dump: %s: %v\n", files[0], walkErr)
		return 1
	}
	return 0
}

// filterCol is where to put the caret under a filter error.
func filterCol(err error) int {
	var fe *pcap.FilterError
	if errors.As(err, &fe) {
		return fe.Col
	}
	return 1
}

// pcapDumper prints what the reader finds.
type pcapDumper struct {
	w       *bufio.Writer
	r       *pcap.Reader
	json    bool
	filter  *pcap.Filter
	summary *pcap.Summary
	line    []byte
	err     error

	first time.Time // of the capture's first record, once known
	conns [][]byte  // "#ID client → broker" by Conn.ID, made once per connection
}

// since is t's distance from the capture's first record, which the reader
// knows before it delivers anything.
func (d *pcapDumper) since(t time.Time) time.Duration {
	if d.first.IsZero() {
		d.first = d.r.Stats().First
	}
	return t.Sub(d.first)
}

func (d *pcapDumper) rel(t time.Time) float64 { return d.since(t).Seconds() }

// appendTime appends t as seconds since the first record, to the microsecond
// that pcap timestamps carry: what strconv.AppendFloat(b, d.rel(t), 'f', 6, 64)
// gives, in integers.
func (d *pcapDumper) appendTime(b []byte, t time.Time) []byte {
	us := d.since(t).Round(time.Microsecond).Microseconds()
	if us < 0 {
		b = append(b, '-')
		us = -us
	}
	var digits [24]byte // right to left: six decimals, the point, the seconds
	i := len(digits)
	for n := 0; n < 8 || us > 0; n++ {
		i--
		if n == 6 {
			digits[i] = '.'
			continue
		}
		digits[i] = byte('0' + us%10)
		us /= 10
	}
	return append(b, digits[i:]...)
}

func (d *pcapDumper) appendConn(b []byte, c *pcap.Conn) []byte {
	for len(d.conns) <= c.ID {
		d.conns = append(d.conns, nil)
	}
	if d.conns[c.ID] == nil {
		d.conns[c.ID] = c.AppendTo(nil)
	}
	return append(b, d.conns[c.ID]...)
}

func (d *pcapDumper) message(m *pcap.Message) error {
	if d.filter != nil && !d.filter.Match(m) {
		return nil
	}
	if d.summary != nil {
		d.summary.Message(m)
		return nil
	}
	if d.json {
		return d.writeJSON(pcapPacketJSON(m, d.rel(m.Time)))
	}
	b := d.appendTime(d.line[:0], m.Time)
	b = append(b, ' ')
	b = d.appendConn(b, m.Conn)
	if m.Dir == pcap.ClientToBroker {
		b = append(b, "  c→b"...)
	} else {
		b = append(b, "  b→c"...)
	}
	b = appendBrief(b, m)
	b = append(b, '\n')
	d.line = b
	_, err := d.w.Write(b)
	return err
}

// appendBrief appends the packet's notation with long payloads cut, and the
// rules it breaks; an undecodable packet shows the error and its first bytes.
func appendBrief(b []byte, m *pcap.Message) []byte {
	if m.Packet == nil {
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = append(b, m.Type.String()...)
		b = append(b, " !! undecodable: "...)
		b = append(b, m.Err.Error()...)
		b = append(b, " raw=0x"...)
		raw := m.Raw[:min(len(m.Raw), pcapPayloadMax)]
		b = hex.AppendEncode(b, raw)
		if len(raw) < len(m.Raw) {
			b = fmt.Appendf(b, "…(%d bytes)", len(m.Raw))
		}
	} else {
		b = appendShort(b, m.Packet)
	}
	for _, v := range m.Violations {
		b = append(b, "  !! "...)
		if v.Rule != "" {
			b = append(b, v.Rule...)
			b = append(b, ' ')
		}
		if v.Field != "" {
			b = append(b, v.Field...)
			b = append(b, ": "...)
		}
		b = append(b, v.Msg...)
	}
	return b
}

// appendShort formats p, cutting a PUBLISH payload or a will payload after
// pcapPayloadMax bytes (at a character boundary) and saying how long it was.
func appendShort(b []byte, p codec.Packet) []byte {
	switch p := p.(type) {
	case *codec.Publish:
		if len(p.Payload) > pcapPayloadMax {
			short := *p
			short.Payload = cut(p.Payload)
			// The payload is the last field of a PUBLISH line.
			b = codec.AppendText(b, &short)
			b = append(b, "…("...)
			b = strconv.AppendInt(b, int64(len(p.Payload)), 10)
			return append(b, " bytes)"...)
		}
	case *codec.Connect:
		if len(p.WillPayload) > pcapPayloadMax {
			short := *p
			short.WillPayload = cut(p.WillPayload)
			b = codec.AppendText(b, &short)
			return fmt.Appendf(b, " (will payload cut, %d bytes)", len(p.WillPayload))
		}
	}
	return codec.AppendText(b, p)
}

// cut shortens a payload to pcapPayloadMax bytes. When the cut would split a
// UTF-8 character of text, it moves back to the character's start so that the
// text stays text in the notation; only the bytes shown are looked at.
func cut(payload []byte) []byte {
	n := pcapPayloadMax
	for m := n; m > n-utf8.UTFMax; m-- {
		if utf8.RuneStart(payload[m]) {
			if m < n && utf8.Valid(payload[:m]) {
				return payload[:m]
			}
			break
		}
	}
	return payload[:n]
}

func (d *pcapDumper) event(e *pcap.StreamEvent) error {
	if d.summary != nil {
		d.summary.Event(e)
		return nil
	}
	if d.filter != nil || (e.Kind != pcap.Damaged && e.Kind != pcap.Encrypted) {
		return nil
	}
	if d.json {
		return d.writeJSON(pcapEventJSON(e, d.rel(e.Time)))
	}
	b := d.appendTime(d.line[:0], e.Time)
	b = append(b, ' ')
	b = d.appendConn(b, e.Conn)
	b = append(b, "  -- "...)
	switch e.Kind {
	case pcap.Damaged:
		b = fmt.Appendf(b, "%s damaged: %d bytes lost, %d skipped (%s)", e.Dir, e.Lost, e.Discarded, e.Reason)
	case pcap.Encrypted:
		b = fmt.Appendf(b, "encrypted (%s): not decodable", e.Reason)
	}
	b = append(b, '\n')
	d.line = b
	_, err := d.w.Write(b)
	return err
}

func (d *pcapDumper) writeJSON(v any) error {
	b, err := json.Marshal(v)
	if err == nil {
		b = append(b, '\n')
		_, err = d.w.Write(b)
	}
	if err != nil && d.err == nil {
		d.err = err
	}
	return err
}

type pcapViolationJSON struct {
	Rule   string `json:"rule,omitempty"`
	Reason string `json:"reason,omitempty"`
	Field  string `json:"field,omitempty"`
	Offset int    `json:"offset"`
	Msg    string `json:"msg"`
}

type pcapLineJSON struct {
	Event      string              `json:"event"`
	Record     int                 `json:"record"`
	Time       time.Time           `json:"time"`
	Rel        float64             `json:"rel"`
	Conn       int                 `json:"conn"`
	Client     string              `json:"client"`
	Broker     string              `json:"broker"`
	ClientID   string              `json:"client_id,omitempty"`
	Version    string              `json:"version,omitempty"`
	Dir        string              `json:"dir,omitempty"`
	Type       string              `json:"type,omitempty"`
	Size       int                 `json:"size,omitempty"`
	Topic      *string             `json:"topic,omitempty"`
	QoS        *int                `json:"qos,omitempty"`
	Packet     string              `json:"packet,omitempty"`
	Violations []pcapViolationJSON `json:"violations,omitempty"`
	Error      string              `json:"error,omitempty"`
	Lost       int                 `json:"lost,omitempty"`
	Discarded  int                 `json:"discarded,omitempty"`
	Reason     string              `json:"reason,omitempty"`
}

func pcapConnJSON(l *pcapLineJSON, c *pcap.Conn) {
	l.Conn, l.Client, l.Broker, l.ClientID = c.ID, c.Client.String(), c.Broker.String(), c.ClientID
	if c.Version != 0 {
		l.Version = c.Version.String()
	}
}

func pcapPacketJSON(m *pcap.Message, rel float64) *pcapLineJSON {
	l := &pcapLineJSON{Event: "packet", Record: m.Record, Time: m.Time, Rel: rel, Dir: m.Dir.String(),
		Type: m.Type.String(), Size: len(m.Raw)}
	pcapConnJSON(l, m.Conn)
	if m.Packet != nil {
		l.Packet = string(appendShort(nil, m.Packet))
	}
	if p, ok := m.Packet.(*codec.Publish); ok {
		topic, qos := string(p.Topic), int(p.QoS)
		l.Topic, l.QoS = &topic, &qos
	}
	if m.Err != nil {
		l.Error = m.Err.Error()
	}
	for _, v := range m.Violations {
		l.Violations = append(l.Violations, pcapViolationJSON{Rule: v.Rule, Reason: v.Reason.String(), Field: v.Field, Offset: v.Offset, Msg: v.Msg})
	}
	return l
}

func pcapEventJSON(e *pcap.StreamEvent, rel float64) *pcapLineJSON {
	l := &pcapLineJSON{Event: e.Kind.String(), Record: e.Record, Time: e.Time, Rel: rel, Lost: e.Lost,
		Discarded: e.Discarded, Reason: e.Reason}
	pcapConnJSON(l, e.Conn)
	if e.Kind == pcap.Damaged {
		l.Dir = e.Dir.String()
	}
	return l
}

type pcapStatsJSON struct {
	Summary *pcap.Summary `json:"summary"`
	Stats   pcap.Stats    `json:"stats"`
}
