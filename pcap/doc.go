// Package pcap finds the MQTT in packet captures and writes captures of MQTT.
//
// A Reader takes pcap or pcapng files, reassembles TCP (and WebSocket) streams
// and hands out each MQTT control packet decoded leniently, with the spec
// violations it carries; a Writer synthesizes Ethernet/IP/TCP framing around
// MQTT byte streams so that Wireshark and this package can read them back.
package pcap
