package broker

import (
	"time"

	"mqttspec/codec"
)

// encoder turns deliveries into PUBLISH packets for one connection, applying what the client
// announced in its CONNECT: protocol version, Maximum Packet Size and Topic Alias Maximum. It
// belongs to the connection's writer.
type encoder struct {
	version  codec.Version
	maxSize  int // the client's Maximum Packet Size; 0: no limit
	quota    int // send quota: min(client's Receive Maximum, MaxInflight)
	aliasMax uint16
	aliases  map[string]uint16 // topic -> alias the client already knows
	stats    *stats
	pub      codec.Publish
}

// publish appends the PUBLISH for d. It reports false, appending nothing, when the packet would
// exceed the client's Maximum Packet Size: the message is then discarded as if it had been sent
// [MQTT-3.1.2-25].
func (e *encoder) publish(buf []byte, d *delivery, now time.Time) ([]byte, bool) {
	m := d.msg
	p := &e.pub
	*p = codec.Publish{Dup: d.dup, QoS: d.qos, Retain: d.retain, Topic: m.topic, PacketID: d.packetID,
		Payload: m.payload}
	if d.qos == 0 {
		p.PacketID = 0
	}
	var newAlias uint16
	if e.version == codec.V5 {
		if m.props != nil {
			p.Props = *m.props
		}
		p.Props.SubscriptionIDs = d.subIDs
		if !m.expires.IsZero() {
			p.Props.MessageExpiry = m.remainingExpiry(now)
			p.Props.Set(codec.PropMessageExpiry)
		}
		newAlias = e.alias(p)
	}
	start := len(buf)
	buf = p.Append(buf, e.version)
	if e.maxSize > 0 && len(buf)-start > e.maxSize {
		e.stats.dropped.Add(1)
		return buf[:start], false
	}
	if newAlias != 0 {
		e.aliases[string(m.topic)] = newAlias
	}
	e.stats.sent.Add(1)
	return buf, true
}

// alias replaces the topic by a Topic Alias the client knows, or assigns the next free one
// (never above the client's Topic Alias Maximum [MQTT-3.3.2-11]). It returns an alias to
// remember once the packet is known to go out.
func (e *encoder) alias(p *codec.Publish) uint16 {
	if e.aliasMax == 0 {
		return 0
	}
	if a, ok := e.aliases[string(p.Topic)]; ok {
		p.Props.TopicAlias = a
		p.Props.Set(codec.PropTopicAlias)
		p.Topic = nil
		return 0
	}
	if len(e.aliases) >= int(e.aliasMax) {
		return 0
	}
	a := uint16(len(e.aliases) + 1)
	p.Props.TopicAlias = a
	p.Props.Set(codec.PropTopicAlias)
	return a
}

// pubrel appends the PUBREL for a QoS 2 delivery whose PUBREC has arrived.
func (e *encoder) pubrel(buf []byte, id uint16) []byte {
	return (&codec.Ack{Kind: codec.PUBREL, PacketID: id}).Append(buf, e.version)
}
