package fuzz

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

func session(t *testing.T, lines ...string) []byte {
	t.Helper()
	s, err := ParseSession(lines...)
	require.NoError(t, err)
	return s.Stream()
}

func unhex(t *testing.T, h string) []byte {
	t.Helper()
	b, err := hex.DecodeString(h)
	require.NoError(t, err)
	return b
}

// The first offence is what a broker must not read on from: the codec's
// strict verdict plus the order of CONNECTs.
func TestFirstOffence(t *testing.T) {
	connect := `CONNECT v=3.1.1 client-id="a" clean keepalive=30`
	for _, tc := range []struct {
		name   string
		stream []byte
		index  int    // -1: no offence
		rule   string // the statement the offence breaks
	}{
		{"a valid session", session(t, connect, `PUBLISH topic="a" payload="x"`, `PINGREQ`), -1, ""},
		{"not CONNECT first", session(t, `PINGREQ`), 0, "MQTT-3.1.0-1"},
		{"a second CONNECT", session(t, connect, connect), 1, "MQTT-3.1.0-2"},
		{"wildcard in a topic name", session(t, connect, `PUBLISH topic="a/+" payload="x"`), 1, "MQTT-3.3.2-2"},
		{"QoS 3", session(t, connect, `PUBLISH qos=3 id=1 topic="a" payload="x"`), 1, "MQTT-3.3.1-4"},
		{"nothing is read after DISCONNECT", session(t, connect, `DISCONNECT`, `PUBLISH qos=3 id=1 topic="a"`), -1, ""},
		{"an incomplete last packet is no offence", append(session(t, connect), 0x30, 0x05, 0x00), -1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			off := firstOffence(tc.stream)
			if tc.index < 0 {
				assert.Nil(t, off)
				return
			}
			require.NotNil(t, off)
			assert.Equal(t, tc.index, off.index)
			assert.Equal(t, tc.rule, off.err.Rule)
		})
	}
}

// The probe proves the broker read everything only when it stands as a
// packet of its own.
func TestCountPings(t *testing.T) {
	for _, tc := range []struct {
		name string
		sent []byte
		want int
	}{
		{"the probe alone", unhex(t, "c000"), 1},
		{"a session PINGREQ and the probe", append(session(t, `CONNECT v=3.1.1 client-id="a"`, `PINGREQ`), probe...), 2},
		{"swallowed by a longer Remaining Length", unhex(t, "e0009002c000"), -1},
		{"completing an incomplete packet", unhex(t, "3003c000"), -1},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, countPings(tc.sent)) })
	}
}

// A broker that closes, refuses or never reads to the probe did not accept
// the offending packet; one that answers the probe and refuses nothing did.
func TestJudgeAcceptedInvalid(t *testing.T) {
	sent := append(session(t, `CONNECT v=5.0 client-id="a" clean`, `SUBSCRIBE id=1 sub("$share//a" qos=1)`), probe...)
	connack := (&codec.Connack{}).Append(nil, codec.V5)
	pingresp := []byte{0xD0, 0x00}
	for _, tc := range []struct {
		name    string
		answers [][]byte
		closed  bool
		want    Kind // "" for no finding
	}{
		{"closed at once [MQTT-4.13.1-1]", [][]byte{connack}, true, ""},
		{"refused with a failure SUBACK", [][]byte{connack, (&codec.Suback{Kind: codec.SUBACK, PacketID: 1, ReasonCodes: []byte{0x8F}}).Append(nil, codec.V5), pingresp}, true, ""},
		{"granted and read on [MQTT-4.8.2-1]", [][]byte{connack, (&codec.Suback{Kind: codec.SUBACK, PacketID: 1, ReasonCodes: []byte{1}}).Append(nil, codec.V5), pingresp}, true, AcceptedInvalid},
		{"an invalid answer comes first", [][]byte{{0x20, 0x02, 0x00, 0x00}}, true, InvalidAnswer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := &exchange{sent: sent, answers: tc.answers, closed: tc.closed, pings: countPings(sent)}
			v := judge(x, firstOffence(sent), codec.V5)
			if tc.want == "" {
				assert.Nil(t, v)
				return
			}
			require.NotNil(t, v)
			assert.Equal(t, tc.want, v.kind, v.detail)
		})
	}
}

