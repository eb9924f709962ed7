package conformance

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
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
			if val, n, ok := v.expr(s[i+1:]); ok {
				b.WriteString(val)
				i += n
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// maxFill bounds $fill(N): scripts may build large packets, not huge ones.
const maxFill = 16 << 20

// expr evaluates a bare value after '$': name, name+N, name-N, or
// fill(EXPR) (EXPR bytes of 'x' as a quoted string). It returns the
// notation text and how many bytes of s it used.
func (v *vars) expr(s string) (string, int, bool) {
	if strings.HasPrefix(s, "hmac-sha256(") {
		return v.hmac(s)
	}
	if strings.HasPrefix(s, "fill(") {
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return "", 0, false
		}
		inner := strings.TrimSpace(s[5:end])
		n, ok := v.number(inner)
		if !ok || n < 0 || n > maxFill {
			return "", 0, false
		}
		return `"` + strings.Repeat("x", n) + `"`, end + 1, true
	}
	j := 0
	for j < len(s) && isVarByte(s[j]) {
		j++
	}
	name := s[:j]
	// A trailing -N belongs to the arithmetic, not to the name.
	if k := strings.LastIndexByte(name, '-'); k > 0 && isDigits(name[k+1:]) {
		if _, ok := v.m[name]; !ok && !v.placeholder {
			j = k
			name = name[:k]
		}
	}
	if name == "" {
		return "", 0, false
	}
	val, ok := v.notation(name)
	if !ok {
		return "", 0, false
	}
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		k := j + 1
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		base, err1 := strconv.Atoi(val)
		delta, err2 := strconv.Atoi(s[j+1 : k])
		if k > j+1 && err1 == nil && err2 == nil {
			if s[j] == '-' {
				delta = -delta
			}
			return strconv.Itoa(base + delta), k, true
		}
	}
	return val, j, true
}

// number evaluates a count: digits, $name, $name+N or $name-N.
func (v *vars) number(s string) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	if !strings.HasPrefix(s, "$") {
		return 0, false
	}
	val, used, ok := v.expr(s[1:])
	if !ok || used != len(s)-1 {
		return 0, false
	}
	n, err := strconv.Atoi(val)
	return n, err == nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// hmac evaluates hmac-sha256(KEYVAR,DATAVAR): the HMAC-SHA256 of variable
// DATAVAR's bytes keyed by variable KEYVAR's text, as 0x-hex. It lets a
// script answer a challenge/response authentication (the reference
// broker's MQTTSPEC-CHALLENGE method).
func (v *vars) hmac(s string) (string, int, bool) {
	end := strings.IndexByte(s, ')')
	if end < 0 {
		return "", 0, false
	}
	key, data, ok := strings.Cut(s[len("hmac-sha256("):end], ",")
	if !ok {
		return "", 0, false
	}
	if v.placeholder {
		return "0x00", end + 1, true
	}
	secret, ok1 := v.lookup(strings.TrimSpace(key))
	tok, ok2 := v.m[strings.TrimSpace(data)]
	if !ok1 || !ok2 {
		return "", 0, false
	}
	msg, err := codec.TokenBytes(&tok)
	if err != nil {
		return "", 0, false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(msg)
	return "0x" + hex.EncodeToString(mac.Sum(nil)), end + 1, true
}
