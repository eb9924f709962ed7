package codec

import (
	"bytes"
	"go/ast"
	goparser "go/parser"
	"go/token"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// The pre-checks may only skip a full check that would have found nothing.

func TestFlagsOKOnlySkipsCleanHeaders(t *testing.T) {
	for b := 0; b < 256; b++ {
		for _, v := range []Version{V31, V311, V5} {
			fh := FixedHeader{Type: Type(b >> 4), Flags: byte(b) & 0x0f}
			if !flagsOK(fh) {
				continue
			}
			d := Decoder{Lenient: true}
			c := cursor{t: fh.Type, v: v, d: &d}
			require.NoError(t, c.checkFlags(fh), "first byte 0x%02x", b)
			require.Empty(t, d.Violations, "first byte 0x%02x", b)
		}
	}
}

func TestDirectionPrecheckOnlySkipsCleanPackets(t *testing.T) {
	for from := Role(0); from < 4; from++ {
		for typ := Type(0); typ < 16; typ++ {
			for _, ids := range [][]int{nil, {7}} {
				d := Decoder{From: from, Lenient: true}
				d.Publish.Props.SubscriptionIDs = ids
				if d.mayBreakDirection(typ) {
					continue
				}
				c := cursor{t: typ, v: V5, d: &d}
				require.NoError(t, d.directionRules(&Ping{Kind: typ}, &c), "from %d type %s", from, typ)
				require.Empty(t, d.Violations, "from %d type %s", from, typ)
			}
		}
	}
}

func TestPropRowsMatchTable(t *testing.T) {
	known := map[PropID]bool{}
	for i, pi := range propTable {
		known[pi.ID] = true
		r := propRows[pi.ID]
		require.Equal(t, propRow{bit: pi.bit, on: pi.On, kind: pi.Kind, repeats: pi.Repeats,
			valueRule: r.valueRule, row: uint8(i)}, r, pi.Name)
	}
	for id := range propRows {
		if !known[PropID(id)] {
			require.Zero(t, propRows[id].kind, "identifier 0x%02x is not a property", id)
		}
	}
}

// TestValueRulesMatchCheckPropValue reads the cases of checkPropValue's
// switch from the source, so a rule added there cannot be skipped.
func TestValueRulesMatchCheckPropValue(t *testing.T) {
	f, err := goparser.ParseFile(token.NewFileSet(), "properties.go", nil, 0)
	require.NoError(t, err)
	cased := map[string]bool{}
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "checkPropValue" {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			if cc, ok := n.(*ast.CaseClause); ok {
				for _, e := range cc.List {
					if id, ok := e.(*ast.Ident); ok {
						cased[id.Name] = true
					}
				}
			}
			return true
		})
	}
	require.NotEmpty(t, cased, "checkPropValue not found in properties.go")
	// The property constants, read from the same file: name -> identifier.
	byName := map[string]PropID{}
	for _, decl := range f.Decls {
		if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.CONST {
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if typ, ok := vs.Type.(*ast.Ident); ok && typ.Name == "PropID" && len(vs.Values) == 1 {
					lit := vs.Values[0].(*ast.BasicLit)
					v, err := strconv.ParseUint(lit.Value, 0, 8)
					require.NoError(t, err)
					byName[vs.Names[0].Name] = PropID(v)
				}
			}
		}
	}
	require.Len(t, byName, len(propTable))
	nameOf := map[PropID]string{}
	for name, id := range byName {
		nameOf[id] = name
	}
	for name := range cased {
		id, ok := byName[name]
		require.True(t, ok, "case %s of checkPropValue is not a property constant", name)
		require.True(t, propRows[id].valueRule, "%s has a value rule in checkPropValue but not in valueRules", name)
	}
	for _, pi := range propTable {
		if propRows[pi.ID].valueRule {
			require.True(t, cased[nameOf[pi.ID]], "%s is in valueRules but checkPropValue has no case for it", pi.Name)
		}
	}
}

func TestPublishPropertyBits(t *testing.T) {
	for id, bit := range map[PropID]uint64{PropPayloadFormat: bitPayloadFormat, PropMessageExpiry: bitMessageExpiry,
		PropContentType: bitContentType, PropCorrelationData: bitCorrelationData, PropUser: bitUser} {
		require.Equal(t, rowBit(id), bit, "property 0x%02x", id)
	}
}

