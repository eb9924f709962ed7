package pcap

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countMatches walks a fixture and counts the packets f selects.
func countMatches(t *testing.T, fixtureName string, f *Filter) int {
	r, err := NewReader(bytes.NewReader(readFixture(t, fixtureName)))
	require.NoError(t, err)
	n := 0
	require.NoError(t, r.Walk(Handler{Message: func(m *Message) error {
		if f.Match(m) {
			n++
		}
		return nil
	}}))
	return n
}

// TestFilterMatches runs expressions over the 3.1.1 session (19 packets:
// 10 from the client, 9 from the broker; 5 PUBLISH) and the 5.0 one.
func TestFilterMatches(t *testing.T) {
	tests := []struct {
		expr    string
		fixture string
		want    int
	}{
		{`type==PUBLISH`, "", 5},
		{`type==publish && dir==c2b`, "", 3},
		{`dir==b2c || type==CONNECT`, "", 10},
		{`topic~"^fx/"`, "", 7}, // 5 PUBLISH, the SUBSCRIBE and the UNSUBSCRIBE filter
		{`topic=="fx/1"`, "", 2},
		{`topic!="fx/1" && type==PUBLISH`, "", 3},
		{`qos>=1`, "", 4}, // 3 PUBLISH and the SUBSCRIBE
		{`!(qos>=1)`, "", 15},
		{`qos==0 && type==PUBLISH`, "", 2},
		{`id==3`, "", 4},
		{`size>1000`, "", 1},
		{`size<=4 && (type==PINGREQ || type==PINGRESP)`, "", 2},
		{`client=="fx-311"`, "", 19},
		{`client==fx-311 && addr==10.0.0.1:40001`, "", 19},
		{`broker~":1883$"`, "", 19},
		{`conn==2`, "", 0},
		{`version==3.1.1`, "", 19},
		{`payload~"^hel"`, "", 2},
		{`payload!~"^hel" && type==PUBLISH`, "", 3},
		{`retain`, "", 0},
		{`!retain && type==PUBLISH && !dup`, "", 5},
		{`error || violation`, "", 0},
		{`record > 3 && record <= 5`, "", 2},                    // the CONNECT and the CONNACK
		{`violation=="MQTT-3.3.4-6"`, "writer-v5-ipv6.pcap", 1}, // a client PUBLISH with a Subscription Identifier
		{`violation~"^MQTT-3"`, "writer-v5-ipv6.pcap", 1},
		{`type==AUTH && dir==b2c`, "writer-v5-ipv6.pcap", 1},
		{`version=="5.0" && addr~"^\\[fd00::1\\]"`, "writer-v5-ipv6.pcap", 10},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			f, err := ParseFilter(tc.expr)
			require.NoError(t, err)
			assert.Equal(t, tc.expr, f.String())
			fx := tc.fixture
			if fx == "" {
				fx = "writer-v311.pcap"
			}
			assert.Equal(t, tc.want, countMatches(t, fx, f))
		})
	}
}

// TestFilterErrors: each syntax error names the column where it is.
func TestFilterErrors(t *testing.T) {
	tests := []struct {
		expr string
		col  int
		msg  string
	}{
		{`type==`, 7, "expected a value after '==', found end of filter"},
		{`tpic=="a"`, 1, `unknown field "tpic" (fields: addr, broker, client`},
		{`qos>=x`, 6, `qos is a number; 'x' is not`},
		{`type==FOO`, 7, `unknown packet type 'FOO'`},
		{`(type==PUBLISH`, 15, "expected ')' to close the '(' at column 1, found end of filter"},
		{`topic~"["`, 7, "bad regular expression"},
		{`type=PUBLISH`, 5, "'=' is not an operator; use '=='"},
		{`type==PUBLISH &&`, 17, "expected a field name, '!' or '(', found end of filter"},
		{`topic=="abc`, 8, `string is not closed with "`},
		{`qos~"1"`, 4, "'~' needs a text field; qos is a number"},
		{`dir==up`, 6, "dir is c2b or b2c, not 'up'"},
		{`type==PUBLISH)`, 14, "unexpected ')'; expected && or || or the end"},
		{`type==PUBLISH @`, 15, "unexpected '@'"},
		{``, 1, "expected a field name, '!' or '(', found end of filter"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := ParseFilter(tc.expr)
			require.Error(t, err)
			var fe *FilterError
			require.True(t, errors.As(err, &fe))
			assert.Equal(t, tc.col, fe.Col, "column of %q", tc.expr)
			assert.Contains(t, fe.Msg, tc.msg)
		})
	}
}
