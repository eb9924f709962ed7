package codec

// Inline pre-checks that let the common, rule-abiding packet skip a call:
// each answers "can this break no rule?" conservatively, and a test holds
// each to the full check it stands in front of, over every input.

// flagsOK reports fixed-header flags that checkFlags accepts silently.
func flagsOK(fh FixedHeader) bool {
	if fh.Type == PUBLISH {
		qos := fh.Flags >> 1 & 3
		return qos != 3 && (qos != 0 || fh.Flags&0x08 == 0)
	}
	return fh.Flags == requiredFlags(fh.Type)
}

// oneSided lists, per sender, the packet types it never sends.
var oneSided = [...]uint16{
	FromClient: 1<<CONNACK | 1<<SUBACK | 1<<UNSUBACK | 1<<PINGRESP,
	FromServer: 1<<CONNECT | 1<<SUBSCRIBE | 1<<UNSUBSCRIBE | 1<<PINGREQ,
}

// mayBreakDirection reports whether directionRules has anything to say
// about a packet of type t.
func (d *Decoder) mayBreakDirection(t Type) bool {
	if int(d.From) >= len(oneSided) {
		return false
	}
	return oneSided[d.From]&(1<<t) != 0 ||
		t == PUBLISH && d.From == FromClient && len(d.Publish.Props.SubscriptionIDs) > 0
}
