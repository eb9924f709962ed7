package codec

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// capturesDir holds the project's shared packet captures; the repository
// sits next to the shared folder.
const capturesDir = "../../shared/captures"

// serverPorts are the ports the brokers listened on in the captures.
var serverPorts = map[int]bool{1883: true, 18831: true, 18832: true, 18833: true, 18834: true}

// captureConn is one TCP connection's bytes, each direction reassembled.
type captureConn struct {
	stream         int
	client, server []byte
}

// tcpSegment is one TCP tcpSegment with payload, as tshark lists it.
type tcpSegment struct {
	seq     uint32
	payload []byte
}

// needCaptures skips the test when the captures or tshark are missing,
// except in CI, where they must be present.
func needCaptures(t *testing.T) {
	t.Helper()
	missing := ""
	if _, err := os.Stat(filepath.Join(capturesDir, "COUNTS.txt")); err != nil {
		missing = "the shared captures (" + capturesDir + ")"
	} else if _, err := exec.LookPath("tshark"); err != nil {
		missing = "tshark (apt-get install -y tshark)"
	}
	if missing == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI needs %s", missing)
	}
	t.Skipf("needs %s", missing)
}

// tcpConnections reassembles every TCP connection of a capture with tshark,
// one direction at a time, ordering segments by sequence number and
// dropping retransmitted bytes.
func tcpConnections(t *testing.T, file string) []captureConn {
	t.Helper()
	cmd := exec.Command("tshark", "-r", file, "-o", "tcp.desegment_tcp_streams:FALSE", "-Y", "tcp.len > 0",
		"-T", "fields", "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.seq", "-e", "tcp.payload")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "tshark -r %s: %s", file, stderr.String())

	type key struct {
		stream     int
		fromClient bool
	}
	segs := map[key][]tcpSegment{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Split(sc.Text(), "\t")
		require.Len(t, f, 5, "%s: tshark line %d", file, line)
		var n [4]int
		for i := range n {
			n[i], err = strconv.Atoi(f[i])
			require.NoError(t, err, "%s: tshark line %d field %d", file, line, i+1)
		}
		payload, err := hex.DecodeString(f[4])
		require.NoError(t, err, "%s: tshark line %d payload", file, line)
		require.True(t, serverPorts[n[1]] != serverPorts[n[2]], "%s: tshark line %d: ports %d, %d", file, line, n[1], n[2])
		k := key{n[0], serverPorts[n[2]]}
		segs[k] = append(segs[k], tcpSegment{uint32(n[3]), payload})
	}
	require.NoError(t, sc.Err())

	byStream := map[int]*captureConn{}
	for k, ss := range segs {
		sort.SliceStable(ss, func(i, j int) bool { return ss[i].seq < ss[j].seq })
		var b []byte
		next := ss[0].seq
		for _, s := range ss {
			require.LessOrEqual(t, s.seq, next, "%s: stream %d has a gap before seq %d", file, k.stream, s.seq)
			if skip := int(next - s.seq); skip < len(s.payload) {
				b = append(b, s.payload[skip:]...)
				next = s.seq + uint32(len(s.payload))
			}
		}
		c := byStream[k.stream]
		if c == nil {
			c = &captureConn{stream: k.stream}
			byStream[k.stream] = c
		}
		if k.fromClient {
			c.client = b
		} else {
			c.server = b
		}
	}
	conns := make([]captureConn, 0, len(byStream))
	for _, c := range byStream {
		conns = append(conns, *c)
	}
	sort.Slice(conns, func(i, j int) bool { return conns[i].stream < conns[j].stream })
	return conns
}

// captureResult is what reading a connection found: packets per type, and one
// line per packet that the strict decoder rejects or that breaks a rule.
type captureResult struct {
	counts   [16]int
	findings []string
}

// describe is an error in the form used by the expected findings:
// "TYPE field [rule] (reason)".
func describe(err error) string {
	e, ok := AsError(err)
	if !ok {
		return err.Error()
	}
	s := e.Type.String() + " " + e.Field
	if e.Rule != "" {
		s += " [" + e.Rule + "]"
	}
	return s + " (" + e.Reason.String() + ")"
}

