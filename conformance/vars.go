package conformance

import (
	"strconv"
	"strings"

	"mqttspec/codec"
)

// vars holds a case's variables. They appear in two forms: ${name} inside
// quoted strings ("${t}/a", so that "$share/..." and "$SYS/..." stay
// literal) and $name as a bare value (id=$pid). Captured values are kept as
// notation tokens so a captured string is re-quoted when substituted.
type vars struct {
	m map[string]codec.Token
	// placeholder answers every lookup with "1": used to syntax-check
	// packet lines when a suite loads, before any value is known.
	placeholder bool
}

func newVars() *vars { return &vars{m: map[string]codec.Token{}} }

func (v *vars) setString(name, s string) { v.m[name] = codec.StringToken(s) }

func (v *vars) setWord(name, s string) { v.m[name] = codec.WordToken(s) }

// lookup is the raw text of a variable (an unquoted string for strings).
func (v *vars) lookup(name string) (string, bool) {
	if v.placeholder {
		return "1", true
	}
	t, ok := v.m[name]
	return t.Text, ok
}

// notation renders a variable as a value in a packet line.
func (v *vars) notation(name string) (string, bool) {
	if v.placeholder {
		return "1", true
	}
	t, ok := v.m[name]
	if !ok {
		return "", false
	}
	if t.IsString() {
		return strconv.Quote(t.Text), true
	}
	return t.Text, true
}

func isVarByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// substitute fills variables into a packet line. Unknown names are left as
// written, so the notation parser reports them where they stand.
func substitute(s string, v *vars) string {
	var b strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && in && i+1 < len(s):
			b.WriteByte(c)
			b.WriteByte(s[i+1])
			i++
			continue
		case c == '"':
			in = !in
		case c == '$' && in && i+1 < len(s) && s[i+1] == '{':
			if end := strings.IndexByte(s[i:], '}'); end > 0 {
				if val, ok := v.lookup(s[i+2 : i+end]); ok {
					q := strconv.Quote(val)
					b.WriteString(q[1 : len(q)-1])
					i += end
					continue
				}
			}
		case c == '$' && !in:
			j := i + 1
			for j < len(s) && isVarByte(s[j]) {
				j++
			}
			if j > i+1 {
				if val, ok := v.notation(s[i+1 : j]); ok {
					b.WriteString(val)
					i = j - 1
					continue
				}
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}
