package codec

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Each row is canonical notation: Parse, encode for the version, decode and
// Format must give the same text back, and re-encoding the same bytes.
var roundTrips = []struct {
	v    Version
	text string
}{
	{V311, `CONNECT v=3.1.1 client-id="c1" clean keepalive=60`},
	{V31, `CONNECT v=3.1 client-id="old-client" keepalive=10 username="u" password="p"`},
	{V311, `CONNECT v=3.1.1 client-id="w" keepalive=5 will{topic="last/will" payload="bye" qos=1 retain}`},
	{V5, `CONNECT v=5.0 client-id="" clean keepalive=30 username="u" password=0x00ff will{topic="w" payload="x" qos=2 props{payload-format=1 message-expiry=5 content-type="text/plain" response-topic="r" correlation-data="c" will-delay=10 user("a"="b")}} props{session-expiry=4294967295 auth-method="SCRAM" auth-data=0x0102 request-problem-info=0 request-response-info=1 receive-maximum=10 topic-alias-maximum=5 user("k"="v") user("k"="v2") maximum-packet-size=1024}`},
	{V311, `CONNACK reason=success`},
	{V311, `CONNACK session-present reason=refused-not-authorized`},
	{V5, `CONNACK session-present reason=success props{session-expiry=0 assigned-client-id="auto-1" server-keep-alive=20 response-info="ri" server-reference="other" reason-string="ok" receive-maximum=100 topic-alias-maximum=10 maximum-qos=1 retain-available=0 maximum-packet-size=65536 wildcard-sub-available=1 subscription-id-available=0 shared-sub-available=1}`},
	{V311, `PUBLISH topic="a/b" payload="hi"`},
	{V311, `PUBLISH dup qos=1 retain id=7 topic="a/b" payload=0x00010203ff`},
	{V311, `PUBLISH qos=2 id=65535 topic="x"`},
	{V5, `PUBLISH qos=1 id=7 topic="a/b" props{payload-format=1 message-expiry=10 content-type="json" response-topic="resp/1" correlation-data=0xbeef subscription-id=1 subscription-id=268435455 topic-alias=3 user("k"="v")} payload="{}"`},
	{V5, `PUBLISH topic="" props{topic-alias=2} payload="aliased"`},
	{V311, `PUBACK id=1`},
	{V311, `PUBREC id=2`},
	{V311, `PUBREL id=3`},
	{V311, `PUBCOMP id=4`},
	{V5, `PUBACK id=1 reason=no-matching-subscribers`},
	{V5, `PUBREC id=2 reason=quota-exceeded props{reason-string="full" user("a"="b")}`},
	{V5, `PUBREL id=3 reason=packet-identifier-not-found`},
	{V5, `PUBCOMP id=4 props{reason-string="done"}`},
	{V311, `SUBSCRIBE id=1 sub("a/#" qos=1) sub("b/+/c" qos=2) sub("d" qos=0)`},
	{V5, `SUBSCRIBE id=9 props{subscription-id=42 user("u"="1")} sub("$share/g/a/#" qos=2 rap rh=1) sub("x" qos=0 no-local rh=2)`},
	{V311, `SUBACK id=1 reasons=[granted-qos-1 granted-qos-2 unspecified-error]`},
	{V5, `SUBACK id=9 props{reason-string="partly"} reasons=[granted-qos-0 not-authorized wildcard-subscriptions-not-supported]`},
	{V311, `UNSUBSCRIBE id=3 filter="a/#" filter="b"`},
	{V5, `UNSUBSCRIBE id=3 props{user("k"="v")} filter="a/#"`},
	{V311, `UNSUBACK id=3`},
	{V5, `UNSUBACK id=3 reasons=[success no-subscription-existed]`},
	{V311, `PINGREQ`},
	{V311, `PINGRESP`},
	{V311, `DISCONNECT`},
	{V5, `DISCONNECT`},
	{V5, `DISCONNECT reason=disconnect-with-will`},
	{V5, `DISCONNECT reason=session-taken-over props{session-expiry=0 server-reference="s2" reason-string="bye"}`},
	{V5, `AUTH`},
	{V5, `AUTH reason=continue-authentication props{auth-method="TOKEN" auth-data="abc"}`},
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range roundTrips {
		t.Run(tc.text, func(t *testing.T) {
			p, err := Parse(tc.text)
			require.NoError(t, err)
			require.Equal(t, tc.text, Format(p), "Format(Parse(s)) must give s back")
			wire := p.Append(nil, tc.v)
			d := Decoder{Version: tc.v}
			got, n, err := d.Decode(wire)
			require.NoError(t, err, "% x", wire)
			require.Equal(t, len(wire), n)
			require.Equal(t, tc.text, Format(got))
			require.Equal(t, wire, got.Append(nil, tc.v), "decode then encode must give the same bytes")
		})
	}
}

func TestDecodeShortBuffer(t *testing.T) {
	p, err := Parse(`PUBLISH qos=1 id=7 topic="a/b" payload="hello"`)
	require.NoError(t, err)
	wire := p.Append(nil, V311)
	for i := 0; i < len(wire); i++ {
		var d Decoder
		_, _, err := d.Decode(wire[:i])
		require.ErrorIs(t, err, ErrShortBuffer, "prefix of %d bytes", i)
	}
}
