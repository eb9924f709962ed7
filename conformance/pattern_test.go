package conformance

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

func TestPatternMatch(t *testing.T) {
	for _, tc := range []struct {
		name, pattern, packet string
		match                 bool
	}{
		{"absent fields match anything", `PUBLISH topic="a"`, `PUBLISH qos=1 id=3 retain topic="a" payload="x"`, true},
		{"type differs", `PUBACK id=1`, `PUBREC id=1`, false},
		{"default qos matches an omitted field", `PUBLISH qos=0`, `PUBLISH topic="a"`, true},
		{"qos differs", `PUBLISH qos=1`, `PUBLISH topic="a"`, false},
		{"default reason", `PUBACK id=1 reason=success`, `PUBACK id=1`, true},
		{"reason by number", `PUBACK reason=0x10`, `PUBACK id=1 reason=no-matching-subscribers`, true},
		{"reason alternatives", `DISCONNECT reason=malformed-packet|protocol-error`, `DISCONNECT reason=protocol-error`, true},
		{"reason alternatives miss", `DISCONNECT reason=malformed-packet|protocol-error`, `DISCONNECT reason=unspecified-error`, false},
		{"flag required", `PUBLISH retain`, `PUBLISH topic="a"`, false},
		{"flag absent required", `PUBLISH !retain`, `PUBLISH retain topic="a"`, false},
		{"flag absent ok", `PUBLISH !retain`, `PUBLISH topic="a"`, true},
		{"wildcard value", `PUBACK id=*`, `PUBACK id=9`, true},
		{"payload hex vs string", `PUBLISH payload=0x6869`, `PUBLISH topic="a" payload="hi"`, true},
		{"property required", `PUBLISH props{message-expiry=10}`, `PUBLISH topic="a" props{message-expiry=10 content-type="x"}`, true},
		{"property value differs", `PUBLISH props{message-expiry=10}`, `PUBLISH topic="a" props{message-expiry=9}`, false},
		{"property absent ok without props", `PUBLISH props{!subscription-id}`, `PUBLISH topic="a"`, true},
		{"property absent fails", `PUBLISH props{!subscription-id}`, `PUBLISH topic="a" props{subscription-id=4}`, false},
		{"user property any order", `PUBLISH props{user("b"="2") user("a"="1")}`, `PUBLISH topic="a" props{user("a"="1") user("b"="2")}`, true},
		{"user property missing", `PUBLISH props{user("c"="3")}`, `PUBLISH topic="a" props{user("a"="1")}`, false},
		{"repeated ids need distinct matches", `PUBLISH props{subscription-id=1 subscription-id=1}`, `PUBLISH topic="a" props{subscription-id=1 subscription-id=2}`, false},
		{"suback list", `SUBACK id=1 reasons=[granted-qos-1 0x80]`, `SUBACK id=1 reasons=[granted-qos-1 unspecified-error]`, true},
		{"suback list length", `SUBACK reasons=[granted-qos-1]`, `SUBACK id=1 reasons=[granted-qos-1 granted-qos-0]`, false},
		{"suback list wildcard", `SUBACK reasons=[* granted-qos-0|granted-qos-1]`, `SUBACK id=1 reasons=[granted-qos-2 granted-qos-1]`, true},
		{"connack session present", `CONNACK session-present`, `CONNACK reason=success`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePattern(tc.pattern)
			require.NoError(t, err)
			pkt, err := codec.Parse(tc.packet)
			require.NoError(t, err)
			m := matcher{vars: newVars()}
			ok, why := m.match(p, pkt)
			assert.Equal(t, tc.match, ok, why)
			if !ok {
				assert.NotEmpty(t, why, "a mismatch must say why")
			}
		})
	}
}

func TestPatternCaptures(t *testing.T) {
	v := newVars()
	m := matcher{vars: v}
	p, _ := ParsePattern(`PUBLISH id=$pid topic=$tp`)
	pkt, _ := codec.Parse(`PUBLISH qos=1 id=42 topic="x/y" payload="p"`)
	ok, why := m.match(p, pkt)
	require.True(t, ok, why)
	require.Equal(t, "id=42 topic=\"x/y\"", substitute("id=$pid topic=$tp", v))

	again, _ := ParsePattern(`PUBACK id=$pid`)
	other, _ := codec.Parse(`PUBACK id=43`)
	ok, why = m.match(again, other)
	require.False(t, ok)
	require.Contains(t, why, "$pid (=42)")

	v.setString("t", "pre/fix")
	withVar, _ := ParsePattern(`PUBLISH topic="${t}/a"`)
	hit, _ := codec.Parse(`PUBLISH topic="pre/fix/a"`)
	ok, why = m.match(withVar, hit)
	require.True(t, ok, why)
}

func TestPatternErrors(t *testing.T) {
	for _, tc := range []struct{ pattern, msg string }{
		{`PUBLSH id=1`, "unknown packet type"},
		{`PUBACK idd=1`, `PUBACK has no field "idd"`},
		{`PUBLISH props{message-expiri=1}`, "unknown property"},
		{`PUBLISH topic="unterminated`, "unterminated"},
	} {
		_, err := ParsePattern(tc.pattern)
		require.Error(t, err, tc.pattern)
		require.Contains(t, err.Error(), tc.msg)
	}
}

func TestSubstituteKeepsDollarTopics(t *testing.T) {
	v := newVars()
	v.setString("t", "p")
	v.setWord("pid", "7")
	require.Equal(t, `SUBSCRIBE id=7 sub("$share/g/p/a" qos=1) sub("$SYS/#" qos=0)`,
		substitute(`SUBSCRIBE id=$pid sub("$share/g/${t}/a" qos=1) sub("$SYS/#" qos=0)`, v))
}

func TestOrderedRepeatedFields(t *testing.T) {
	p, err := ParsePattern(`PUBLISH props{user("a"="1") user("b"="2") user("a"="3")} ordered`)
	require.NoError(t, err)
	inOrder, _ := codec.Parse(`PUBLISH topic="t" props{user("a"="1") user("x"="9") user("b"="2") user("a"="3")}`)
	reordered, _ := codec.Parse(`PUBLISH topic="t" props{user("b"="2") user("a"="1") user("a"="3")}`)
	m := matcher{vars: newVars()}
	ok, why := m.match(p, inOrder)
	require.True(t, ok, why)
	ok, _ = m.match(p, reordered)
	require.False(t, ok, "a reordering broker must not pass an ordered pattern")
}

func TestVariableExpressions(t *testing.T) {
	v := newVars()
	v.setWord("cap-receive-maximum", "20")
	require.Equal(t, "id=21 n=19 m=20", substitute("id=$cap-receive-maximum+1 n=$cap-receive-maximum-1 m=$cap-receive-maximum", v))
	require.Equal(t, `payload="xxx"`, substitute("payload=$fill(3)", v))
	n, ok := v.number("$cap-receive-maximum+1")
	require.True(t, ok)
	require.Equal(t, 21, n)
	require.Equal(t, `payload=$fill(99999999999)`, substitute("payload=$fill(99999999999)", v), "fills are bounded")
}
