package codec

import "strconv"

// Version is the protocol level a connection speaks, as carried in CONNECT.
type Version byte

const (
	V31  Version = 3 // MQTT 3.1, protocol name "MQIsdp"
	V311 Version = 4 // MQTT 3.1.1
	V5   Version = 5 // MQTT 5.0
)

func (v Version) String() string {
	switch v {
	case V31:
		return "3.1"
	case V311:
		return "3.1.1"
	case V5:
		return "5.0"
	}
	return "level-" + strconv.Itoa(int(v))
}

// ParseVersion accepts "3.1", "3.1.1", "5", "5.0" and the raw levels "3", "4".
func ParseVersion(s string) (Version, bool) {
	switch s {
	case "3.1", "3":
		return V31, true
	case "3.1.1", "4":
		return V311, true
	case "5.0", "5":
		return V5, true
	}
	return 0, false
}

// Type is the MQTT control packet type (high nibble of the first byte).
type Type byte

const (
	CONNECT     Type = 1
	CONNACK     Type = 2
	PUBLISH     Type = 3
	PUBACK      Type = 4
	PUBREC      Type = 5
	PUBREL      Type = 6
	PUBCOMP     Type = 7
	SUBSCRIBE   Type = 8
	SUBACK      Type = 9
	UNSUBSCRIBE Type = 10
	UNSUBACK    Type = 11
	PINGREQ     Type = 12
	PINGRESP    Type = 13
	DISCONNECT  Type = 14
	AUTH        Type = 15
)

var typeNames = [16]string{"RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL",
	"PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"}

func (t Type) String() string {
	if t < 16 {
		return typeNames[t]
	}
	return "TYPE-" + strconv.Itoa(int(t))
}

// TypeByName maps an upper-case packet name to its type.
func TypeByName(s string) (Type, bool) {
	for i := 1; i < 16; i++ {
		if typeNames[i] == s {
			return Type(i), true
		}
	}
	return 0, false
}

// requiredFlags is the fixed-header flag nibble every type but PUBLISH must
// carry ([MQTT-2.2.2-1] in 3.1.1, [MQTT-2.1.3-1] in 5.0).
func requiredFlags(t Type) byte {
	switch t {
	case PUBREL, SUBSCRIBE, UNSUBSCRIBE:
		return 0x2
	}
	return 0
}

// FixedHeader is the first 2-5 bytes of every packet.
type FixedHeader struct {
	Type      Type
	Flags     byte // low nibble of the first byte
	Remaining int  // Remaining Length: bytes that follow the fixed header
	Size      int  // bytes the fixed header itself occupies
}

// MaxRemaining is the largest value a four-byte Variable Byte Integer holds.
const MaxRemaining = 268435455

// QoS levels.
const (
	QoS0 byte = 0
	QoS1 byte = 1
	QoS2 byte = 2
)
