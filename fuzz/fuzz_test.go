package fuzz

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"mqttspec/conformance"
)

// FuzzScript feeds the conformance script parser; the invariant lives in
// FuzzScriptOnce so go-fuzz shares it. The seeds are the cases of the
// built-in suites, one case per seed: small inputs keep executions and
// the minimization of new inputs fast.
func FuzzScript(f *testing.F) {
	for _, src := range scriptSeeds(f) {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src string) { FuzzScriptOnce(src) })
}

// scriptSeeds splits the built-in suites into one script per case.
func scriptSeeds(tb testing.TB) []string {
	files, err := filepath.Glob(filepath.Join("..", "conformance", "suites", "*.mqtts"))
	require.NoError(tb, err)
	require.NotEmpty(tb, files)
	var out []string
	for _, path := range files {
		b, err := os.ReadFile(path)
		require.NoError(tb, err)
		cases, err := conformance.ParseScript(path, string(b))
		require.NoError(tb, err)
		for _, c := range cases {
			out = append(out, "section "+c.Section+" "+c.SectionName+"\n\n"+c.Source+"\n")
		}
	}
	return out
}
