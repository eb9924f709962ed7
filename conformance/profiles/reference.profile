# The mqttspec reference broker (reference-broker/) as `mqttspec run` embeds
# it when no --target is given: MQTT 3.1, 3.1.1 and 5.0, every optional
# feature on and announced in the CONNACK. It refuses every subscription and
# publication under mqttspec-denied/, and offers the challenge/response
# enhanced authentication method MQTTSPEC-CHALLENGE keyed with "mqttspec".
# cmd/mqttspec/certify_test.go checks that these values are the ones the
# embedded broker is started with.
name     = mqttspec reference broker
versions = 3.1 3.1.1 5.0
v3.1     = yes
var denied-topic = mqttspec-denied/topic
var auth-method  = MQTTSPEC-CHALLENGE
var auth-secret  = mqttspec
