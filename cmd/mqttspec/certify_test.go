package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqttspec/codec"
	"mqttspec/conformance"
	"mqttspec/reports"
)

// Every built-in profile parses, names its broker, says which MQTT versions
// it speaks, and skips only cases that exist: a skip left behind by a renamed
// case would silently stop skipping, or mislead whoever reads the profile.
func TestBuiltinProfiles(t *testing.T) {
	cases, err := conformance.Load("")
	require.NoError(t, err)
	var ids []string
	for _, c := range cases {
		ids = append(ids, c.ID)
	}
	v31, v311, v5 := codec.V31, codec.V311, codec.V5
	want := map[string][]codec.Version{
		"mosquitto": {v31, v311, v5},
		"aedes":     {v31, v311},     // answers a 5.0 CONNECT with a 3.1.1 refusal
		"rabbitmq":  {v31, v311},     // MQTT 5.0 only from RabbitMQ 3.13
		"activemq":  {v31, v311},     // drops a 5.0 CONNECT
		"emqx":      {v31, v311, v5}, // from its documentation
		"hivemq":    {v31, v311, v5}, // from its documentation
		"reference": {v31, v311, v5},
	}
	require.ElementsMatch(t, mapKeys(want), conformance.BuiltinProfiles())
	for _, name := range conformance.BuiltinProfiles() {
		t.Run(name, func(t *testing.T) {
			p, err := conformance.BuiltinProfile(name)
			require.NoError(t, err)
			assert.NotEmpty(t, p.Name, "the matrix column is titled with the profile's name")
			assert.Equal(t, want[name], p.Versions)
			assert.Empty(t, p.StaleSkips(ids), "skip patterns that match no case")
		})
	}
}

func TestStaleSkipsNamesUnusedPatterns(t *testing.T) {
	p, err := conformance.ParseProfile("t.profile", "skip connect\\..*  used\nskip gone\\.case  renamed since\n")
	require.NoError(t, err)
	assert.Equal(t, []string{`^(gone\.case)$`}, p.StaleSkips([]string{"connect.minimal", "publish.qos1"}))
}

// The reference profile documents the embedded broker; it must hand the
// cases the same denied topic and authentication method the broker is
// started with, or `--profile reference` would certify something else.
func TestReferenceProfileMatchesEmbeddedBroker(t *testing.T) {
	ref, err := startReference()
	require.NoError(t, err)
	defer ref.stop()
	p, err := conformance.BuiltinProfile("reference")
	require.NoError(t, err)
	assert.Equal(t, ref.profile.Vars, p.Vars)
	assert.Equal(t, ref.profile.Name, p.Name)
}

func TestOpenProfile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mine.profile")
	require.NoError(t, os.WriteFile(file, []byte("name = my broker\nmaximum-qos = 1\n"), 0o644))
	for _, tc := range []struct {
		arg, name, err string
	}{
		{arg: "mosquitto", name: "Mosquitto 2.0.11"},
		{arg: "rabbitmq", name: "RabbitMQ 3.10.8 MQTT plugin"},
		{arg: file, name: "my broker"},
		{arg: "nosuch", err: `no built-in profile "nosuch" (built in: activemq, aedes, emqx, hivemq, mosquitto, rabbitmq, reference)`},
		// a path is never taken for a built-in name
		{arg: filepath.Join(dir, "mosquitto.profile"), err: "no such file"},
	} {
		t.Run(tc.arg, func(t *testing.T) {
			p, err := conformance.OpenProfile(tc.arg)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.name, p.Name)
		})
	}
}

// `mqttspec run --profile NAME` uses the built-in profile: its name titles the
// run and its versions decide what runs.
func TestRunWithBuiltinProfile(t *testing.T) {
	js := filepath.Join(t.TempDir(), "ref.json")
	code, out, errs := runCLI(t, "run", "--quiet", "--profile", "aedes", "--run", `^data\.utf8-null-topic$`, "--json", js)
	require.Equal(t, 0, code, out+errs)
	run, err := reports.LoadJSON(js)
	require.NoError(t, err)
	assert.Equal(t, "aedes 1.2.0", run.TargetName)
	outcomes := map[string]string{}
	for _, r := range run.Results {
		outcomes[r.Version] = string(r.Outcome) + " " + r.Reason
	}
	assert.Equal(t, map[string]string{"3.1.1": "pass ", "5.0": "skip profile: the broker does not speak MQTT 5.0"}, outcomes)
}

func mapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
