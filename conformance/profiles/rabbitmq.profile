# RabbitMQ 3.10.8 with the rabbitmq_mqtt plugin (Debian 12), anonymous access
# mapped to guest on loopback, as scripts/targets.sh starts it.
#
# MQTT 3.1 and 3.1.1 only (MQTT 5.0 arrives with RabbitMQ 3.13): a 5.0 CONNECT
# is dropped without a CONNACK. The plugin grants subscriptions at QoS 1 at
# most (documented; 3.1.1 lets a server grant less than requested), so the
# cases that need a QoS 2 subscription are skipped. The cases about inbound
# QoS 2 PUBLISH still run, as a 3.x server may not decline one: RabbitMQ
# answers them with PUBACK (see README, "What mqttspec finds in popular
# brokers"). Retained messages are supported, but documented not to
# reach wildcard subscriptions; that stays a failure (MQTT-3.3.1-6), not a skip.
name        = RabbitMQ 3.10.8 MQTT plugin
notes       = Debian rabbitmq-server 3.10.8, rabbitmq_mqtt, MQTT listener only, anonymous = guest
versions    = 3.1 3.1.1
v3.1        = yes
maximum-qos = 1
