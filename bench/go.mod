module mqttspec/bench

go 1.26.8

require (
	github.com/eclipse/paho.golang v0.23.0
	github.com/mochi-mqtt/server/v2 v2.7.9
	github.com/stretchr/testify v1.12.1
	mqttspec v0.0.0
)

require (
	github.com/gopacket/gopacket v1.7.7 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

replace mqttspec => ../
