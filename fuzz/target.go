package fuzz

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"mqttspec/codec"
)

// target is the broker under test: how to reach it, and, when the fuzzer
// may, how to bring it back after a crash.
type target struct {
	dial    func(context.Context) (net.Conn, error)
	proc    *process                        // --exec
	restart func(ctx context.Context) error // Options.Restart
	probes  atomic.Uint64
}

func (t *target) canRestart() bool { return t.proc != nil || t.restart != nil }

// bringBack stops what is left of the broker and starts it again.
func (t *target) bringBack(ctx context.Context) error {
	switch {
	case t.proc != nil:
		t.proc.stop()
		return t.proc.start(ctx)
	case t.restart != nil:
		return t.restart(ctx)
	}
	return errors.New("the broker is down and cannot be restarted (give --exec to let the fuzzer start it)")
}

// health is what a liveness probe found.
type health int

const (
	alive   health = iota
	refused        // no new connection is accepted: the broker is gone
	silent         // connections are accepted and never answered
)

func (h health) String() string {
	switch h {
	case refused:
		return "refuses connections"
	case silent:
		return "accepts connections but answers nothing"
	}
	return "alive"
}

// probeOnce opens a fresh connection and sends a 3.1.1 CONNECT and a
// PINGREQ; any CONNACK (even a refusing one) or PINGRESP within timeout
// proves the broker alive.
func (t *target) probeOnce(ctx context.Context, timeout time.Duration) health {
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := t.dial(dctx)
	if err != nil {
		if isTimeout(err) {
			return silent
		}
		return refused
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(timeout))
	id := "fzprobe" + strconv.FormatUint(t.probes.Add(1), 36)
	b := (&codec.Connect{ProtocolName: []byte("MQTT"), ProtocolLevel: codec.V311, CleanStart: true,
		ClientID: []byte(id), KeepAlive: 30}).Append(nil, codec.V311)
	b = append(b, probe...)
	if _, err := nc.Write(b); err != nil {
		return refused
	}
	r := codec.NewReader(nc, 64)
	for {
		fh, _, err := r.ReadRaw()
		switch {
		case err == nil && (fh.Type == codec.CONNACK || fh.Type == codec.PINGRESP):
			return alive
		case err == nil:
			continue
		case isTimeout(err):
			return silent
		}
		return refused
	}
}

// check probes the broker. A refused connection is tried again twice, so
// that a broker with a full accept backlog is not taken for dead; a silent
// one gets a second probe with twice the time, so that a broker slowed down
// by a busy machine is not taken for hung.
func (t *target) check(ctx context.Context, timeout time.Duration) health {
	h := alive
	for i, pause := range []time.Duration{0, 50 * time.Millisecond, 200 * time.Millisecond} {
		if i > 0 {
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				return h
			}
		}
		if h = t.probeOnce(ctx, timeout); h != refused {
			break
		}
	}
	if h == silent {
		h = t.probeOnce(ctx, 2*timeout)
	}
	return h
}
