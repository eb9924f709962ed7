# aedes 1.2.0 (npm) on Node 20: Aedes.createBroker() with its in-memory
# persistence behind net.createServer, as scripts/targets.sh starts it.
#
# aedes speaks MQTT 3.1 and 3.1.1 only: an MQTT 5.0 CONNECT is answered with a
# 3.1.1 CONNACK refusing the protocol version. 3.1.1 has no optional features
# to decline (retained messages, wildcards and QoS 2 are all required), so no
# case is skipped beyond the 5.0 ones.
name     = aedes 1.2.0
notes    = npm aedes 1.2.0 with the default in-memory persistence, Node 20
versions = 3.1 3.1.1
v3.1     = yes
