package broker

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"mqttspec/codec"
)

// Broker is an MQTT server. It serves any number of listeners and connections; Close stops it.
type Broker struct {
	cfg      Config
	sessions *sessionStore
	topics   topicIndex
	retained retainedStore
	stats    stats
	started  time.Time

	nextConnID atomic.Uint64
	active     atomic.Int64 // open connections

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closed    bool
	quit      chan struct{}
	wg        sync.WaitGroup // every goroutine the broker started, and every Serve call
}

// New makes a broker from cfg (see DefaultConfig).
func New(cfg Config) (*Broker, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	b := &Broker{
		cfg:       c,
		started:   time.Now(),
		listeners: map[net.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
		quit:      make(chan struct{}),
	}
	b.sessions = newSessionStore(b)
	b.wg.Add(1)
	go b.janitor()
	return b, nil
}

// track registers a goroutine with the broker unless it is closed.
func (b *Broker) track() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.wg.Add(1)
	return true
}

func (b *Broker) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// ListenAndServe listens on the TCP address addr and serves it until Close.
func (b *Broker) ListenAndServe(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return b.Serve(l)
}

// Serve accepts connections on l until Close, then returns ErrClosed. l is closed on return.
func (b *Broker) Serve(l net.Listener) error {
	if !b.track() {
		l.Close()
		return ErrClosed
	}
	defer b.wg.Done()
	b.mu.Lock()
	b.listeners[l] = struct{}{}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.listeners, l)
		b.mu.Unlock()
		l.Close()
	}()
	backoff := 5 * time.Millisecond
	for {
		nc, err := l.Accept()
		if err != nil {
			if b.isClosed() {
				return ErrClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Out of descriptors and the like: wait for connections to go.
				select {
				case <-time.After(backoff):
				case <-b.quit:
					return ErrClosed
				}
				backoff = min(2*backoff, time.Second)
				continue
			}
			return err
		}
		backoff = 5 * time.Millisecond
		if !b.track() {
			nc.Close()
			return ErrClosed
		}
		go func() {
			defer b.wg.Done()
			b.serveConn(nc)
		}()
	}
}

// ServeConn runs one client connection (of any transport: TLS, WebSocket, a pipe) until it
// closes. It returns ErrClosed if the broker is closed.
func (b *Broker) ServeConn(nc net.Conn) error {
	if !b.track() {
		nc.Close()
		return ErrClosed
	}
	defer b.wg.Done()
	b.serveConn(nc)
	return nil
}

func (b *Broker) serveConn(nc net.Conn) {
	n := b.active.Add(1)
	defer b.active.Add(-1)
	if n > 2*int64(b.cfg.MaxConnections) {
		nc.Close() // far past the limit: not even worth a CONNACK
		return
	}
	c := newConn(b, nc)
	c.overLimit = n > int64(b.cfg.MaxConnections)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		nc.Close()
		return
	}
	b.conns[c] = struct{}{}
	b.mu.Unlock()
	c.serve()
	b.mu.Lock()
	delete(b.conns, c)
	b.mu.Unlock()
}

// Addrs lists the addresses the broker is listening on.
func (b *Broker) Addrs() []net.Addr {
	b.mu.Lock()
	defer b.mu.Unlock()
	var as []net.Addr
	for l := range b.listeners {
		as = append(as, l.Addr())
	}
	return as
}

// Close stops the broker: listeners close, every connection gets DISCONNECT Server shutting
// down (5.0) and closes, and Close returns once every goroutine of the broker has ended.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.quit)
	for l := range b.listeners {
		l.Close()
	}
	conns := make([]*conn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()
	for _, c := range conns {
		c.closeWith(c.disconnectPacket(&closeError{reason: codec.ServerShuttingDown, msg: "the broker is shutting down"}),
			"broker shutting down")
	}
	b.wg.Wait()
	return nil
}
