package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"mqttspec/codec"
)

func TestBuiltinSuitesLoad(t *testing.T) {
	cases, err := Load("")
	require.NoError(t, err)
	require.NotEmpty(t, cases)
	for _, c := range cases {
		require.NotEmpty(t, c.Faults, "%s:%d: case %s names no fault it detects", c.File, c.Line, c.ID)
	}
}

func TestScriptErrorsNamePosition(t *testing.T) {
	header := "case x\n  title T\n  versions 3.1.1\n  describe D\n  fault keep-open\n"
	for _, tc := range []struct {
		name, src, want string
	}{
		{"unknown step", header + "  frobnicate c\nend\n", "f.mqtts:6:3: unknown step"},
		{"bad packet", header + "  connect c\n  send c PUBLISH qos=x\nend\n", "f.mqtts:7:"},
		{"bad pattern field", header + "  connect c\n  expect c PUBACK idd=1\nend\n", `f.mqtts:7:19: PUBACK has no field "idd"`},
		{"missing end", header + "  connect c\n", "f.mqtts:1:1: case x has no 'end'"},
		{"bad version", "case x\n  versions 4.0\nend\n", "f.mqtts:2:3: unknown MQTT version"},
		{"bad fault", "case x\n  fault explode PUBLISH\nend\n", `f.mqtts:2:9: unknown fault "explode"`},
		{"bad connection name", header + "  connect Conn1\nend\n", "f.mqtts:6:11: connect needs a connection name"},
		{"untestable without reason", "untestable MQTT-1.5.3-1\n", "f.mqtts:1:1: untestable needs"},
		{"no title", "case x\n  versions 3.1.1\n  describe D\n  connect c\nend\n", "case x has no title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseScript("f.mqtts", tc.src)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestScriptParsesSteps(t *testing.T) {
	src := `section 3.3 PUBLISH
case a.b
  title      T
  versions   3.1.1 5.0
  statements@5.0 MQTT-3.3.1-4
  level      SHOULD
  tags       x y
  require    qos1
  describe   D
  fault      drop PUBACK 2
  connect c CONNECT keepalive=5 -> CONNACK !session-present
  send c PUBLISH qos=1 id=1 topic="${t}" payload="x"
  expect c within 1s PUBACK id=1 || closed
  expect-unordered c
    | PUBLISH topic="a"
    | PUBLISH topic="b"
  @5.0 expect-close c reason=malformed-packet|protocol-error
  wait 10ms
end
`
	cs, err := ParseScript("f", src)
	require.NoError(t, err)
	require.Len(t, cs, 1)
	c := cs[0]
	require.Equal(t, "3.3", c.Section)
	require.Equal(t, SHOULD, c.Level)
	require.Equal(t, []string{"MQTT-3.3.1-4"}, c.StatementsFor(codec.V5))
	require.Empty(t, c.StatementsFor(codec.V311))
	require.Len(t, c.Steps, 6)
	require.Equal(t, OpConnect, c.Steps[0].Op)
	require.Equal(t, "CONNECT keepalive=5", c.Steps[0].Packet)
	require.Len(t, c.Steps[2].Patterns, 2)
	require.True(t, c.Steps[2].Patterns[1].Closed)
	require.Len(t, c.Steps[3].Patterns, 2)
	require.Equal(t, codec.V5, c.Steps[4].Only)
	require.Equal(t, []codec.ReasonCode{codec.MalformedPacket, codec.ProtocolError}, c.Steps[4].Reasons)
}

func TestRepeatAndRefusedConnect(t *testing.T) {
	src := `case r
  title T
  versions 5.0
  describe D
  fault keep-open
  require !qos2 topic-alias-maximum<65535 client-keepalive
  connect c CONNECT clean props{receive-maximum=0} -> closed reason=protocol-error
  connect d
  repeat $cap-receive-maximum+1
    | send d PUBLISH qos=1 id=$i topic="${t}" payload="m"
    | @5.0 expect d PUBACK id=$i
end
`
	cs, err := ParseScript("f", src)
	require.NoError(t, err)
	require.NoError(t, Check(cs))
	st := cs[0].Steps
	require.True(t, st[0].Closed)
	require.Equal(t, []codec.ReasonCode{codec.ProtocolError}, st[0].Reasons)
	require.Equal(t, OpRepeat, st[2].Op)
	require.Len(t, st[2].Body, 2)
	require.Equal(t, codec.V5, st[2].Body[1].Only)
}
