package broker

import (
	"strings"
	"time"

	"mqttspec/codec"
)

// handleSubscribe adds or replaces the session's subscriptions, one Topic Filter at a time
// [MQTT-3.8.4-5 in 5.0, MQTT-3.8.4-4 in 3.1.1], answers with one SUBACK [MQTT-3.8.4-1] and then
// sends the retained messages the new subscriptions ask for.
func (c *conn) handleSubscribe(p *codec.Subscribe) error {
	cfg := &c.b.cfg
	v5 := c.version == codec.V5
	id := 0
	if len(p.Props.SubscriptionIDs) > 0 {
		if !cfg.SubIDAvailable {
			return &closeError{reason: codec.SubIDsNotSupported, msg: "Subscription Identifiers are not available"}
		}
		id = p.Props.SubscriptionIDs[0]
	}
	if v5 {
		// A capability the broker announced as missing makes the whole packet a protocol error.
		for i := range p.Subscriptions {
			share, path := splitShared(string(p.Subscriptions[i].Filter))
			switch {
			case share != "" && !cfg.SharedSubAvailable:
				return &closeError{reason: codec.SharedSubsNotSupported, msg: "shared subscriptions are not available"}
			case !cfg.WildcardSubAvailable && strings.ContainsAny(path, "+#"):
				return &closeError{reason: codec.WildcardSubsNotSupported, msg: "wildcard subscriptions are not available"}
			}
		}
	}
	ack := &codec.Suback{Kind: codec.SUBACK, PacketID: p.PacketID, ReasonCodes: make([]byte, len(p.Subscriptions))}
	var retained []*subscription
	for i := range p.Subscriptions {
		o := &p.Subscriptions[i]
		sub, code, sendRetained := c.subscribe(o, id)
		ack.ReasonCodes[i] = byte(code)
		switch code {
		case codec.NotAuthorized:
			setReasonString(&ack.Props, "not authorized to subscribe to "+string(o.Filter))
		case codec.QuotaExceeded:
			setReasonString(&ack.Props, "the session has the maximum number of subscriptions")
		}
		if sendRetained {
			retained = append(retained, sub)
		}
	}
	// One Reason Code per Topic Filter, in order [MQTT-3.8.4-6, MQTT-3.9.3-1].
	c.send(ack)
	for _, sub := range retained {
		c.sendRetained(sub)
	}
	return nil
}

// subscribe adds one subscription. It returns the SUBACK code and whether retained messages
// are due for it.
func (c *conn) subscribe(o *codec.Subscription, id int) (*subscription, codec.ReasonCode, bool) {
	cfg := &c.b.cfg
	v5 := c.version == codec.V5
	filter := string(o.Filter)
	share, path := "", filter
	if v5 {
		share, path = splitShared(filter)
	}
	failure := codec.SubackFailure
	if v5 {
		failure = codec.NotAuthorized
	}
	if !v5 && !cfg.WildcardSubAvailable && strings.ContainsAny(path, "+#") {
		return nil, codec.SubackFailure, false
	}
	if cfg.Authorizer != nil && !cfg.Authorizer.CanSubscribe(c.client(), filter) {
		return nil, failure, false
	}
	sub := &subscription{
		sess:              c.sess,
		filter:            filter,
		share:             share,
		qos:               min(o.QoS, cfg.MaximumQoS),
		noLocal:           o.NoLocal,
		retainAsPublished: o.RetainAsPublished,
		retainHandling:    o.RetainHandling,
		id:                id,
	}
	existed, ok := c.b.topics.subscribe(sub, path, cfg.MaxSubscriptions)
	if !ok {
		if v5 {
			return nil, codec.QuotaExceeded, false
		}
		return nil, codec.SubackFailure, false
	}
	// Retained messages: never for shared subscriptions (section 4.8.2); 3.1.1 re-sends them on
	// every SUBSCRIBE [MQTT-3.8.4-3 in 3.1.1]; 5.0 per Retain Handling [MQTT-3.3.1-9..11].
	due := cfg.RetainAvailable && share == "" &&
		(sub.retainHandling == 0 || sub.retainHandling == 1 && !existed)
	return sub, codec.ReasonCode(sub.qos), due
}

// sendRetained queues the retained messages matching a new subscription, with RETAIN set
// [MQTT-3.3.1-8 in 3.1.1] and at most the granted QoS [MQTT-3.8.4-8].
func (c *conn) sendRetained(sub *subscription) {
	for _, m := range c.b.retained.match(sub.filter, time.Now(), nil) {
		if sub.noLocal && m.publisher == c.clientID {
			continue
		}
		d := &delivery{msg: m, sess: c.sess, qos: min(m.qos, sub.qos), retain: true}
		if sub.id != 0 {
			d.subIDs = []int{sub.id}
		}
		if c.sess.enqueue(d, c.b.cfg.MaxQueued) {
			c.b.stats.dropped.Add(1)
		}
	}
}

// handleUnsubscribe removes the subscriptions whose filters match exactly [MQTT-3.10.4-1] and
// answers with one UNSUBACK [MQTT-3.10.4-4, MQTT-3.10.4-6].
func (c *conn) handleUnsubscribe(p *codec.Unsubscribe) {
	ack := &codec.Suback{Kind: codec.UNSUBACK, PacketID: p.PacketID}
	if c.version == codec.V5 {
		ack.ReasonCodes = make([]byte, len(p.Filters))
	}
	for i, f := range p.Filters {
		existed := c.b.topics.unsubscribe(c.sess, string(f))
		if ack.ReasonCodes != nil && !existed {
			ack.ReasonCodes[i] = byte(codec.NoSubscriptionExisted)
		}
	}
	c.send(ack)
}
