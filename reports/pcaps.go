package reports

import (
	"encoding/hex"
	"io"
	"net/netip"
	"os"
	"path/filepath"

	"mqttspec/conformance"
	"mqttspec/pcap"
)

// brokerAddr is where synthesized captures put the broker: port 1883, so
// Wireshark decodes MQTT without a decode-as rule.
var brokerAddr = netip.MustParseAddrPort("127.0.0.2:1883")

// WritePcaps saves each run case's traffic as DIR/<anchor>.pcap: one
// synthesized TCP connection per script connection, packets in transcript
// order with their original timing.
func WritePcaps(dir string, run *conformance.Run) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := range run.Results {
		r := &run.Results[i]
		if r.Outcome == conformance.Skip || len(r.Transcript) == 0 {
			continue
		}
		path := filepath.Join(dir, Anchor(r)+".pcap")
		if err := WriteFile(path, func(w io.Writer) error { return writeCasePcap(w, run, r) }); err != nil {
			return err
		}
	}
	return nil
}

func writeCasePcap(w io.Writer, run *conformance.Run, r *conformance.Result) error {
	pw, err := pcap.NewWriter(w)
	if err != nil {
		return err
	}
	flows := map[string]*pcap.Flow{}
	port := uint16(40000)
	for _, e := range r.Transcript {
		at := run.Start.Add(e.At)
		f := flows[e.Conn]
		if f == nil && (e.Dir == "send" || e.Dir == "recv") {
			port++
			client := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
			if f, err = pw.Open(client, brokerAddr, at); err != nil {
				return err
			}
			flows[e.Conn] = f
		}
		switch e.Dir {
		case "send", "recv":
			b, err := hex.DecodeString(e.Hex)
			if err != nil || len(b) == 0 {
				continue
			}
			d := pcap.ClientToBroker
			if e.Dir == "recv" {
				d = pcap.BrokerToClient
			}
			if err := f.Send(d, at, b); err != nil {
				return err
			}
		case "close":
			if f != nil {
				if err := f.Close(at); err != nil {
					return err
				}
				delete(flows, e.Conn)
			}
		}
	}
	for _, f := range flows {
		if err := f.Close(run.Start.Add(r.Duration)); err != nil {
			return err
		}
	}
	return nil
}
