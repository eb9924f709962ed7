package broker

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// matchCases pairs topic filters with the topic names they must and must not match (section
// 4.7): wildcards fill whole levels, "#" includes the parent level, '$' topics are not matched
// by leading wildcards [MQTT-4.7.2-1], and nothing is normalized [MQTT-4.7.3-4].
var matchCases = []struct {
	filter      string
	match, miss []string
}{
	{"a/b", []string{"a/b"}, []string{"a", "a/b/c", "A/b", "a/b/", "/a/b"}},
	{"a/+", []string{"a/b", "a/"}, []string{"a", "a/b/c", "b/a"}},
	{"+/+", []string{"a/b", "/b", "a/", "/"}, []string{"a", "a/b/c", "$SYS/x"}},
	{"+", []string{"a", ""}, []string{"a/b", "/", "$SYS"}},
	{"/+", []string{"/a", "/"}, []string{"a", "a/b"}},
	{"a/#", []string{"a", "a/b", "a/b/c", "a/"}, []string{"b", "ab", "$a/b"}},
	{"#", []string{"a", "a/b", "/", "/a"}, []string{"$SYS", "$SYS/broker", "$share/x"}},
	{"+/b/#", []string{"a/b", "a/b/c", "/b"}, []string{"a/c", "$x/b"}},
	{"$SYS/#", []string{"$SYS", "$SYS/broker/uptime"}, []string{"SYS/a"}},
	{"$SYS/+", []string{"$SYS/a"}, []string{"$SYS/a/b"}},
	{"a/+/c", []string{"a/b/c", "a//c"}, []string{"a/b/c/d", "a/c"}},
	{"sport/tennis/+", []string{"sport/tennis/player1"}, []string{"sport/tennis/player1/ranking", "sport/tennis"}},
	{"é/ü", []string{"é/ü"}, []string{"e/u", "é/u"}},
}

func TestTopicMatching(t *testing.T) {
	for _, tc := range matchCases {
		t.Run(tc.filter, func(t *testing.T) {
			var idx topicIndex
			s := newSession("s")
			idx.subscribe(&subscription{sess: s, filter: tc.filter}, tc.filter, 1)
			var rs retainedStore
			for _, topic := range append(slices.Clone(tc.match), tc.miss...) {
				if topic != "" {
					rs.set(&message{topic: []byte(topic), payload: []byte(topic)})
				}
			}
			var retained []string
			for _, m := range rs.match(tc.filter, time.Now(), nil) {
				retained = append(retained, string(m.topic))
			}
			for _, topic := range tc.match {
				require.Len(t, idx.match(topic, nil), 1, "%q must match %q", tc.filter, topic)
				if topic != "" {
					require.Contains(t, retained, topic, "retained %q must match %q", topic, tc.filter)
				}
			}
			for _, topic := range tc.miss {
				require.Empty(t, idx.match(topic, nil), "%q must not match %q", tc.filter, topic)
				require.NotContains(t, retained, topic, "retained %q must not match %q", topic, tc.filter)
			}
			require.True(t, idx.unsubscribe(s, tc.filter))
			require.Empty(t, idx.root.children, "unsubscribing leaves no nodes behind")
		})
	}
}

