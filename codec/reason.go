package codec

import "strconv"

// ReasonCode is a 5.0 reason code, a 3.1.1 CONNACK return code or a SUBACK
// return code: one byte whose name depends on the packet that carries it.
type ReasonCode byte

// Reason codes of MQTT 5.0 section 2.4, named as the spec names them.
const (
	Success                     ReasonCode = 0x00
	GrantedQoS1                 ReasonCode = 0x01
	GrantedQoS2                 ReasonCode = 0x02
	DisconnectWithWill          ReasonCode = 0x04
	NoMatchingSubscribers       ReasonCode = 0x10
	NoSubscriptionExisted       ReasonCode = 0x11
	ContinueAuthentication      ReasonCode = 0x18
	ReAuthenticate              ReasonCode = 0x19
	UnspecifiedError            ReasonCode = 0x80
	MalformedPacket             ReasonCode = 0x81
	ProtocolError               ReasonCode = 0x82
	ImplementationSpecificError ReasonCode = 0x83
	UnsupportedProtocolVersion  ReasonCode = 0x84
	ClientIdentifierNotValid    ReasonCode = 0x85
	BadUserNameOrPassword       ReasonCode = 0x86
	NotAuthorized               ReasonCode = 0x87
	ServerUnavailable           ReasonCode = 0x88
	ServerBusy                  ReasonCode = 0x89
	Banned                      ReasonCode = 0x8A
	ServerShuttingDown          ReasonCode = 0x8B
	BadAuthenticationMethod     ReasonCode = 0x8C
	KeepAliveTimeout            ReasonCode = 0x8D
	SessionTakenOver            ReasonCode = 0x8E
	TopicFilterInvalid          ReasonCode = 0x8F
	TopicNameInvalid            ReasonCode = 0x90
	PacketIdentifierInUse       ReasonCode = 0x91
	PacketIdentifierNotFound    ReasonCode = 0x92
	ReceiveMaximumExceeded      ReasonCode = 0x93
	TopicAliasInvalid           ReasonCode = 0x94
	PacketTooLarge              ReasonCode = 0x95
	MessageRateTooHigh          ReasonCode = 0x96
	QuotaExceeded               ReasonCode = 0x97
	AdministrativeAction        ReasonCode = 0x98
	PayloadFormatInvalid        ReasonCode = 0x99
	RetainNotSupported          ReasonCode = 0x9A
	QoSNotSupported             ReasonCode = 0x9B
	UseAnotherServer            ReasonCode = 0x9C
	ServerMoved                 ReasonCode = 0x9D
	SharedSubsNotSupported      ReasonCode = 0x9E
	ConnectionRateExceeded      ReasonCode = 0x9F
	MaximumConnectTime          ReasonCode = 0xA0
	SubIDsNotSupported          ReasonCode = 0xA1
	WildcardSubsNotSupported    ReasonCode = 0xA2
)

// 3.1.1 CONNACK return codes (section 3.2.2.3) and the SUBACK failure code.
const (
	Accepted                   ReasonCode = 0x00
	RefusedProtocolVersion     ReasonCode = 0x01
	RefusedIdentifierRejected  ReasonCode = 0x02
	RefusedServerUnavailable   ReasonCode = 0x03
	RefusedBadUserNameOrPasswd ReasonCode = 0x04
	RefusedNotAuthorized       ReasonCode = 0x05
	SubackFailure              ReasonCode = 0x80
)

var reasonNames = map[ReasonCode]string{
	0x04: "disconnect-with-will", 0x10: "no-matching-subscribers", 0x11: "no-subscription-existed",
	0x18: "continue-authentication", 0x19: "re-authenticate", 0x80: "unspecified-error",
	0x81: "malformed-packet", 0x82: "protocol-error", 0x83: "implementation-specific-error",
	0x84: "unsupported-protocol-version", 0x85: "client-identifier-not-valid",
	0x86: "bad-user-name-or-password", 0x87: "not-authorized", 0x88: "server-unavailable",
	0x89: "server-busy", 0x8A: "banned", 0x8B: "server-shutting-down", 0x8C: "bad-authentication-method",
	0x8D: "keep-alive-timeout", 0x8E: "session-taken-over", 0x8F: "topic-filter-invalid",
	0x90: "topic-name-invalid", 0x91: "packet-identifier-in-use", 0x92: "packet-identifier-not-found",
	0x93: "receive-maximum-exceeded", 0x94: "topic-alias-invalid", 0x95: "packet-too-large",
	0x96: "message-rate-too-high", 0x97: "quota-exceeded", 0x98: "administrative-action",
	0x99: "payload-format-invalid", 0x9A: "retain-not-supported", 0x9B: "qos-not-supported",
	0x9C: "use-another-server", 0x9D: "server-moved", 0x9E: "shared-subscriptions-not-supported",
	0x9F: "connection-rate-exceeded", 0xA0: "maximum-connect-time",
	0xA1: "subscription-identifiers-not-supported", 0xA2: "wildcard-subscriptions-not-supported",
}

// connackV3Names are the 3.1.1 CONNACK return codes 1-5, which 5.0 never uses.
var connackV3Names = [6]string{"accepted", "refused-protocol-version", "refused-identifier-rejected",
	"refused-server-unavailable", "refused-bad-user-name-or-password", "refused-not-authorized"}

// Name is the reason code's name in the context of packet type t.
func (rc ReasonCode) Name(t Type) string {
	switch {
	case rc == 0 && t == DISCONNECT:
		return "normal-disconnection"
	case rc <= 2 && t == SUBACK:
		return "granted-qos-" + strconv.Itoa(int(rc))
	case rc <= 5 && t == CONNACK:
		if rc == 0 {
			return "success"
		}
		return connackV3Names[rc]
	case rc == 0:
		return "success"
	}
	if n, ok := reasonNames[rc]; ok {
		return n
	}
	return "0x" + strconv.FormatUint(uint64(rc), 16)
}

func (rc ReasonCode) String() string {
	return "0x" + hex2(byte(rc)) + " " + rc.Name(0)
}

// ReasonByName resolves a name produced by Name (for any packet type).
func ReasonByName(s string) (ReasonCode, bool) {
	switch s {
	case "success", "normal-disconnection", "granted-qos-0", "accepted":
		return 0, true
	case "granted-qos-1":
		return 1, true
	case "granted-qos-2":
		return 2, true
	}
	for i, n := range connackV3Names {
		if n == s {
			return ReasonCode(i), true
		}
	}
	for rc, n := range reasonNames {
		if n == s {
			return rc, true
		}
	}
	return 0, false
}

const hexDigits = "0123456789abcdef"

func hex2(b byte) string { return string([]byte{hexDigits[b>>4], hexDigits[b&15]}) }
