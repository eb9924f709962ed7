package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/coder/websocket"

	broker "mqttspec/reference-broker"
)

func init() {
	register(command{"broker", "run the reference broker on TCP, TLS and WebSocket listeners", brokerCmd})
}

// stdin is where --hash-password reads the password; tests replace it.
var stdin io.Reader = os.Stdin

// brokerOptions are the listeners and files of `mqttspec broker`.
type brokerOptions struct {
	listen, tlsListen, wsListen string
	cert, key, clientCA         string
	passwords, acl, config      string
	trace                       bool
}

func brokerCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("broker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o brokerOptions
	fs.StringVar(&o.listen, "listen", "127.0.0.1:1883", "TCP address of the plain MQTT listener (empty: none)")
	fs.StringVar(&o.tlsListen, "tls-listen", "", "TCP address of the MQTT over TLS listener (needs --cert and --key)")
	fs.StringVar(&o.cert, "cert", "", "PEM certificate chain of the TLS listener")
	fs.StringVar(&o.key, "key", "", "PEM private key of the TLS listener")
	fs.StringVar(&o.clientCA, "client-ca", "", "PEM CA certificates that client certificates must chain to (client certificates stay optional)")
	fs.StringVar(&o.wsListen, "ws-listen", "", "TCP address of the MQTT over WebSocket listener (subprotocol mqtt, any path)")
	fs.StringVar(&o.passwords, "passwords", "", "password file: USER:BCRYPT-HASH lines; anonymous clients are then refused unless the config file sets allow-anonymous = true")
	fs.StringVar(&o.acl, "acl", "", "ACL file: USER read|write|readwrite TOPIC-FILTER lines (USER * for everyone)")
	fs.StringVar(&o.config, "config", "", "configuration file: key = value lines for capabilities and limits (see the README)")
	fs.BoolVar(&o.trace, "trace", false, "log every packet in and out on stderr")
	hash := fs.Bool("hash-password", false, "read a password from standard input, print its bcrypt hash for the password file, and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mqttspec broker: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *hash {
		return hashPassword(stdout, stderr)
	}
	cfg, err := brokerConfig(o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "mqttspec broker: %v\n", err)
		return 2
	}
	// Signals are caught before the addresses are printed: whoever reads them may stop us.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := startBrokerServer(o, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "mqttspec broker: %v\n", err)
		return 1
	}
	for _, u := range srv.urls {
		fmt.Fprintf(stdout, "listening on %s\n", u)
	}
	<-ctx.Done()
	fmt.Fprintln(stderr, "mqttspec broker: stopping")
	srv.close()
	return 0
}

func hashPassword(stdout, stderr io.Writer) int {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(stderr, "mqttspec broker: reading the password: %v\n", err)
		return 1
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		fmt.Fprintln(stderr, "mqttspec broker: no password on standard input")
		return 2
	}
	h, err := broker.HashPassword([]byte(pw))
	if err != nil {
		fmt.Fprintf(stderr, "mqttspec broker: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, h)
	return 0
}

// brokerConfig builds the broker's configuration from its files. With a password file,
// anonymous clients are refused unless the configuration file allows them again.
func brokerConfig(o brokerOptions, stderr io.Writer) (broker.Config, error) {
	cfg := broker.DefaultConfig()
	if o.passwords != "" {
		p, err := broker.LoadPasswords(o.passwords)
		if err != nil {
			return cfg, err
		}
		cfg.Authenticator, cfg.AllowAnonymous = p, false
	}
	if o.acl != "" {
		a, err := broker.LoadACL(o.acl)
		if err != nil {
			return cfg, err
		}
		cfg.Authorizer = a
	}
	if o.config != "" {
		if err := broker.LoadConfigFile(o.config, &cfg); err != nil {
			return cfg, err
		}
	}
	if o.trace {
		var mu sync.Mutex
		cfg.Trace = func(ev broker.TraceEvent) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(stderr, "%s conn=%d client=%q remote=%s %-5s %s%s\n", ev.Time.Format("15:04:05.000000"),
				ev.ConnID, ev.ClientID, ev.Remote, ev.Kind, ev.Packet, ev.Reason)
		}
	}
	if (o.tlsListen != "") != (o.cert != "" && o.key != "") {
		return cfg, errors.New("--tls-listen needs --cert and --key, and they need --tls-listen")
	}
	return cfg, nil
}

