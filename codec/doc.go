// Package codec reads and writes MQTT 3.1, 3.1.1 and 5.0 control packets.
//
// Packets decode into caller-owned values whose byte slices alias the input
// buffer (valid until that buffer is reused); encoding appends to a caller
// buffer. Validation is strict by default and every error names the normative
// statement it enforces. The text notation (Format/Parse) is the one readable
// form of a packet used across mqttspec.
package codec
