package broker

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net"

	"mqttspec/codec"
)

// ConnectInfo is what an Authenticator sees of a CONNECT.
type ConnectInfo struct {
	ClientID    string
	Username    string
	HasUsername bool
	Password    []byte // aliases the packet: valid only during the call
	HasPassword bool
	Version     codec.Version
	Remote      net.Addr
}

// Authenticator checks a CONNECT's user name and password. It returns codec.Success to accept,
// or the 5.0 CONNACK reason code to refuse with (BadUserNameOrPassword, NotAuthorized, Banned,
// ...); 3.1.1 clients get the matching return code.
type Authenticator interface {
	Authenticate(info ConnectInfo) codec.ReasonCode
}

// Client identifies an accepted connection to an Authorizer.
type Client struct {
	ID       string
	Username string
	Version  codec.Version
}

// Authorizer grants publish and subscribe rights per topic. A refused PUBLISH is acknowledged
// with Not authorized (5.0) or silently dropped (3.1.1); a refused subscription gets Not
// authorized (5.0) or Failure (3.1.1) in SUBACK.
type Authorizer interface {
	CanPublish(c Client, topic string) bool
	CanSubscribe(c Client, filter string) bool
}

// AuthMethod is a 5.0 enhanced authentication method (section 4.12). Step is called first with
// the Authentication Data of the CONNECT (or of an AUTH re-authenticate), then with the data of
// each AUTH continue-authentication the client sends. It returns the data for the next AUTH
// continue-authentication, or done with codec.Success (the client is authenticated; challenge,
// if not nil, goes in the CONNACK or final AUTH) or the reason code to refuse with.
type AuthMethod interface {
	Step(ex *AuthExchange, data []byte) (challenge []byte, done bool, rc codec.ReasonCode)
}

// AuthExchange is the state of one enhanced authentication exchange.
type AuthExchange struct {
	Method   string
	ClientID string
	Username string
	Round    int // 0 for the CONNECT (or re-authenticate) data, then 1, 2, ...
	State    []byte
}

// ChallengeMethod names the built-in challenge/response method meant for tests.
const ChallengeMethod = "MQTTSPEC-CHALLENGE"

// ChallengeAuth is the built-in ChallengeMethod: the server answers the CONNECT with a 16-byte
// random nonce in AUTH continue-authentication; the client must reply with AUTH
// continue-authentication whose data is HMAC-SHA256(Secret, nonce). Any other reply is refused
// with Not authorized. The CONNECT's Authentication Data is ignored.
type ChallengeAuth struct {
	Secret []byte
}

// Step implements AuthMethod.
func (a *ChallengeAuth) Step(ex *AuthExchange, data []byte) ([]byte, bool, codec.ReasonCode) {
	if ex.Round == 0 {
		ex.State = make([]byte, 16)
		rand.Read(ex.State)
		return ex.State, false, 0
	}
	if hmac.Equal(data, ChallengeResponse(a.Secret, ex.State)) {
		return nil, true, codec.Success
	}
	return nil, true, codec.NotAuthorized
}

// ChallengeResponse is what a client of ChallengeMethod answers to nonce.
func ChallengeResponse(secret, nonce []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(nonce)
	return m.Sum(nil)
}