// A CONNECT naming no known protocol may be answered in either form.
func TestAnswerVersion(t *testing.T) {
	v311Refusal := []byte{0x20, 0x02, 0x00, 0x01}
	v5Refusal := (&codec.Connack{ReasonCode: codec.UnsupportedProtocolVersion}).Append(nil, codec.V5)
	for _, tc := range []struct {
		name    string
		connect string
		connack []byte
		want    codec.Version
	}{
		{"3.1.1 answered as 3.1.1", `CONNECT v=3.1.1 client-id="a"`, v311Refusal, codec.V311},
		{"5.0 stays 5.0 whatever comes back", `CONNECT v=5.0 client-id="a"`, v311Refusal, codec.V5},
		{"level 7 answered in 5.0 form", `CONNECT v=7 client-id="a"`, v5Refusal, codec.V5},
		{"MQIsdp at level 5 answered as 3.1 [MQTT-3.1.2-1]", `CONNECT v=5.0 proto="MQIsdp" client-id="a"`, v311Refusal, codec.V311},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sent := session(t, tc.connect)
			x := &exchange{sent: sent, answers: [][]byte{tc.connack}}
			assert.Equal(t, tc.want, answerVersion(x, connectLevel(sent)))
		})
	}
}

// Two conforming brokers may differ in what the summary leaves out.
func TestSummaryNormalizes(t *testing.T) {
	sent := append(session(t, `CONNECT v=5.0 client-id="a" clean`), probe...)
	ack := func(rc codec.ReasonCode) []byte {
		return (&codec.Ack{Kind: codec.PUBACK, PacketID: 1, ReasonCode: rc}).Append(nil, codec.V5)
	}
	connack := (&codec.Connack{}).Append(nil, codec.V5)
	delivery := (&codec.Publish{Topic: []byte("t")}).Append(nil, codec.V5)
	a := &exchange{sent: sent, pings: 1, closed: true, answers: [][]byte{connack, ack(0x00), {0xD0, 0}}}
	b := &exchange{sent: sent, pings: 1, closed: true, answers: [][]byte{connack, delivery, ack(0x10), {0xD0, 0}}}
	assert.Nil(t, divergence(summary(a, codec.V5), summary(b, codec.V5), codec.V5),
		"success and no-matching-subscribers, a delivery or none")
	c := &exchange{sent: sent, pings: 1, closed: true, answers: [][]byte{connack, ack(0x87), {0xD0, 0}}}
	d := divergence(summary(c, codec.V5), summary(a, codec.V5), codec.V5)
	require.NotNil(t, d)
	assert.Equal(t, "divergence|PUBACK refused / reference PUBACK ok|PUBACK", d.signature())
}

// Sessions whose handling the spec leaves to the broker are not compared.
func TestDiscretionary(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		want  bool
	}{
		{"plain", []string{`CONNECT v=5.0 client-id="abc" clean`, `PUBLISH topic="a/b" payload="x"`}, false},
		{"a control character may close [1.5.4]", []string{`CONNECT v=5.0 client-id="abc" clean`, `PUBLISH topic="a\u0001" payload="x"`}, true},
		{"a non-character may close", []string{`CONNECT v=3.1.1 client-id="abc" username="u\uffff"`}, true},
		{"a long client identifier may be refused [MQTT-3.1.3-5]", []string{`CONNECT v=3.1.1 client-id="abcdefghijklmnopqrstuvwxyz"`}, true},
		{"an empty client identifier may be refused [MQTT-3.1.3-6]", []string{`CONNECT v=3.1.1 client-id="" clean`}, true},
		{"$ topics [4.7.2]", []string{`CONNECT v=3.1.1 client-id="abc"`, `PUBLISH topic="$share/g/x" payload="x"`}, true},
		{"authentication methods", []string{`CONNECT v=5.0 client-id="abc" props{auth-method="X"}`}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, discretionary(session(t, tc.lines...)))
		})
	}
}

// rewrite gives each execution its own client identifier and topics, and
// leaves damaged packets as they are.
func TestRewrite(t *testing.T) {
	s, err := ParseSession(`CONNECT v=5.0 client-id="a" clean will{topic="w" payload="x"}`,
		`SUBSCRIBE id=1 sub("$share/g/a/#" qos=1) sub("$SYS/#" qos=0)`, `PUBLISH topic="a/b" payload="x"`)
	require.NoError(t, err)
	// Damaged (a non-minimal Remaining Length): sent exactly as it is.
	damaged := []byte{0x30, 0x86, 0x00, 0x00, 0x03, 'a', '/', 'b', 'x'}
	s = append(s, damaged)
	out := rewrite(s, newIdent("run", 7))
	require.True(t, bytes.HasSuffix(out, damaged))
	d := codec.Decoder{Lenient: true}
	var texts []string
	for off := 0; off < len(out)-len(damaged); {
		p, n, err := d.Decode(out[off:])
		require.NoError(t, err)
		texts = append(texts, codec.Format(p))
		off += n
	}
	assert.Equal(t, []string{
		`CONNECT v=5.0 client-id="fzrun7" clean keepalive=0 will{topic="fzrun/7/w" payload="x"}`,
		`SUBSCRIBE id=1 sub("$share/g/fzrun/7/a/#" qos=1) sub("$SYS/#" qos=0)`,
		`PUBLISH topic="fzrun/7/a/b" payload="x"`,
	}, texts)
}
