"""Interop check of the reference broker with the Python paho-mqtt client (Debian python3-paho-mqtt 1.6).

Usage: interop_paho.py HOST PORT VERSION   (VERSION 3.1.1 or 5.0)

Runs four scenarios and prints "ok NAME" for each: QoS 0/1/2 end to end, a retained message, a Will
published on an abnormal close, and a persistent session that queues a QoS 1 message while its client
is away. Any failure exits non-zero with the reason. Every wait is bounded.
"""

import queue
import sys
import time

import paho.mqtt.client as mqtt

HOST, PORT, VERSION = sys.argv[1], int(sys.argv[2]), sys.argv[3]
V5 = VERSION == "5.0"
WAIT = 10.0


def fail(msg):
    print("FAIL " + msg, flush=True)
    sys.exit(1)


class Client:
    """A paho client whose events land in queues, so each step waits for what it needs."""

    def __init__(self, client_id, clean=True, expiry=None, will=None):
        proto = mqtt.MQTTv5 if V5 else mqtt.MQTTv311
        kwargs = {"client_id": client_id, "protocol": proto}
        if not V5:
            kwargs["clean_session"] = clean
        self.c = mqtt.Client(**kwargs)
        self.events = queue.Queue()
        self.messages = queue.Queue()
        self.c.on_connect = lambda c, u, flags, rc, props=None: self.events.put(("connack", flags, rc))
        self.c.on_subscribe = lambda c, u, mid, granted, props=None: self.events.put(("suback", mid, granted))
        self.c.on_message = lambda c, u, m: self.messages.put(m)
        if will:
            self.c.will_set(will[0], will[1], qos=1)
        connect = {}
        if V5:
            connect["clean_start"] = clean
            if expiry is not None:
                from paho.mqtt.properties import Properties
                from paho.mqtt.packettypes import PacketTypes
                props = Properties(PacketTypes.CONNECT)
                props.SessionExpiryInterval = expiry
                connect["properties"] = props
        self.c.connect(HOST, PORT, keepalive=30, **connect)
        self.c.loop_start()
        kind, flags, rc = self.event("connack")
        if rc != 0:
            fail("%s: CONNACK %s" % (client_id, rc))
        self.session_present = bool(flags.get("session present"))

    def event(self, want):
        try:
            ev = self.events.get(timeout=WAIT)
        except queue.Empty:
            fail("no %s within %ss" % (want, WAIT))
        if ev[0] != want:
            fail("expected %s, got %s" % (want, ev))
        return ev

    def subscribe(self, topic, qos):
        self.c.subscribe(topic, qos)
        self.event("suback")

    def publish(self, topic, payload, qos, retain=False):
        info = self.c.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(timeout=WAIT)
        if not info.is_published():
            fail("PUBLISH to %s not acknowledged" % topic)

    def receive(self):
        try:
            return self.messages.get(timeout=WAIT)
        except queue.Empty:
            fail("no message within %ss" % WAIT)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()

    def drop(self):
        """Close the socket without DISCONNECT."""
        self.c.loop_stop()
        self.c.socket().close()


def check(cond, msg):
    if not cond:
        fail(msg)


def scenario_qos():
    sub = Client("paho-sub")
    sub.subscribe("interop/qos", 2)
    pub = Client("paho-pub")
    for q in (0, 1, 2):
        pub.publish("interop/qos", "m%d" % q, q)
    for q in (0, 1, 2):
        m = sub.receive()
        check((m.payload, m.qos) == (("m%d" % q).encode(), q), "qos %d: got %r at qos %d" % (q, m.payload, m.qos))
    pub.close()
    sub.close()


def scenario_retained():
    pub = Client("paho-retainer")
    pub.publish("interop/retained", "kept", 1, retain=True)
    pub.close()
    sub = Client("paho-late")
    sub.subscribe("interop/retained", 1)
    m = sub.receive()
    check(m.payload == b"kept" and m.retain, "retained: got %r retain=%s" % (m.payload, m.retain))
    sub.close()


def scenario_will():
    watcher = Client("paho-watcher")
    watcher.subscribe("interop/will", 1)
    dying = Client("paho-dying", will=("interop/will", "gone"))
    dying.drop()
    m = watcher.receive()
    check(m.payload == b"gone", "will: got %r" % m.payload)
    watcher.close()


def scenario_session():
    keeper = Client("paho-keeper", clean=False, expiry=60)
    keeper.subscribe("interop/session", 1)
    keeper.close()
    pub = Client("paho-pub2")
    pub.publish("interop/session", "while away", 1)
    pub.close()
    keeper = Client("paho-keeper", clean=False, expiry=60)
    check(keeper.session_present, "session: Session Present is 0")
    m = keeper.receive()
    check(m.payload == b"while away", "session: got %r" % m.payload)
    keeper.close()


for name, run in (("qos", scenario_qos), ("retained", scenario_retained), ("will", scenario_will),
                  ("session", scenario_session)):
    start = time.monotonic()
    run()
    print("ok %s (%.2fs)" % (name, time.monotonic() - start), flush=True)
