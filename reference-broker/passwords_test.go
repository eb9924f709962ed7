package broker

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"mqttspec/codec"
)

func bcryptPasswords(t *testing.T) *Passwords {
	h, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	require.NoError(t, err)
	p, err := ParsePasswords(strings.NewReader("# users\nalice:"+string(h)+"\n"), "passwords")
	require.NoError(t, err)
	return p
}

func TestPasswords(t *testing.T) {
	p := bcryptPasswords(t)
	cases := []struct {
		name string
		info ConnectInfo
		want codec.ReasonCode
	}{
		{"right password", ConnectInfo{Username: "alice", HasUsername: true, Password: []byte("secret"), HasPassword: true}, codec.Success},
		{"wrong password", ConnectInfo{Username: "alice", HasUsername: true, Password: []byte("x"), HasPassword: true}, codec.BadUserNameOrPassword},
		{"no password", ConnectInfo{Username: "alice", HasUsername: true}, codec.BadUserNameOrPassword},
		{"unknown user", ConnectInfo{Username: "bob", HasUsername: true, Password: []byte("secret"), HasPassword: true}, codec.BadUserNameOrPassword},
		{"anonymous left to AllowAnonymous", ConnectInfo{}, codec.Success},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, p.Authenticate(tc.info), tc.name)
	}
}

func TestPasswordFileErrors(t *testing.T) {
	h, err := HashPassword([]byte("pw"))
	require.NoError(t, err)
	cases := []struct{ text, want string }{
		{"alice", "passwords:1: want USER:BCRYPT-HASH"},
		{"\nalice:plain", `passwords:2: user "alice": not a bcrypt hash`},
		{fmt.Sprintf("a:%s\na:%s", h, h), `passwords:2: user "a" listed twice`},
	}
	for _, tc := range cases {
		_, err := ParsePasswords(strings.NewReader(tc.text), "passwords")
		require.ErrorContains(t, err, tc.want)
	}
}

// TestPasswordsEnforced checks the password file through the broker: a wrong password is
// refused with Bad User Name or Password (0x86 in 5.0, return code 4 in 3.1.1), and anonymous
// clients are refused when AllowAnonymous is off.
func TestPasswordsEnforced(t *testing.T) {
	p := bcryptPasswords(t)
	configure := func(c *Config) { c.Authenticator, c.AllowAnonymous = p, false }
	runScripts(t, []scriptCase{
		{name: "5.0", ids: "5.0:MQTT-3.2.2-6 (refusing CONNACK, then close)", configure: configure,
			lines: []string{
				`a > CONNECT v=5.0 client-id="a" clean username="alice" password="secret"`, `a < ` + connack5,
				`b > CONNECT v=5.0 client-id="b" clean username="alice" password="nope"`,
				`b < CONNACK reason=bad-user-name-or-password...`, `b closed`,
				`c > CONNECT v=5.0 client-id="c" clean`, `c < CONNACK reason=not-authorized...`, `c closed`}},
		{name: "3.1.1", ids: "3.1.1:MQTT-3.2.2-5", configure: configure,
			lines: []string{
				`b > CONNECT v=3.1.1 client-id="b" clean username="alice" password="nope"`,
				`b < CONNACK reason=refused-bad-user-name-or-password`, `b closed`}},
	})
}
