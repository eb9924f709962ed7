# HiveMQ Community Edition (2024.x), default config.xml. Written from HiveMQ's
# public documentation (MQTT settings, security settings, the HiveMQ Edge
# table of MQTT defaults that share the same code). HiveMQ (Java, no Debian
# package) cannot be installed where `make certify` runs, so this profile has
# not been checked against a live broker.
#
# MQTT 3.1, 3.1.1 and 5.0. The optional 5.0 features are on by default and
# announced in the CONNACK, where the probe reads them (documented defaults:
# maximum QoS 2, retained messages, wildcard and shared subscriptions and
# subscription identifiers enabled, topic aliases enabled with 5 per client,
# server Receive Maximum 10, maximum packet size 268435460, Keep Alive up to
# 65535 with unlimited allowed). Settings that change what the suite finds:
#   <security><utf8-validation>          true: ill-formed UTF-8 in client
#                                        identifiers and topics closes the
#                                        connection, as MQTT-1.5.3-1 requires
#   <security><payload-format-validation> false: a payload that contradicts
#                                        Payload Format Indicator 1 is passed
#                                        on (5.0 lets a receiver check it, MAY)
# Enhanced authentication needs an extension: set var auth-method and
# var auth-secret to run the 4.12 cases.
name     = HiveMQ CE (from its documentation)
notes    = profile written from HiveMQ documentation, not run here
versions = 3.1 3.1.1 5.0
v3.1     = yes
