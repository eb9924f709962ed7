# Apache ActiveMQ Classic 5.17.2 (Debian 12) with only an mqtt:// transport
# connector, broker persistent=false and useJmx=false, as scripts/targets.sh
# starts it.
#
# MQTT 3.1 and 3.1.1 only: a 5.0 CONNECT is dropped without a CONNACK.
# ActiveMQ does not route client messages on topics that begin with '$', which
# 3.1.1 section 4.7.2 recommends (a server SHOULD keep clients from exchanging
# messages on such topics), so the informational case that expects an explicit
# '$' filter to match is skipped. The cases that check '#' and '+' do not match
# '$' topics still run.
name     = ActiveMQ Classic 5.17.2
notes    = Debian activemq 5.17.2 with libmqtt-client-java, mqtt:// connector only, non-persistent
versions = 3.1 3.1.1
v3.1     = yes
skip topics\.dollar-explicit-filter   ActiveMQ keeps clients off topics that begin with '$' (3.1.1 and 5.0 section 4.7.2 let a server reserve them)
