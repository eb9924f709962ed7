package broker

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const aclRules = `
# sensors write their own readings, dashboards read them
alice readwrite sensors/alice/#
alice read      sensors/+/temperature
bob   write     cmd/bob
*     read      public/#
*     read      +/news
`

func TestACL(t *testing.T) {
	a, err := ParseACL(strings.NewReader(aclRules), "acl")
	require.NoError(t, err)
	alice, bob, anon := Client{Username: "alice"}, Client{Username: "bob"}, Client{}
	cases := []struct {
		name    string
		c       Client
		publish bool // else subscribe
		topic   string
		want    bool
	}{
		{"own subtree", alice, true, "sensors/alice/temperature", true},
		{"# covers its parent", alice, true, "sensors/alice", true},
		{"other's subtree", alice, true, "sensors/bob/humidity", false},
		{"read-only rule grants no publish", alice, true, "sensors/bob/temperature", false},
		{"write-only rule grants no subscribe", bob, false, "cmd/bob", false},
		{"exact write", bob, true, "cmd/bob", true},
		{"+ rule covers a + filter", alice, false, "sensors/+/temperature", true},
		{"+ rule does not cover #", alice, false, "sensors/#", false},
		{"shared prefix ignored", alice, false, "$share/g/sensors/alice/x", true},
		{"* applies to everyone", anon, false, "public/news", true},
		{"leading + does not grant $ topics", anon, false, "$SYS/news", false},
		{"leading + grants others", anon, false, "local/news", true},
		{"no write rule for anonymous", anon, true, "public/news", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.publish {
				assert.Equal(t, tc.want, a.CanPublish(tc.c, tc.topic))
			} else {
				assert.Equal(t, tc.want, a.CanSubscribe(tc.c, tc.topic))
			}
		})
	}
}

func TestCovers(t *testing.T) {
	cases := []struct {
		rule, filter string
		want         bool
	}{
		{"a/+", "a/b", true},
		{"a/+", "a/+", true},
		{"a/+", "a/#", false},
		{"a/+", "a/b/c", false},
		{"a/#", "a/+/c", true},
		{"a/#", "a/#", true},
		{"a/b", "a/+", false},
		{"+/b", "$x/b", false}, // leading wildcards never match $ topics [MQTT-4.7.2-1]
		{"$x/#", "$x/b", true},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, covers(strings.Split(tc.rule, "/"), strings.Split(tc.filter, "/")), "%s covers %s", tc.rule, tc.filter)
	}
}

func TestACLFileErrors(t *testing.T) {
	cases := []struct{ text, want string }{
		{"alice read", "acl:1: want USER ACCESS FILTER, got 2 fields"},
		{"# c\nalice rw a/b", `acl:2: access "rw" is not read, write or readwrite`},
		{"\n\nalice read a/#/b", `acl:3: topic filter "a/#/b"`},
	}
	for _, tc := range cases {
		_, err := ParseACL(strings.NewReader(tc.text), "acl")
		require.ErrorContains(t, err, tc.want)
	}
}

// TestACLEnforced checks the ACL through the broker: a refused PUBLISH is acknowledged with Not
// authorized and a refused subscription gets it in SUBACK (5.0 sections 3.4.2.1, 3.9.3).
func TestACLEnforced(t *testing.T) {
	a, err := ParseACL(strings.NewReader("* readwrite open/#\n"), "acl")
	require.NoError(t, err)
	runScripts(t, []scriptCase{{name: "5.0 ACL", ids: "5.0:MQTT-3.9.3-1 (reason codes in order)",
		configure: func(c *Config) { c.Authorizer = a },
		lines: []string{
			`c > CONNECT v=5.0 client-id="c" clean`, `c < ` + connack5,
			`c > SUBSCRIBE id=1 sub("open/a" qos=1) sub("closed/a" qos=1)`,
			`c < SUBACK id=1 props{reason-string="not authorized to subscribe to closed/a"} reasons=[granted-qos-1 not-authorized]`,
			`c > PUBLISH qos=1 id=2 topic="closed/a" payload="x"`, `c < PUBACK id=2 reason=not-authorized...`,
			`c > PUBLISH qos=1 id=3 topic="open/a" payload="x"`, `c < PUBACK id=3`,
			`c < PUBLISH qos=1 id=1 topic="open/a" payload="x"`}}})
}