// TestPublishPropertiesMatchPropertyList reads every sequence of up to three of
// the pieces below as PUBLISH properties twice, with publishProperties and
// with propertyList alone, strict and lenient: the properties, the error
// and the violations must be the same.
func TestPublishPropertiesMatchPropertyList(t *testing.T) {
	pieces := [][]byte{
		{0x01, 0x00}, {0x01, 0x01}, {0x01, 0x02}, {0x01},
		{0x02, 0, 0, 1, 44}, {0x02, 0, 0, 1},
		{0x03, 0, 4, 't', 'e', 'x', 't'}, {0x03, 0, 2, 0xC3, 0xA9}, {0x03, 0, 1, 0}, {0x03, 0, 9, 'a'}, {0x03, 0xD8},
		{0x09, 0, 2, 0xFF, 0x00}, {0x09, 0, 5, 1}, {0x09, 0},
		{0x26, 0, 1, 'k', 0, 1, 'v'}, {0x26, 0, 1, 'k', 0, 2, 0xED, 0xA0}, {0x26, 0, 0, 0, 0}, {0x26, 0, 3, 'k'},
		{0x23, 0, 5}, {0x08, 0, 3, 'a', '/', 'b'}, {0x11, 0, 0, 0, 1}, {0x7F}, {0x80, 0x01},
	}
	read := func(data []byte, lenient, fast bool) (Properties, error, []*Error) {
		d := Decoder{Version: V5, From: FromClient, Lenient: lenient}
		c := cursor{b: data, end: len(data), t: PUBLISH, v: V5, d: &d}
		var p Properties
		var err error
		if fast {
			err = c.publishProperties(&p)
		}
		if !fast {
			err = c.propertyList(&p, PUBLISH, false)
		}
		return p, err, d.Violations
	}
	var seqs [][]byte
	for _, a := range pieces {
		seqs = append(seqs, a)
		for _, b := range pieces {
			seqs = append(seqs, append(append([]byte{}, a...), b...))
			for _, c := range pieces {
				seqs = append(seqs, append(append(append([]byte{}, a...), b...), c...))
			}
		}
	}
	for _, data := range seqs {
		for _, lenient := range []bool{false, true} {
			wantP, wantErr, wantV := read(data, lenient, false)
			gotP, gotErr, gotV := read(data, lenient, true)
			require.Equal(t, wantP, gotP, "% x lenient=%v", data, lenient)
			require.Equal(t, wantErr, gotErr, "% x lenient=%v", data, lenient)
			require.Equal(t, wantV, gotV, "% x lenient=%v", data, lenient)
		}
	}
}

// textSamples is every string of one or two bytes, and three-byte strings
// and longer texts built from the bytes where the notation's shortcuts change
// their mind: controls, space, quote, backslash, tilde, DEL, UTF-8 lead and
// continuation bytes and bytes that are never UTF-8.
func textSamples() [][]byte {
	var out [][]byte
	for a := 0; a < 256; a++ {
		out = append(out, []byte{byte(a)})
		for b := 0; b < 256; b++ {
			out = append(out, []byte{byte(a), byte(b)})
		}
	}
	edge := []byte{0, '\t', '\n', '\r', 0x1f, ' ', '"', 'a', '\\', '~', 0x7f, 0x80, 0xa0, 0xbf, 0xc2, 0xe2, 0xed, 0xf0, 0xf4, 0xff}
	for _, a := range edge {
		for _, b := range edge {
			for _, c := range edge {
				out = append(out, []byte{a, b, c})
			}
		}
	}
	// Longer strings: each edge byte at each place of a 19-byte string, and
	// random mixes of printable ASCII and edge bytes.
	for _, e := range edge {
		for at := 0; at < 19; at++ {
			s := bytes.Repeat([]byte{'a'}, 19)
			s[at] = e
			out = append(out, s)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	printable := make([]byte, 0, 95)
	for c := byte(' '); c <= '~'; c++ {
		printable = append(printable, c)
	}
	for range 5000 {
		out = append(out, mixedBytes(rng, 41, 8, edge, string(printable)))
	}
	for _, s := range []string{"", "big/q0", "00000 MKd8aFGv0R68Wv6vLD3YQ5:iZUzT1KFf-", "say \"hi\"", `C:\tmp`,
		"héllo", "ascii then é", "tab\tand\nnewline\r", "line\u2028separator", "zero\u200bwidth", "\U0001F600 emoji",
		"bad \xc3(", "surrogate \xed\xa0\x80", "end \xe2\x82", "\x00binary", "bell\a", "del\x7f"} {
		out = append(out, []byte(s))
	}
	return out
}

func TestAppendQuotedMatchesStrconv(t *testing.T) {
	for _, s := range textSamples() {
		want := strconv.AppendQuote([]byte("x="), string(s))
		require.Equal(t, string(want), string(appendQuoted([]byte("x="), s)), "%q", s)
	}
}

func TestIsTextMatchesRuneCheck(t *testing.T) {
	for _, s := range textSamples() {
		require.Equal(t, isTextUTF8(s), isText(s), "%q", s)
	}
}

func TestDataMatchesQuoteOrHex(t *testing.T) {
	for _, s := range textSamples() {
		want := []byte("payload=")
		if isTextUTF8(s) {
			want = strconv.AppendQuote(want, string(s))
		} else {
			want = append(want, "0x"...)
			for _, c := range s {
				want = append(want, hexDigits[c>>4], hexDigits[c&15])
			}
		}
		w := textWriter{}
		w.data("payload", s, true)
		require.Equal(t, string(want), string(w.b), "%q", s)
	}
}
