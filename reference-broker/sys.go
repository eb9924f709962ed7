package broker

import (
	"strconv"
	"time"

	"mqttspec/codec"
)

// Version is the broker's version, published on $SYS/broker/version.
const Version = "mqttspec-reference-broker 1.0"

// publishSys refreshes the $SYS status topics as retained QoS 0 messages. Filters starting with
// a wildcard do not match them [MQTT-4.7.2-1]; subscribe to "$SYS/#".
func (b *Broker) publishSys(now time.Time) {
	u := func(n uint64) string { return strconv.FormatUint(n, 10) }
	i := func(n int) string { return strconv.Itoa(n) }
	for _, t := range [...]struct{ topic, value string }{
		{"$SYS/broker/version", Version},
		{"$SYS/broker/uptime", strconv.FormatInt(int64(now.Sub(b.started)/time.Second), 10) + " seconds"},
		{"$SYS/broker/clients/connected", strconv.FormatInt(b.active.Load(), 10)},
		{"$SYS/broker/clients/total", i(b.sessions.count())},
		{"$SYS/broker/messages/received", u(b.stats.received.Load())},
		{"$SYS/broker/messages/sent", u(b.stats.sent.Load())},
		{"$SYS/broker/messages/dropped", u(b.stats.dropped.Load())},
		{"$SYS/broker/subscriptions/count", i(b.topics.subscriptionCount())},
		{"$SYS/broker/retained messages/count", i(b.retained.size())},
	} {
		b.publish(newMessage([]byte(t.topic), []byte(t.value), codec.QoS0, b.cfg.RetainAvailable, nil, "", now))
	}
}
