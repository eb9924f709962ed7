# Eclipse Mosquitto 2.0.11 (Debian 12), as scripts/targets.sh starts it:
# one listener on 127.0.0.1, allow_anonymous true, persistence false, no ACL.
#
# Mosquitto speaks MQTT 3.1, 3.1.1 and 5.0. Everything optional that 5.0 lets a
# server decline (Maximum QoS, Retain/Wildcard/Shared/Subscription Identifier
# Available, Topic Alias Maximum 10, Receive Maximum 20) it announces in its
# CONNACK, so the probe reads it; nothing is declared here that the probe sees.
# With no ACL configured there is no denied topic, so the cases about refused
# subscriptions skip themselves (require denied-topic).
name     = Mosquitto 2.0.11
notes    = Debian package, default configuration plus one loopback listener and anonymous access
versions = 3.1 3.1.1 5.0
v3.1     = yes