// decodeConnection frames both directions with a lenient Reader and checks
// every packet with a strict Decoder too. The client's CONNECT sets the
// version; the server's packets are read in it.
func decodeConnection(t *testing.T, c captureConn, into *captureResult) {
	t.Helper()
	var version Version
	for _, side := range []struct {
		name string
		from Role
		data []byte
	}{{"client", FromClient, c.client}, {"server", FromServer, c.server}} {
		r := NewReader(bytes.NewReader(side.data), 0)
		r.From, r.Lenient, r.Version = side.from, true, version
		strict := Decoder{From: side.from, Version: version}
		for i := 1; ; i++ {
			fh, raw, err := r.ReadRaw()
			if err != nil {
				require.ErrorIs(t, err, io.EOF, "stream %d %s packet %d", c.stream, side.name, i)
				break
			}
			into.counts[fh.Type]++
			_, lenientErr := r.DecodeBody(fh, raw)
			_, strictErr := strict.DecodeBody(fh, raw)
			if strictErr == nil && lenientErr == nil && len(r.Violations) == 0 {
				continue
			}
			f := fmt.Sprintf("stream %d %s packet %d %v: strict ", c.stream, side.name, i, fh.Type)
			if strictErr == nil {
				f += "ok"
			} else {
				f += describe(strictErr)
			}
			for _, e := range r.Violations {
				f += "; lenient notes " + describe(e)
			}
			if lenientErr != nil {
				f += "; lenient fails " + describe(lenientErr)
			}
			into.findings = append(into.findings, f)
		}
		if side.from == FromClient {
			version = r.Version
		}
	}
}

// formatCounts lists non-zero packet counts in type order, as COUNTS.txt does.
func formatCounts(counts *[16]int) string {
	var parts []string
	for typ, n := range counts {
		if n > 0 {
			parts = append(parts, Type(typ).String()+"="+strconv.Itoa(n))
		}
	}
	return strings.Join(parts, " ")
}

// tsharkCounts reads COUNTS.txt: per capture (path relative to the captures
// folder) the packets per type that tshark's MQTT dissector found.
func tsharkCounts(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(capturesDir, "COUNTS.txt"))
	require.NoError(t, err)
	counts := map[string]string{}
	file := ""
	for i, line := range strings.Split(string(data), "\n") {
		switch {
		case line == "":
		case !strings.HasPrefix(line, " "):
			file = line
		case strings.Contains(strings.Fields(line)[0], "="):
			require.NotEmpty(t, file, "COUNTS.txt:%d: counts before a file name", i+1)
			counts[file] = strings.TrimSpace(line)
		}
	}
	return counts
}

// knownFindings explains every packet of the captures that the strict
// decoder rejects or that breaks a rule, one connection at a time.
var knownFindings = []struct {
	file     string
	stream   int
	why      string
	findings []string
}{
	{"mosquitto-mqtt5.pcap", 16, "a raw 5.0 PUBLISH with both QoS bits set, which mosquitto answers with DISCONNECT",
		[]string{"stream 16 client packet 2 PUBLISH: strict PUBLISH qos [MQTT-3.3.1-4] (0x81 malformed-packet); " +
			"lenient notes PUBLISH qos [MQTT-3.3.1-4] (0x81 malformed-packet)"}},
	{"aedes-mqtt311.pcap", 14, "aedes answers a 5.0 CONNECT with the 3.1.1 CONNACK 20 02 00 01: 0x01 is no 5.0 " +
		"Connect Reason Code and the property length is missing",
		[]string{"stream 14 server packet 1 CONNACK: strict CONNACK reason code [MQTT-3.2.2-8] (0x82 protocol-error); " +
			"lenient notes CONNACK reason code [MQTT-3.2.2-8] (0x82 protocol-error); " +
			"lenient fails CONNACK property length (0x81 malformed-packet)"}},
	{"public/suricata-verify-mqtt5-excessiveproplen.pcap", 0, "Suricata's test CONNECT whose property length runs past the packet",
		[]string{"stream 0 client packet 1 CONNECT: strict CONNECT property length (0x81 malformed-packet); " +
			"lenient fails CONNECT property length (0x81 malformed-packet)"}},
	{"public/suricata-verify-mqtt5-pub-mosquittoprops.pcap", 0, "mosquitto_pub -D sent Payload Format Indicators " +
		"0x90 (Will) and 0x58 (PUBLISH); only 0 and 1 are defined",
		[]string{
			"stream 0 client packet 1 CONNECT: strict CONNECT payload-format (0x82 protocol-error); " +
				"lenient notes CONNECT payload-format (0x82 protocol-error)",
			"stream 0 client packet 2 PUBLISH: strict PUBLISH payload-format (0x82 protocol-error); " +
				"lenient notes PUBLISH payload-format (0x82 protocol-error)"}},
}

