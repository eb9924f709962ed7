package broker

import (
	"bytes"
	"time"

	"mqttspec/codec"
)

// handlePublish takes ownership of an Application Message from the client, routes it, and
// acknowledges it as its QoS requires [MQTT-3.3.4-1].
func (c *conn) handlePublish(p *codec.Publish) error {
	cfg := &c.b.cfg
	v5 := c.version == codec.V5
	if v5 && p.QoS > cfg.MaximumQoS {
		return &closeError{reason: codec.QoSNotSupported, rule: "MQTT-3.2.2-11", msg: "PUBLISH QoS exceeds the Maximum QoS"}
	}
	if v5 && p.Retain && !cfg.RetainAvailable {
		return &closeError{reason: codec.RetainNotSupported, rule: "MQTT-3.2.2-14", msg: "RETAIN set but retained messages are not available"}
	}
	topic, err := c.resolveTopic(p)
	if err != nil {
		return err
	}
	limit := 65536 // 3.1.1: the packet identifiers themselves are the bound
	if v5 {
		limit = int(cfg.ReceiveMaximum)
	}
	switch p.QoS {
	case 1:
		if c.sess.awaitingRelease() >= limit {
			return errReceiveMaximum()
		}
	case 2:
		dup, full := c.sess.receiveQoS2(p.PacketID, limit)
		if dup {
			// Already owned and routed: acknowledge again, deliver nothing [MQTT-4.3.3-10].
			c.send(&codec.Ack{Kind: codec.PUBREC, PacketID: p.PacketID})
			return nil
		}
		if full {
			return errReceiveMaximum()
		}
	}
	rc := codec.Success
	var deliveries []*delivery
	if c.b.canPublish(c.client(), topic) {
		c.b.stats.received.Add(1)
		retain := p.Retain && cfg.RetainAvailable
		m := newMessage(topic, p.Payload, p.QoS, retain, &p.Props, c.clientID, time.Now())
		deliveries = c.b.route(m)
		if len(deliveries) == 0 && v5 {
			rc = codec.NoMatchingSubscribers
		}
	} else if v5 {
		rc = codec.NotAuthorized
	}
	// The acknowledgement is queued before the deliveries, so a client subscribed to its own
	// topic always sees them in the same order.
	defer c.b.deliver(deliveries)
	if p.QoS == 0 {
		return nil
	}
	ack := &codec.Ack{Kind: codec.PUBACK, PacketID: p.PacketID, ReasonCode: rc}
	if p.QoS == 2 {
		ack.Kind = codec.PUBREC
		if rc >= 0x80 {
			// A refused message leaves its identifier free for a new one [MQTT-4.3.3-9].
			c.sess.forgetReceived(p.PacketID)
		}
	}
	if rc == codec.NotAuthorized {
		setReasonString(&ack.Props, "not authorized to publish to "+string(topic))
	}
	c.send(ack)
	return nil
}

// resolveTopic applies a 5.0 Topic Alias (section 3.3.2.3.4): a known alias stands for an empty
// topic, a topic with an alias (re)defines it.
func (c *conn) resolveTopic(p *codec.Publish) ([]byte, error) {
	if !p.Props.Has(codec.PropTopicAlias) {
		return p.Topic, nil
	}
	a := p.Props.TopicAlias
	if a == 0 || a > c.b.cfg.TopicAliasMaximum {
		return nil, &closeError{reason: codec.TopicAliasInvalid, rule: "MQTT-3.3.2-9",
			msg: "Topic Alias is 0 or above the Topic Alias Maximum"}
	}
	if len(p.Topic) > 0 {
		c.inAliases[a] = append(c.inAliases[a][:0], p.Topic...)
		return p.Topic, nil
	}
	t, ok := c.inAliases[a]
	if !ok {
		return nil, protocolError("", "empty topic with a Topic Alias that has no mapping")
	}
	return t, nil
}

// canPublish reports whether client may publish to topic. $SYS topics belong to the broker.
func (b *Broker) canPublish(client Client, topic []byte) bool {
	if bytes.HasPrefix(topic, []byte("$SYS/")) || string(topic) == "$SYS" {
		return false
	}
	return b.cfg.Authorizer == nil || b.cfg.Authorizer.CanPublish(client, string(topic))
}

// handleAck handles the acknowledgements of the client: PUBACK, PUBREC and PUBCOMP for messages
// the broker sent, PUBREL for QoS 2 messages it received.
func (c *conn) handleAck(p *codec.Ack) error {
	if p.Kind == codec.PUBREL {
		ack := &codec.Ack{Kind: codec.PUBCOMP, PacketID: p.PacketID}
		if !c.sess.release(p.PacketID) && c.version == codec.V5 {
			ack.ReasonCode = codec.PacketIdentifierNotFound
			setReasonString(&ack.Props, "no QoS 2 message awaits release with this packet identifier")
		}
		c.send(ack) // [MQTT-4.3.3-11]
		return nil
	}
	if reply := c.sess.acknowledge(p.Kind, p.PacketID, p.ReasonCode, c.version); reply != nil {
		c.send(reply) // PUBREL [MQTT-4.3.3-4]
	}
	return nil
}

// handleDisconnect ends the connection at the client's request. A 5.0 DISCONNECT may change the
// Session Expiry Interval, but not from 0 to anything else (section 3.14.2.2.2).
func (c *conn) handleDisconnect(p *codec.Disconnect) error {
	if p.Props.Has(codec.PropSessionExpiry) {
		if c.connectExpiry == 0 && p.Props.SessionExpiry != 0 {
			return protocolError("", "DISCONNECT sets a Session Expiry Interval after CONNECT set 0")
		}
		c.b.sessions.setExpiry(c.sess, p.Props.SessionExpiry)
	}
	return &disconnected{reason: p.ReasonCode}
}

func errReceiveMaximum() error {
	return &closeError{reason: codec.ReceiveMaximumExceeded, rule: "MQTT-3.3.4-7",
		msg: "more unacknowledged QoS 1/2 PUBLISH packets than the Receive Maximum"}
}