func TestTopics(t *testing.T) {
	conn5 := func(name, props string) []string {
		ack := connack5
		if props != "" {
			props = " props{" + props + "}"
		}
		return []string{name + ` > CONNECT v=5.0 client-id="` + name + `" clean` + props, name + ` < ` + ack}
	}
	runScripts(t, []scriptCase{
		{name: "shared subscription round-robin", ids: "5.0 section 4.8.2, MQTT-4.8.2-3",
			lines: lines(conn5("a", ""), conn5("b", ""), conn5("p", ""), []string{
				`a > SUBSCRIBE id=1 sub("$share/g/t/+" qos=1)`, `a < SUBACK id=1 reasons=[granted-qos-1]`,
				`b > SUBSCRIBE id=1 sub("$share/g/t/+" qos=0)`, `b < SUBACK id=1 reasons=[granted-qos-0]`,
				`p > PUBLISH qos=1 id=1 topic="t/1" payload="1"`, `p < PUBACK id=1`,
				`p > PUBLISH qos=1 id=2 topic="t/2" payload="2"`, `p < PUBACK id=2`,
				`p > PUBLISH qos=1 id=3 topic="t/3" payload="3"`, `p < PUBACK id=3`,
				`p > PUBLISH qos=1 id=4 topic="t/4" payload="4"`, `p < PUBACK id=4`,
				`a < PUBLISH qos=1 id=1 topic="t/2" payload="2"`, `a < PUBLISH qos=1 id=2 topic="t/4" payload="4"`,
				`b < PUBLISH topic="t/1" payload="1"`, `b < PUBLISH topic="t/3" payload="3"`,
				`a silent`, `b silent`})},
		{name: "shared and non-shared subscriptions each get a copy", ids: "5.0 section 4.8.2",
			lines: lines(conn5("a", ""), []string{
				`a > SUBSCRIBE id=1 sub("$share/g/t" qos=0) sub("t" qos=0)`, `a < SUBACK id=1 reasons=[granted-qos-0 granted-qos-0]`,
				`a > PUBLISH topic="t" payload="x"`, `a < PUBLISH topic="t" payload="x"`, `a < PUBLISH topic="t" payload="x"`, `a silent`,
				`a > UNSUBSCRIBE id=2 filter="$share/g/t"`, `a < UNSUBACK id=2 reasons=[success]`,
				`a > PUBLISH topic="t" payload="y"`, `a < PUBLISH topic="t" payload="y"`, `a silent`})},
		{name: "No Local", ids: "5.0:MQTT-3.8.3-3",
			lines: lines(conn5("a", ""), conn5("b", ""), []string{
				`a > SUBSCRIBE id=1 sub("t" qos=0 no-local)`, `a < SUBACK id=1 reasons=[granted-qos-0]`,
				`a > PUBLISH topic="t" payload="own"`, `a silent`,
				`b > PUBLISH topic="t" payload="other"`, `a < PUBLISH topic="t" payload="other"`})},
		{name: "topic alias from the client", ids: "5.0:MQTT-3.3.2-12 section 3.3.2.3.4",
			lines: lines(conn5("a", ""), []string{
				`a > SUBSCRIBE id=1 sub("long/topic/name" qos=0)`, `a < SUBACK id=1 reasons=[granted-qos-0]`,
				`a > PUBLISH topic="long/topic/name" props{topic-alias=100} payload="1"`, `a < PUBLISH topic="long/topic/name" payload="1"`,
				`a > PUBLISH topic="" props{topic-alias=100} payload="2"`, `a < PUBLISH topic="long/topic/name" payload="2"`})},
		{name: "topic aliases do not outlive the connection", ids: "5.0:MQTT-3.3.2-7",
			lines: lines(conn5("a", ""), []string{
				`a > PUBLISH topic="t" props{topic-alias=1} payload="1"`, `a > DISCONNECT`, `a closed`,
				`a > CONNECT v=5.0 client-id="a" clean`, `a < ` + connack5,
				`a > PUBLISH topic="" props{topic-alias=1} payload="2"`, `a < DISCONNECT reason=protocol-error...`, `a closed`})},
		{name: "topic alias above the maximum", ids: "5.0:MQTT-3.3.2-9 section 3.3.2.3.4 reason 0x94",
			lines: lines(conn5("a", ""), []string{
				`a > PUBLISH topic="t" props{topic-alias=101} payload="1"`, `a < DISCONNECT reason=topic-alias-invalid...`, `a closed`})},
		{name: "topic aliases to the client", ids: "5.0:MQTT-3.1.2-26 MQTT-3.3.2-11",
			lines: lines(conn5("a", "topic-alias-maximum=1"), []string{
				`a > SUBSCRIBE id=1 sub("x/#" qos=0)`, `a < SUBACK id=1 reasons=[granted-qos-0]`,
				`a > PUBLISH topic="x/1" payload="1"`, `a < PUBLISH topic="x/1" props{topic-alias=1} payload="1"`,
				`a > PUBLISH topic="x/1" payload="2"`, `a < PUBLISH topic="" props{topic-alias=1} payload="2"`,
				`a > PUBLISH topic="x/2" payload="3"`, `a < PUBLISH topic="x/2" payload="3"`})},
		{name: "no topic aliases to a client that accepts none", ids: "5.0:MQTT-3.1.2-27",
			lines: lines(conn5("a", ""), []string{
				`a > SUBSCRIBE id=1 sub("x" qos=0)`, `a < SUBACK id=1 reasons=[granted-qos-0]`,
				`a > PUBLISH topic="x" payload="1"`, `a < PUBLISH topic="x" payload="1"`,
				`a > PUBLISH topic="x" payload="2"`, `a < PUBLISH topic="x" payload="2"`})},
		{name: "subscription replaced, not added", ids: "MQTT-3.8.4-3",
			lines: lines(conn5("a", ""), []string{
				`a > SUBSCRIBE id=1 props{subscription-id=1} sub("t" qos=2)`, `a < SUBACK id=1 reasons=[granted-qos-2]`,
				`a > SUBSCRIBE id=2 props{subscription-id=2} sub("t" qos=0)`, `a < SUBACK id=2 reasons=[granted-qos-0]`,
				`a > PUBLISH qos=1 id=1 topic="t" payload="x"`, `a < PUBACK id=1`,
				`a < PUBLISH topic="t" props{subscription-id=2} payload="x"`, `a silent`})},
		{name: "unsubscribe compares filters exactly", ids: "MQTT-3.10.4-1 MQTT-3.10.4-4 MQTT-3.10.4-5 MQTT-3.11.3-1",
			lines: lines(conn5("a", ""), []string{
				`a > SUBSCRIBE id=1 sub("a/+" qos=0)`, `a < SUBACK id=1 reasons=[granted-qos-0]`,
				`a > UNSUBSCRIBE id=2 filter="a/b" filter="a/+" filter="a/+"`, `a < UNSUBACK id=2 reasons=[no-subscription-existed success no-subscription-existed]`,
				`a > PUBLISH topic="a/b" payload="x"`, `a silent`})},
		{name: "3.1.1 UNSUBACK", ids: "3.1.1:MQTT-3.10.4-4 MQTT-3.10.4-5",
			lines: []string{`a > CONNECT v=3.1.1 client-id="a" clean`, `a < CONNACK reason=success`,
				`a > UNSUBSCRIBE id=7 filter="nothing"`, `a < UNSUBACK id=7`}},
		{name: "3.1.1 treats $share literally", ids: "3.1.1 section 4.7 (no shared subscriptions before 5.0)",
			lines: []string{`a > CONNECT v=3.1.1 client-id="a" clean`, `a < CONNACK reason=success`,
				`a > SUBSCRIBE id=1 sub("$share/g/t" qos=0)`, `a < SUBACK id=1 reasons=[granted-qos-0]`,
				`a > PUBLISH topic="t" payload="1"`, `a silent`,
				`a > PUBLISH topic="$share/g/t" payload="2"`, `a < PUBLISH topic="$share/g/t" payload="2"`}},
		{name: "publishing to $SYS is refused", ids: "MQTT-4.7.2-1 section 4.7.2 (SHOULD prevent $ topics between clients)",
			lines: lines(conn5("a", ""), []string{
				`a > SUBSCRIBE id=1 sub("$SYS/#" qos=0)`, `a < SUBACK id=1 reasons=[granted-qos-0]`,
				`a > PUBLISH qos=1 id=1 topic="$SYS/x" payload="x"`, `a < PUBACK id=1 reason=not-authorized...`, `a silent`})},
		{name: "$SYS status topics", ids: "MQTT-4.7.2-1 section 4.7.2",
			configure: func(c *Config) { c.SysInterval = 20 * time.Millisecond },
			lines: lines(conn5("a", ""), []string{
				`- wait 50ms`,
				`a > SUBSCRIBE id=1 sub("#" qos=0) sub("+/broker/version" qos=0)`, `a < SUBACK id=1 reasons=[granted-qos-0 granted-qos-0]`, `a silent`,
				`a > SUBSCRIBE id=2 sub("$SYS/broker/version" qos=0)`, `a < SUBACK id=2 reasons=[granted-qos-0]`,
				`a < PUBLISH retain topic="$SYS/broker/version" payload="` + Version + `"`,
				`a < PUBLISH topic="$SYS/broker/version" payload="` + Version + `"`})},
		{name: "subscription quota", ids: "5.0 section 3.9.3 reason 0x97",
			configure: func(c *Config) { c.MaxSubscriptions = 1 },
			lines: lines(conn5("a", ""), []string{
				`a > SUBSCRIBE id=1 sub("x" qos=0) sub("y" qos=0)`,
				`a < SUBACK id=1 props{reason-string="the session has the maximum number of subscriptions"} reasons=[granted-qos-0 quota-exceeded]`,
				`a > SUBSCRIBE id=2 sub("x" qos=1)`, `a < SUBACK id=2 reasons=[granted-qos-1]`})},
		{name: "wildcards unavailable 5.0", ids: "5.0 section 3.2.2.3.12 reason 0xA2",
			configure: func(c *Config) { c.WildcardSubAvailable = false },
			lines: []string{`a > CONNECT v=5.0 client-id="a"`, `a < CONNACK reason=success props{topic-alias-maximum=100 maximum-packet-size=1048576 wildcard-sub-available=0}`,
				`a > SUBSCRIBE id=1 sub("a/+" qos=0)`, `a < DISCONNECT reason=wildcard-subscriptions-not-supported...`, `a closed`}},
		{name: "wildcards unavailable 3.1.1", ids: "3.1.1:MQTT-3.8.4-5 (failure return code)",
			configure: func(c *Config) { c.WildcardSubAvailable = false },
			lines: []string{`a > CONNECT v=3.1.1 client-id="a"`, `a < CONNACK reason=success`,
				`a > SUBSCRIBE id=1 sub("a/+" qos=0) sub("a" qos=1)`, `a < SUBACK id=1 reasons=[unspecified-error granted-qos-1]`}},
		{name: "shared subscriptions unavailable", ids: "5.0 section 3.2.2.3.14 reason 0x9E",
			configure: func(c *Config) { c.SharedSubAvailable = false },
			lines: []string{`a > CONNECT v=5.0 client-id="a"`, `a < CONNACK reason=success props{topic-alias-maximum=100 maximum-packet-size=1048576 shared-sub-available=0}`,
				`a > SUBSCRIBE id=1 sub("$share/g/a" qos=0)`, `a < DISCONNECT reason=shared-subscriptions-not-supported...`, `a closed`}},
		{name: "subscription identifiers unavailable", ids: "5.0 section 3.2.2.3.13 reason 0xA1",
			configure: func(c *Config) { c.SubIDAvailable = false },
			lines: []string{`a > CONNECT v=5.0 client-id="a"`, `a < CONNACK reason=success props{topic-alias-maximum=100 maximum-packet-size=1048576 subscription-id-available=0}`,
				`a > SUBSCRIBE id=1 props{subscription-id=1} sub("a" qos=0)`, `a < DISCONNECT reason=subscription-identifiers-not-supported...`, `a closed`}},
	})
}

