package fuzz

import "testing"

// FuzzScript feeds the conformance script parser; the invariant lives in
// FuzzScriptOnce so go-fuzz shares it. The seeds are the cases of the
// built-in suites, one case per seed: small inputs keep executions and
// the minimization of new inputs fast.
func FuzzScript(f *testing.F) {
	seeds, err := ScriptSeeds()
	if err != nil {
		f.Fatal(err)
	}
	for _, src := range seeds {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src string) { FuzzScriptOnce(src) })
}
