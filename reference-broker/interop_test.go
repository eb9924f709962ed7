package broker

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// interopTimeout bounds every run of an external client.
const interopTimeout = 20 * time.Second

// needTool finds an external client: absent, the test is skipped, except under CI where the
// clients are installed and their absence is a failure.
func needTool(t *testing.T, path string) string {
	t.Helper()
	p, err := exec.LookPath(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI=true (Debian packages mosquitto-clients, python3-paho-mqtt): %v", path, err)
		}
		t.Skipf("%s not installed (Debian packages mosquitto-clients, python3-paho-mqtt): skipping the interop test", path)
	}
	return p
}

// tool runs an external client to its end, within interopTimeout.
func tool(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), interopTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
	return string(out)
}

// startTool starts an external client that keeps running; wait collects its output.
func startTool(t *testing.T, name string, args ...string) (cmd *exec.Cmd, wait func() string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), interopTimeout)
	cmd = exec.CommandContext(ctx, name, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		if cmd.ProcessState == nil {
			cmd.Wait() // a test that failed early still reaps its client
		}
	})
	return cmd, func() string {
		err := cmd.Wait()
		cancel()
		require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out.String())
		return out.String()
	}
}

// waitSubscribed waits until n subscriptions match topic.
func waitSubscribed(t *testing.T, b *Broker, topic string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(b.topics.match(topic, nil)) >= n }, interopTimeout, 10*time.Millisecond,
		"waiting for %d subscriptions matching %s", n, topic)
}

// TestInteropMosquittoClients runs the Debian mosquitto_pub and mosquitto_sub against the
// broker, over 3.1.1 and 5.0: QoS 0/1/2 end to end, a retained message, a Will on an abnormal
// close and a persistent session that queues while its client is away.
func TestInteropMosquittoClients(t *testing.T) {
	pub, sub := needTool(t, "mosquitto_pub"), needTool(t, "mosquitto_sub")
	for _, v := range []string{"mqttv311", "mqttv5"} {
		t.Run(v, func(t *testing.T) {
			b, addr := startBroker(t, nil)
			host, port, err := net.SplitHostPort(addr)
			require.NoError(t, err)
			at := []string{"-h", host, "-p", port, "-V", v}
			args := func(a ...string) []string { return append(append([]string{}, at...), a...) }

			t.Run("QoS 0, 1 and 2", func(t *testing.T) {
				// MQTT-4.3.1-1, MQTT-4.3.2-1, MQTT-4.3.3-1: delivered at the publish QoS under a QoS 2 subscription
				_, wait := startTool(t, sub, args("-t", "interop/qos", "-q", "2", "-C", "3", "-W", "15", "-F", "%q %p")...)
				waitSubscribed(t, b, "interop/qos", 1)
				for _, q := range []string{"0", "1", "2"} {
					tool(t, pub, args("-t", "interop/qos", "-q", q, "-m", "m"+q)...)
				}
				assert.Equal(t, "0 m0\n1 m1\n2 m2\n", wait())
			})
			t.Run("retained", func(t *testing.T) {
				// MQTT-3.3.1-5, MQTT-3.3.1-6 (3.1.1) / MQTT-3.3.1-5 MQTT-3.3.1-9 (5.0)
				tool(t, pub, args("-t", "interop/retained", "-q", "1", "-r", "-m", "kept")...)
				out := tool(t, sub, args("-t", "interop/retained", "-q", "1", "-C", "1", "-W", "10", "-F", "%t %r %p")...)
				assert.Equal(t, "interop/retained 1 kept\n", out)
			})
			t.Run("will", func(t *testing.T) {
				// MQTT-3.1.2-8 (3.1.1) / MQTT-3.1.2-8 (5.0): published when the connection closes without DISCONNECT
				_, wait := startTool(t, sub, args("-t", "interop/will", "-q", "1", "-C", "1", "-W", "15", "-F", "%t %p")...)
				waitSubscribed(t, b, "interop/will", 1)
				dying, _ := startTool(t, sub, args("-i", "dying", "-t", "interop/nothing", "--will-topic", "interop/will",
					"--will-payload", "gone", "--will-qos", "1")...)
				waitSubscribed(t, b, "interop/nothing", 1)
				require.NoError(t, dying.Process.Kill()) // the socket closes with no DISCONNECT
				require.Error(t, dying.Wait(), "killed")
				assert.Equal(t, "interop/will gone\n", wait())
			})
			t.Run("persistent session", func(t *testing.T) {
				// MQTT-3.1.2-4, MQTT-3.1.2-5 (3.1.1) / MQTT-3.1.2-5 MQTT-3.1.3-2 (5.0): the session keeps the
				// subscription and the QoS 1 message that arrived while the client was away
				keep := args("-i", "keeper", "-c", "-q", "1", "-t", "interop/session")
				if v == "mqttv5" {
					keep = append(keep, "-x", "60")
				}
				tool(t, sub, append(keep, "-E")...)
				tool(t, pub, args("-t", "interop/session", "-q", "1", "-m", "while away")...)
				out := tool(t, sub, append(keep, "-C", "1", "-W", "10", "-F", "%t %p")...)
				assert.Equal(t, "interop/session while away\n", out)
			})
		})
	}
}

// TestInteropPaho runs testdata/interop_paho.py, the Python paho-mqtt client, against the
// broker over 3.1.1 and 5.0 with the same scenarios as the mosquitto test.
func TestInteropPaho(t *testing.T) {
	python := needTool(t, "/usr/bin/python3")
	ctx, cancel := context.WithTimeout(context.Background(), interopTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, python, "-c", "import paho.mqtt.client").CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3-paho-mqtt is required under CI=true: %s", out)
		}
		t.Skipf("python3-paho-mqtt not installed: skipping the interop test (%s)", strings.TrimSpace(string(out)))
	}
	for _, v := range []string{"3.1.1", "5.0"} {
		t.Run(v, func(t *testing.T) {
			_, addr := startBroker(t, nil)
			host, port, err := net.SplitHostPort(addr)
			require.NoError(t, err)
			out := tool(t, python, "testdata/interop_paho.py", host, port, v)
			for _, scenario := range []string{"qos", "retained", "will", "session"} {
				assert.Contains(t, out, "ok "+scenario+" (")
			}
		})
	}
}