// TestCaptures decodes every connection of every shared capture: the
// packets per type must match tshark's counts, and every packet must decode
// strictly except those knownFindings explains.
func TestCaptures(t *testing.T) {
	needCaptures(t)
	counts := tsharkCounts(t)
	for _, pattern := range []string{"*.pcap*", "*/*.pcap*"} {
		files, err := filepath.Glob(filepath.Join(capturesDir, pattern))
		require.NoError(t, err)
		for _, f := range files {
			rel, err := filepath.Rel(capturesDir, f)
			require.NoError(t, err)
			require.Contains(t, counts, rel, "every capture has tshark counts in COUNTS.txt")
		}
	}
	for file, want := range counts {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			var got captureResult
			for _, c := range tcpConnections(t, filepath.Join(capturesDir, file)) {
				decodeConnection(t, c, &got)
			}
			require.Equal(t, want, formatCounts(&got.counts), "packets per type, against tshark")
			var explained []string
			for _, k := range knownFindings {
				if k.file == file {
					explained = append(explained, k.findings...)
				}
			}
			require.Equal(t, explained, got.findings)
		})
	}
}

// captureFixtures are connections copied from the captures into
// testdata/captures, so the decoder is checked against real traffic without
// the shared folder or tshark. counts are tshark's, for that tcp.stream.
var captureFixtures = []struct {
	name   string
	file   string
	stream int
	why    string
	counts string
}{
	{"mosquitto-mqtt5-subscriber", "mosquitto-mqtt5.pcap", 0, "5.0 subscriber: subscription identifiers, user properties, QoS 0-2, retained, will",
		"CONNECT=1 CONNACK=1 PUBLISH=12 PUBACK=10 PUBREC=1 PUBREL=1 PUBCOMP=1 SUBSCRIBE=1 SUBACK=1 DISCONNECT=1"},
	{"mosquitto-mqtt5-topic-alias", "mosquitto-mqtt5.pcap", 4, "5.0 PUBLISH with Topic Alias 3, then empty topics; two PUBLISH in one segment",
		"CONNECT=1 CONNACK=1 PUBLISH=3 PUBACK=3 DISCONNECT=1"},
	{"mosquitto-mqtt5-shared", "mosquitto-mqtt5.pcap", 11, "5.0 shared subscription $share/grp/m5/shared",
		"CONNECT=1 CONNACK=1 PUBLISH=1 PUBACK=1 SUBSCRIBE=1 SUBACK=1 DISCONNECT=1"},
	{"mosquitto-mqtt5-qos3", "mosquitto-mqtt5.pcap", 16, "raw PUBLISH with QoS 3",
		"CONNECT=1 CONNACK=1 PUBLISH=1 DISCONNECT=1"},
	{"aedes-connack-to-mqtt5", "aedes-mqtt311.pcap", 14, "aedes answers a 5.0 CONNECT with a 3.1.1 CONNACK",
		"CONNECT=1 CONNACK=1"},
	{"suricata-excessive-property-length", "public/suricata-verify-mqtt5-excessiveproplen.pcap", 0, "CONNECT property length past the packet",
		"CONNECT=1 CONNACK=1 PUBLISH=1 DISCONNECT=1"},
	{"suricata-mosquitto-properties", "public/suricata-verify-mqtt5-pub-mosquittoprops.pcap", 0, "5.0 CONNECT, Will and PUBLISH with most properties",
		"CONNECT=1 CONNACK=1 PUBLISH=1 PUBACK=1 DISCONNECT=1"},
	{"ndpi-mqtt31", "public/ndpi-mqtt.pcapng", 0, "MQTT 3.1 (MQIsdp, level 3) session",
		"CONNECT=1 CONNACK=1 PUBLISH=2 SUBSCRIBE=1 SUBACK=1 DISCONNECT=1"},
	{"zeek-pings", "public/zeek-mqtt.pcap", 0, "MQTT 3.1 session (MQIsdp, level 3) with five PINGREQ/PINGRESP",
		"CONNECT=1 CONNACK=1 PUBLISH=2 SUBSCRIBE=1 SUBACK=1 PINGREQ=5 PINGRESP=5"},
}

