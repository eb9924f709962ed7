package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"mqttspec/codec"
	broker "mqttspec/reference-broker"
)

// selfSigned writes a certificate for 127.0.0.1 and its key into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mqttspec test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile
}

// connectOver sends a 5.0 CONNECT on nc and reads the CONNACK with the codec.
func connectOver(t *testing.T, nc net.Conn) *codec.Connack {
	t.Helper()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	p, err := codec.Parse(`CONNECT v=5.0 client-id="transport" clean`)
	require.NoError(t, err)
	_, err = nc.Write(p.Append(nil, codec.V5))
	require.NoError(t, err)
	r := codec.NewReader(nc, 4096)
	r.From, r.Version = codec.FromServer, codec.V5
	got, err := r.ReadPacket()
	require.NoError(t, err)
	ack, ok := got.(*codec.Connack)
	require.True(t, ok, "got %s", codec.Format(got))
	return ack
}

// TestBrokerListeners serves TCP, TLS and WebSocket listeners, connects over each with the
// codec, and runs conformance cases through each with `mqttspec run --target`.
func TestBrokerListeners(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	o := brokerOptions{listen: "127.0.0.1:0", tlsListen: "127.0.0.1:0", wsListen: "127.0.0.1:0", cert: cert, key: key}
	cfg, err := brokerConfig(o, io.Discard)
	require.NoError(t, err)
	srv, err := startBrokerServer(o, cfg)
	require.NoError(t, err)
	t.Cleanup(srv.close)
	require.Len(t, srv.urls, 3)
	tcpURL, tlsURL, wsURL := srv.urls[0], srv.urls[1], srv.urls[2]
	require.True(t, strings.HasPrefix(tcpURL, "tcp://127.0.0.1:"), tcpURL)
	require.True(t, strings.HasPrefix(tlsURL, "tls://127.0.0.1:"), tlsURL)
	require.True(t, strings.HasPrefix(wsURL, "ws://127.0.0.1:") && strings.HasSuffix(wsURL, "/mqtt"), wsURL)

	pemCert, err := os.ReadFile(cert)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pemCert))
	tc, err := tls.Dial("tcp", strings.TrimPrefix(tlsURL, "tls://"), &tls.Config{RootCAs: pool})
	require.NoError(t, err)
	defer tc.Close()
	assert.Equal(t, codec.Success, connectOver(t, tc).ReasonCode, "over TLS")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{Subprotocols: []string{"mqtt"}})
	require.NoError(t, err)
	assert.Equal(t, "mqtt", ws.Subprotocol())
	wc := websocket.NetConn(context.Background(), ws, websocket.MessageBinary)
	defer wc.Close()
	assert.Equal(t, codec.Success, connectOver(t, wc).ReasonCode, "over WebSocket")

	for _, url := range srv.urls {
		var out strings.Builder
		code := run([]string{"run", "--quiet", "--target", url, "--tls-ca", cert, "--run", `^(publish\.qos1|retain\.)`}, &out, &out)
		assert.Equal(t, 0, code, "mqttspec run --target %s:\n%s", url, out.String())
	}
}

// TestBrokerWebSocketSubprotocol checks that a WebSocket without the mqtt subprotocol is refused
// (MQTT 5.0 section 6).
func TestBrokerWebSocketSubprotocol(t *testing.T) {
	o := brokerOptions{wsListen: "127.0.0.1:0"}
	srv, err := startBrokerServer(o, broker.DefaultConfig())
	require.NoError(t, err)
	t.Cleanup(srv.close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, srv.urls[0], nil)
	require.NoError(t, err)
	_, _, err = ws.Read(ctx)
	require.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(err), "read: %v", err)
}

// TestBrokerFileErrors checks that a bad file stops the command with status 2 and names the
// file and line.
func TestBrokerFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
		return p
	}
	cases := []struct {
		flag, file, text, want string
	}{
		{"--config", "broker.conf", "maximum-qos = 1\nretain = no\n", `broker.conf:2: unknown key "retain"`},
		{"--acl", "acl", "# rules\nalice readwrite\n", "acl:2: want USER ACCESS FILTER"},
		{"--passwords", "passwords", "alice:plain\n", `passwords:1: user "alice": not a bcrypt hash`},
	}
	for _, tc := range cases {
		t.Run(tc.flag, func(t *testing.T) {
			var out, errOut strings.Builder
			code := run([]string{"broker", "--listen", "", tc.flag, write(tc.file, tc.text)}, &out, &errOut)
			assert.Equal(t, 2, code)
			assert.Contains(t, errOut.String(), tc.want)
		})
	}
	var errOut strings.Builder
	assert.Equal(t, 2, run([]string{"broker", "--tls-listen", "127.0.0.1:0"}, io.Discard, &errOut))
	assert.Contains(t, errOut.String(), "--tls-listen needs --cert and --key")
}

func TestBrokerHashPassword(t *testing.T) {
	stdin = strings.NewReader("s3cret\n")
	t.Cleanup(func() { stdin = os.Stdin })
	var out strings.Builder
	require.Equal(t, 0, run([]string{"broker", "--hash-password"}, &out, io.Discard))
	hash := strings.TrimSpace(out.String())
	require.NoError(t, bcrypt.CompareHashAndPassword([]byte(hash), []byte("s3cret")))
	_, err := broker.ParsePasswords(strings.NewReader("alice:"+hash), "passwords")
	require.NoError(t, err, "the printed hash is a valid password file entry")
}

// TestBrokerCommandStops runs `mqttspec broker` with a password file, connects to the address
// it prints, and stops it with SIGTERM.
func TestBrokerCommandStops(t *testing.T) {
	dir := t.TempDir()
	h, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	require.NoError(t, err)
	pwFile := filepath.Join(dir, "passwords")
	require.NoError(t, os.WriteFile(pwFile, []byte("alice:"+string(h)+"\n"), 0o600))
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"broker", "--listen", "127.0.0.1:0", "--passwords", pwFile}, pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	require.True(t, lines.Scan(), "the broker prints its address")
	addr, ok := strings.CutPrefix(lines.Text(), "listening on tcp://")
	require.True(t, ok, lines.Text())
	go io.Copy(io.Discard, pr)

	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer nc.Close()
	assert.Equal(t, codec.NotAuthorized, connectOver(t, nc).ReasonCode, "anonymous refused with a password file")

	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	select {
	case code := <-done:
		assert.Equal(t, 0, code)
	case <-time.After(10 * time.Second):
		t.Fatal("the broker did not stop on SIGTERM")
	}
}
