// Package bench measures the mqttspec codec against mochi-mqtt's and
// paho.golang's packet codecs on the same bytes. It is its own module so the
// main module never depends on them; run it with make bench-peers.
package bench