const fixturesDir = "testdata/captures"

// TestWriteCaptureFixtures extracts captureFixtures from the captures.
func TestWriteCaptureFixtures(t *testing.T) {
	if os.Getenv("MQTTSPEC_WRITE_FIXTURES") != "1" {
		t.Skip("set MQTTSPEC_WRITE_FIXTURES=1 to rewrite " + fixturesDir + " from the shared captures")
	}
	needCaptures(t)
	require.NoError(t, os.MkdirAll(fixturesDir, 0o755))
	conns := map[string][]captureConn{}
	for _, f := range captureFixtures {
		if conns[f.file] == nil {
			conns[f.file] = tcpConnections(t, filepath.Join(capturesDir, f.file))
		}
		i := sort.Search(len(conns[f.file]), func(i int) bool { return conns[f.file][i].stream >= f.stream })
		require.Less(t, i, len(conns[f.file]), "%s has no tcp.stream %d", f.file, f.stream)
		c := conns[f.file][i]
		text := fmt.Sprintf("# %s\n# source: shared/captures/%s, tcp.stream %d, reassembled with tshark\nstream %d\nclient %x\nserver %x\n",
			f.why, f.file, f.stream, f.stream, c.client, c.server)
		require.NoError(t, os.WriteFile(filepath.Join(fixturesDir, f.name+".txt"), []byte(text), 0o644))
	}
}

// readFixture parses a file written by TestWriteCaptureFixtures.
func readFixture(t *testing.T, name string) captureConn {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixturesDir, name+".txt"))
	require.NoError(t, err)
	var c captureConn
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		key, val, _ := strings.Cut(line, " ")
		switch key {
		case "#":
		case "stream":
			c.stream, err = strconv.Atoi(val)
		case "client":
			c.client, err = hex.DecodeString(val)
		case "server":
			c.server, err = hex.DecodeString(val)
		default:
			t.Fatalf("%s.txt:%d: unknown line %q", name, i+1, key)
		}
		require.NoError(t, err, "%s.txt:%d", name, i+1)
	}
	require.NotEmpty(t, c.client, name)
	return c
}

// TestCaptureFixtures decodes the extracted connections: tshark's counts,
// and exactly the findings knownFindings gives for that connection.
func TestCaptureFixtures(t *testing.T) {
	for _, f := range captureFixtures {
		t.Run(f.name, func(t *testing.T) {
			var got captureResult
			decodeConnection(t, readFixture(t, f.name), &got)
			require.Equal(t, f.counts, formatCounts(&got.counts))
			var explained []string
			for _, k := range knownFindings {
				if k.file == f.file && k.stream == f.stream {
					explained = k.findings
				}
			}
			require.Equal(t, explained, got.findings)
		})
	}
}