// brokerServer is a reference broker with its listeners.
type brokerServer struct {
	b    *broker.Broker
	web  *http.Server
	urls []string // one per listener: tcp://, tls://, ws://
	done sync.WaitGroup
}

// startBrokerServer opens the listeners of o and serves them with a broker made from cfg.
func startBrokerServer(o brokerOptions, cfg broker.Config) (*brokerServer, error) {
	b, err := broker.New(cfg)
	if err != nil {
		return nil, err
	}
	s := &brokerServer{b: b}
	var listeners []net.Listener
	fail := func(err error) (*brokerServer, error) {
		for _, l := range listeners {
			l.Close()
		}
		b.Close()
		return nil, err
	}
	if o.listen != "" {
		l, err := net.Listen("tcp", o.listen)
		if err != nil {
			return fail(err)
		}
		listeners = append(listeners, l)
		s.urls = append(s.urls, "tcp://"+l.Addr().String())
	}
	if o.tlsListen != "" {
		conf, err := tlsServerConfig(o)
		if err != nil {
			return fail(err)
		}
		l, err := tls.Listen("tcp", o.tlsListen, conf)
		if err != nil {
			return fail(err)
		}
		listeners = append(listeners, l)
		s.urls = append(s.urls, "tls://"+l.Addr().String())
	}
	var wl net.Listener
	if o.wsListen != "" {
		if wl, err = net.Listen("tcp", o.wsListen); err != nil {
			return fail(err)
		}
		s.urls = append(s.urls, "ws://"+wl.Addr().String()+"/mqtt")
	}
	for _, l := range listeners {
		s.done.Go(func() { b.Serve(l) })
	}
	if wl != nil {
		s.web = &http.Server{Handler: webSocketHandler(b)}
		s.done.Go(func() { s.web.Serve(wl) })
	}
	return s, nil
}

// tlsServerConfig loads the certificate and, when given, the CAs that client certificates
// are checked against; a client without a certificate is still accepted.
func tlsServerConfig(o brokerOptions) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(o.cert, o.key)
	if err != nil {
		return nil, fmt.Errorf("--cert %s --key %s: %w", o.cert, o.key, err)
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if o.clientCA != "" {
		pem, err := os.ReadFile(o.clientCA)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--client-ca %s: no PEM certificate found", o.clientCA)
		}
		conf.ClientCAs, conf.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	return conf, nil
}

// webSocketHandler upgrades any path to a WebSocket carrying MQTT in binary messages; the
// subprotocol must be mqtt (MQTT 5.0 section 6).
func webSocketHandler(b *broker.Broker) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"mqtt"}, OriginPatterns: []string{"*"}})
		if err != nil {
			return
		}
		if ws.Subprotocol() != "mqtt" {
			ws.Close(websocket.StatusPolicyViolation, "the WebSocket subprotocol must be mqtt")
			return
		}
		ws.SetReadLimit(-1) // the broker's Maximum Packet Size bounds what it accepts
		b.ServeConn(drainingConn{websocket.NetConn(context.Background(), ws, websocket.MessageBinary)})
	})
}

// drainingConn lets the broker treat a WebSocket like TCP when it closes a connection: its
// CloseWrite sends nothing (a WebSocket has no half-close), so the broker keeps reading and
// discarding for a moment after its last packet instead of closing at once, and a client still
// writing a refused packet sees the close rather than a failed write.
type drainingConn struct{ net.Conn }

func (drainingConn) CloseWrite() error { return nil }

// close stops accepting, then closes the broker, which drains every connection.
func (s *brokerServer) close() {
	if s.web != nil {
		s.web.Close()
	}
	s.b.Close()
	s.done.Wait()
}
