package codec

import "math/bits"

// Encoding walks only the properties a packet has, not the whole table: the
// set of rows to write is a bit mask (bit i is propTable[i], which is in
// identifier order), so the lowest set bit is always the next to write.

// rowBit is the mask bit of property id.
func rowBit(id PropID) uint64 { return propTable[propIndex[id]-1].bit }

// encoded is the set of rows appendTo writes: the present single-use
// properties, plus User and SubscriptionIDs when their slices have entries
// (their presence is the slice, whatever the bit says).
func (p *Properties) encoded() uint64 {
	repeated := rowBit(PropUser) | rowBit(PropSubscriptionID)
	m := p.present &^ repeated
	if len(p.User) > 0 {
		m |= rowBit(PropUser)
	}
	if len(p.SubscriptionIDs) > 0 {
		m |= rowBit(PropSubscriptionID)
	}
	return m
}

// lowestRow is the table row of the lowest bit set in m (m != 0).
func lowestRow(m uint64) *PropInfo { return &propTable[bits.TrailingZeros64(m)] }

// propRow is what the decoder needs of a property on every occurrence,
// packed so that one load finds it; propRows is indexed by identifier and
// a zero kind marks identifiers the spec does not define.
type propRow struct {
	bit       uint64
	on        uint16
	kind      PropKind
	repeats   bool
	valueRule bool  // checkPropValue has a rule for it
	row       uint8 // index into propTable
}

var propRows [128]propRow

// valueRules lists the properties checkPropValue checks the value of; a
// test keeps it equal to the cases of that switch.
const valueRules = 1<<PropPayloadFormat | 1<<PropSubscriptionID | 1<<PropResponseTopic |
	1<<PropRequestProblemInfo | 1<<PropRequestResponseInfo | 1<<PropReceiveMaximum | 1<<PropTopicAlias |
	1<<PropMaximumQoS | 1<<PropRetainAvailable | 1<<PropMaximumPacketSize | 1<<PropWildcardSubAvailable |
	1<<PropSubIDAvailable | 1<<PropSharedSubAvailable

func init() {
	for i := range propTable {
		pi := &propTable[i]
		propRows[pi.ID] = propRow{bit: 1 << uint(i), on: pi.On, kind: pi.Kind, repeats: pi.Repeats,
			valueRule: valueRules&(1<<pi.ID) != 0, row: uint8(i)}
	}
}
