package broker

import (
	"time"

	"mqttspec/codec"
)

// message is an Application Message as the broker holds it: copied out of the PUBLISH (or the
// Will) that carried it, immutable once routed, and shared by every session it is queued for.
type message struct {
	topic     []byte
	payload   []byte
	qos       byte
	retain    bool
	props     *codec.Properties // the properties forwarded unaltered (section 3.3.2.3); nil for none
	expires   time.Time         // zero when the message has no Message Expiry Interval
	publisher string            // client identifier of the publishing connection, for No Local
}

// newMessage copies an incoming PUBLISH (or Will) into a message that outlives the packet.
func newMessage(topic, payload []byte, qos byte, retain bool, props *codec.Properties, publisher string, now time.Time) *message {
	m := &message{
		topic:     append([]byte(nil), topic...),
		payload:   append([]byte(nil), payload...),
		qos:       qos,
		retain:    retain,
		publisher: publisher,
	}
	if props == nil || props.Empty() {
		return m
	}
	if props.Has(codec.PropMessageExpiry) {
		m.expires = now.Add(time.Duration(props.MessageExpiry) * time.Second)
	}
	var fw codec.Properties
	if props.Has(codec.PropPayloadFormat) {
		fw.PayloadFormat = props.PayloadFormat
		fw.Set(codec.PropPayloadFormat)
	}
	copyBytes := func(id codec.PropID, src []byte, dst *[]byte) {
		if props.Has(id) {
			*dst = append([]byte{}, src...)
			fw.Set(id)
		}
	}
	copyBytes(codec.PropContentType, props.ContentType, &fw.ContentType)
	copyBytes(codec.PropResponseTopic, props.ResponseTopic, &fw.ResponseTopic)
	copyBytes(codec.PropCorrelationData, props.CorrelationData, &fw.CorrelationData)
	for _, u := range props.User {
		fw.User = append(fw.User, codec.UserProperty{
			Key: append([]byte{}, u.Key...), Value: append([]byte{}, u.Value...)})
	}
	if !fw.Empty() {
		m.props = &fw
	}
	return m
}

// expired reports whether the Message Expiry Interval has passed.
func (m *message) expired(now time.Time) bool {
	return !m.expires.IsZero() && !now.Before(m.expires)
}

// remainingExpiry is the Message Expiry Interval to forward: what was received minus the time
// the message has waited, in whole seconds rounded up so a message that has waited less than a
// second keeps its interval [MQTT-3.3.2-6]. A message whose delivery has started is never
// expired, so it keeps at least one second.
func (m *message) remainingExpiry(now time.Time) uint32 {
	left := m.expires.Sub(now)
	secs := (left + time.Second - 1) / time.Second
	if secs < 1 {
		return 1
	}
	return uint32(secs)
}

// deliveryState is where an outbound QoS 1/2 message stands.
type deliveryState byte

const (
	queued       deliveryState = iota // not sent yet
	awaitPuback                       // QoS 1 PUBLISH sent
	awaitPubrec                       // QoS 2 PUBLISH sent
	awaitPubcomp                      // PUBREC received, PUBREL sent
	done                              // acknowledged (or discarded): no longer inflight
)

// delivery is one message on its way to one session: the QoS and RETAIN flag it goes out with
// and the Subscription Identifiers of the subscriptions that matched.
type delivery struct {
	msg      *message
	sess     *session // the session it is for, while it is being routed
	qos      byte
	retain   bool
	subIDs   []int
	packetID uint16
	state    deliveryState
	// unsent is true while the packet for the current state has not been written on the current
	// connection: set for every inflight delivery when a session is resumed.
	unsent bool
	dup    bool // the PUBLISH was sent before, on an earlier connection
}
