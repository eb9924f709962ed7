package codec

import (
	"bufio"
	"go/ast"
	goparser "go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statementsDir holds the project's lists of normative statement IDs.
const statementsDir = "../conformance/statements"

// loadStatements reads the IDs of one version's statement list.
func loadStatements(t testing.TB, v Version) map[string]bool {
	t.Helper()
	name := map[Version]string{V311: "mqtt-3.1.1.tsv", V5: "mqtt-5.0.tsv"}[v]
	f, err := os.Open(filepath.Join(statementsDir, name))
	require.NoError(t, err)
	defer f.Close()
	ids := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		id, _, _ := strings.Cut(sc.Text(), "\t")
		if strings.HasPrefix(id, "MQTT-") {
			ids[id] = true
		}
	}
	require.NoError(t, sc.Err())
	return ids
}

// citation is one statement ID written in the codec's source.
type citation struct {
	id       string
	versions []Version // the lists it must appear in
	pos      string
}

// sameInBoth are the IDs the codec cites without rule(): each was checked
// against both standards to name the same requirement in 3.1.1 and 5.0. An
// ID that exists in both lists but means something else in one (3.1.2-22 is
// the password flag in 3.1.1 and Keep Alive in 5.0) must go through rule().
var sameInBoth = map[string]string{
	"MQTT-3.1.2-1":  "protocol name is MQTT",
	"MQTT-3.1.2-2":  "unsupported protocol level",
	"MQTT-3.1.2-3":  "CONNECT reserved flag is 0",
	"MQTT-3.3.1-2":  "DUP is 0 on QoS 0",
	"MQTT-3.3.1-4":  "no PUBLISH with both QoS bits set",
	"MQTT-3.3.2-2":  "no wildcards in a PUBLISH topic name",
	"MQTT-3.6.1-1":  "PUBREL flags 0010",
	"MQTT-3.8.1-1":  "SUBSCRIBE flags 0010",
	"MQTT-3.10.1-1": "UNSUBSCRIBE flags 0010",
	"MQTT-3.10.3-2": "UNSUBSCRIBE has at least one filter",
	"MQTT-3.14.1-1": "DISCONNECT reserved flags are 0",
	"MQTT-4.7.3-1":  "topic names and filters are not empty",
}

// codecCitations finds every "MQTT-..." string literal in the package's
// non-test sources. The version comes from the code's shape: the arguments
// of rule(v, id311, id5), tables whose name ends in V5, and otherwise both
// versions, which sameInBoth must vouch for.
func codecCitations(t *testing.T) []citation {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var out []citation
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := goparser.ParseFile(fset, name, nil, goparser.SkipObjectResolution)
		require.NoError(t, err)
		versionOf := map[*ast.BasicLit][]Version{}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "rule" && len(n.Args) == 3 {
					for i, v := range []Version{V311, V5} {
						if lit, ok := n.Args[i+1].(*ast.BasicLit); ok {
							versionOf[lit] = []Version{v}
						}
					}
				}
			case *ast.ValueSpec:
				for _, ident := range n.Names {
					if strings.HasSuffix(ident.Name, "V5") {
						for _, val := range n.Values {
							ast.Inspect(val, func(m ast.Node) bool {
								if lit, ok := m.(*ast.BasicLit); ok {
									versionOf[lit] = []Version{V5}
								}
								return true
							})
						}
					}
				}
			}
			return true
		})
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !strings.HasPrefix(s, "MQTT-") {
				return true
			}
			vs, ok := versionOf[lit]
			if !ok {
				vs = []Version{V311, V5}
			}
			out = append(out, citation{id: s, versions: vs, pos: fset.Position(lit.Pos()).String()})
			return true
		})
	}
	return out
}

// TestCitedStatementsExist checks that every statement ID the codec cites
// is in the statement list of each version it is cited for.
func TestCitedStatementsExist(t *testing.T) {
	lists := map[Version]map[string]bool{V311: loadStatements(t, V311), V5: loadStatements(t, V5)}
	require.Len(t, lists[V311], 141)
	require.Len(t, lists[V5], 251)
	cites := codecCitations(t)
	require.Greater(t, len(cites), 40, "the codec cites its rules; the scanner must find them")
	cited := map[string]bool{}
	for _, c := range cites {
		cited[c.id] = true
	}
	for id := range sameInBoth {
		assert.True(t, cited[id], "sameInBoth lists %s, which the codec no longer cites", id)
	}
	for _, c := range cites {
		if len(c.versions) == 2 {
			assert.Contains(t, sameInBoth, c.id, "%s: %s is cited for both versions; use rule(v, id311, id5)", c.pos, c.id)
		}
		for _, v := range c.versions {
			assert.True(t, lists[v][c.id], "%s: %s is not a statement of MQTT %s", c.pos, c.id, v)
		}
	}
}
