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
