package conformance

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// Target is a broker endpoint: tcp:// (mqtt://), tls:// (mqtts://), ws://
// or wss://.
type Target struct {
	URL string
	TLS *tls.Config // for tls:// and wss://

	scheme, addr string
}

// TLSFiles builds the client TLS configuration from PEM files.
func TLSFiles(caFile, certFile, keyFile string, insecure bool) (*tls.Config, error) {
	cfg := &tls.Config{InsecureSkipVerify: insecure} //nolint:gosec // the user asked for it with --insecure
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s: no PEM certificate found", caFile)
		}
		cfg.RootCAs = pool
	}
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// ParseTarget checks a target URL.
func ParseTarget(raw string, tlsCfg *tls.Config) (*Target, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("target %q: want a URL such as tcp://127.0.0.1:1883", raw)
	}
	t := &Target{URL: raw, TLS: tlsCfg, addr: u.Host}
	switch strings.ToLower(u.Scheme) {
	case "tcp", "mqtt":
		t.scheme = "tcp"
		t.addr = withPort(u, "1883")
	case "tls", "mqtts", "ssl":
		t.scheme = "tls"
		t.addr = withPort(u, "8883")
	case "ws":
		t.scheme = "ws"
	case "wss":
		t.scheme = "wss"
	default:
		return nil, fmt.Errorf("target %q: unknown scheme %q (tcp, mqtt, tls, mqtts, ws, wss)", raw, u.Scheme)
	}
	if (t.scheme == "tls" || t.scheme == "wss") && t.TLS == nil {
		t.TLS = &tls.Config{}
	}
	if t.TLS != nil && t.TLS.ServerName == "" && !t.TLS.InsecureSkipVerify {
		t.TLS = t.TLS.Clone()
		t.TLS.ServerName = u.Hostname()
	}
	return t, nil
}

func withPort(u *url.URL, port string) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// Dial opens one network connection to the broker.
func (t *Target) Dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	switch t.scheme {
	case "tcp":
		return d.DialContext(ctx, "tcp", t.addr)
	case "tls":
		td := tls.Dialer{NetDialer: &d, Config: t.TLS}
		return td.DialContext(ctx, "tcp", t.addr)
	}
	opts := &websocket.DialOptions{Subprotocols: []string{"mqtt"}}
	if t.TLS != nil {
		opts.HTTPClient = httpClientWithTLS(t.TLS)
	}
	c, _, err := websocket.Dial(ctx, t.URL, opts)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(64 << 20)
	// The NetConn outlives ctx, which only bounds the handshake.
	return websocket.NetConn(context.Background(), c, websocket.MessageBinary), nil
}

func httpClientWithTLS(cfg *tls.Config) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
}

func contextWithTimeout(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	time.AfterFunc(d, cancel)
	return ctx
}