func TestAuthorizer(t *testing.T) {
	acl := testACL{pub: "allowed/", sub: "allowed/"}
	runScripts(t, []scriptCase{
		{name: "5.0", ids: "5.0 sections 3.4.2.1, 3.9.3 reason 0x87",
			configure: func(c *Config) { c.Authorizer = acl },
			lines: []string{`a > CONNECT v=5.0 client-id="a"`, `a < ` + connack5,
				`a > SUBSCRIBE id=1 sub("allowed/x" qos=1) sub("secret" qos=1)`,
				`a < SUBACK id=1 props{reason-string="not authorized to subscribe to secret"} reasons=[granted-qos-1 not-authorized]`,
				`a > PUBLISH qos=1 id=1 topic="secret" payload="x"`, `a < PUBACK id=1 reason=not-authorized props{reason-string="not authorized to publish to secret"}`,
				`a > PUBLISH qos=1 id=2 topic="allowed/x" payload="x"`, `a < PUBACK id=2`,
				`a < PUBLISH qos=1 id=1 topic="allowed/x" payload="x"`}},
		{name: "5.0 without problem information", ids: "5.0:MQTT-3.1.2-29",
			configure: func(c *Config) { c.Authorizer = acl },
			lines: []string{`a > CONNECT v=5.0 client-id="a" props{request-problem-info=0}`, `a < ` + connack5,
				`a > SUBSCRIBE id=1 sub("secret" qos=1)`, `a < SUBACK id=1 reasons=[not-authorized]`,
				`a > PUBLISH qos=1 id=1 topic="secret" payload="x"`, `a < PUBACK id=1 reason=not-authorized`}},
		{name: "3.1.1", ids: "3.1.1:MQTT-3.3.5-2 MQTT-3.9.3-2",
			configure: func(c *Config) { c.Authorizer = acl },
			lines: []string{`a > CONNECT v=3.1.1 client-id="a"`, `a < CONNACK reason=success`,
				`a > SUBSCRIBE id=1 sub("secret" qos=1)`, `a < SUBACK id=1 reasons=[unspecified-error]`,
				`a > PUBLISH qos=1 id=1 topic="secret" payload="x"`, `a < PUBACK id=1`}},
	})
}

type testACL struct{ pub, sub string }

func (a testACL) CanPublish(_ Client, topic string) bool { return strings.HasPrefix(topic, a.pub) }
func (a testACL) CanSubscribe(_ Client, filter string) bool {
	return strings.HasPrefix(filter, a.sub)
}
