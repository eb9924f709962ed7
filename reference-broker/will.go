package broker

import (
	"time"

	"mqttspec/codec"
)

// will is a Will Message stored with the session [MQTT-3.1.2-7 in 5.0, MQTT-3.1.2-8 in 3.1.1].
type will struct {
	msg       *message
	delay     uint32 // Will Delay Interval, 5.0
	expiry    uint32 // Message Expiry Interval, counted from publication
	hasExpiry bool
	client    Client // whose rights the publication is checked against
}

// newWill copies the Will out of a CONNECT.
func newWill(p *codec.Connect, client Client) *will {
	if !p.WillFlag {
		return nil
	}
	w := &will{client: client}
	var props *codec.Properties
	if p.ProtocolLevel == codec.V5 {
		props = &p.WillProps
		w.delay = props.WillDelay
		w.expiry, w.hasExpiry = props.MessageExpiry, props.Has(codec.PropMessageExpiry)
	}
	w.msg = newMessage(p.WillTopic, p.WillPayload, p.WillQoS, p.WillRetain, props, client.ID, time.Time{})
	w.msg.expires = time.Time{}
	return w
}

// publishWills publishes Wills whose time has come: on a close without DISCONNECT 0x00, once
// the Will Delay Interval has passed, or when the session ends [MQTT-3.1.2-8 in 5.0].
func (b *Broker) publishWills(ws []*will) {
	now := time.Now()
	for _, w := range ws {
		if !b.canPublish(w.client, w.msg.topic) {
			continue
		}
		m := *w.msg
		if w.hasExpiry {
			m.expires = now.Add(time.Duration(w.expiry) * time.Second)
		}
		if !b.cfg.RetainAvailable {
			m.retain = false
		}
		b.publish(&m)
	}
}
