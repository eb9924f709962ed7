# EMQX 5.x (open source), default configuration. Written from EMQX's public
# documentation (docs.emqx.com: "MQTT Configuration", "In-flight and Message
# Queue", "Message Retransmission", the 6.3 breaking-changes notes). EMQX
# has no Debian package and cannot be installed where `make certify` runs,
# so this profile has not been checked against a live broker.
#
# MQTT 3.1, 3.1.1 and 5.0. The optional 5.0 features are on by default and
# announced in the CONNACK, where the probe reads them, so they are not
# repeated here (documented defaults: max_qos_allowed 2, retain_available
# true, wildcard and shared subscriptions on, subscription identifiers on,
# max_topic_alias 65535, max_packet_size 1MB, max_inflight 32 messages
# towards each client). Settings that change what the suite finds:
#   mqtt.strict_mode        false before 6.3, true from 6.3; when false, EMQX
#                           does not close on ill-formed UTF-8, reserved flags,
#                           zero packet identifiers or inconsistent Will flags
#                           (the data.*, packet.*, connect.* and will.* cases)
#   mqtt.retry_interval     30s; EMQX re-sends unacknowledged QoS 1/2 PUBLISH
#                           inside a connection, which 5.0 MQTT-4.4.0-1 forbids
#                           (no case waits that long)
#   authorization (acl.conf) by default refuses subscriptions to "#" and
#                           "$SYS/#" except from 127.0.0.1; run from another
#                           host, topics.dollar-not-matched-by-hash is refused
# Enhanced authentication (SCRAM) needs configuring: set var auth-method and
# var auth-secret to run the 4.12 cases.
name     = EMQX 5 (from its documentation)
notes    = profile written from docs.emqx.com, not run here; set mqtt.strict_mode = true before 6.3
versions = 3.1 3.1.1 5.0
v3.1     = yes
