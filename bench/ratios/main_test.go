package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const sampleOutput = `goos: linux
BenchmarkDecode/PUBLISH-5.0/mqttspec-2   	 7433682	        40.0 ns/op	 914.57 MB/s	       0 B/op	       0 allocs/op
BenchmarkDecode/PUBLISH-5.0/mqttspec-2   	 7433682	        50.0 ns/op	 914.57 MB/s	       0 B/op	       0 allocs/op
BenchmarkDecode/PUBLISH-5.0/mqttspec-2   	 7433682	        45.0 ns/op	 914.57 MB/s	       0 B/op	       0 allocs/op
BenchmarkDecode/PUBLISH-5.0/mochi-2      	 4079845	       270.0 ns/op	 523.47 MB/s	      80 B/op	       2 allocs/op
BenchmarkDecode/PUBLISH-5.0/paho-2       	  205135	      8150 ns/op	  17.79 MB/s	    9744 B/op	      43 allocs/op
BenchmarkEncode/SUBSCRIBE-3.1.1/mqttspec-2	64568359	        50 ns/op	3439.42 MB/s	       0 B/op	       0 allocs/op
BenchmarkEncode/SUBSCRIBE-3.1.1/mochi-2  	 9982940	        90 ns/op	 662.66 MB/s	       0 B/op	       0 allocs/op
PASS
`

func TestTable(t *testing.T) {
	res, err := parse(strings.NewReader(sampleOutput))
	require.NoError(t, err)
	require.Equal(t, []string{"Decode/PUBLISH-5.0", "Encode/SUBSCRIBE-3.1.1"}, res.cases)
	var out strings.Builder
	write(&out, res)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 4)
	tests := []struct{ row, want string }{
		{lines[2], "| Decode/PUBLISH-5.0 | 40.0 | 270.0 | 8150.0 | 0/2/43 | 6.75 | 203.75 | ≥6× mochi: met |"},
		{lines[3], "| Encode/SUBSCRIBE-3.1.1 | 50.0 | 90.0 | – | 0/0/– | 1.80 | – | ≥2× mochi: MISSED |"},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, tc.row)
	}
}

func TestSideBySideLines(t *testing.T) {
	out := `BenchmarkSideBySide/Decode/PUBLISH-3.1.1-2   316957  5496 ns/op  0 mochi-allocs/op  48.0 mochi-ns/op  0 mqttspec-allocs/op  20.0 mqttspec-ns/op
BenchmarkSideBySide/Decode/PUBLISH-3.1.1-2   316957  5496 ns/op  0 mochi-allocs/op  50.0 mochi-ns/op  0 mqttspec-allocs/op  19.2 mqttspec-ns/op
`
	res, err := parse(strings.NewReader(out))
	require.NoError(t, err)
	var b strings.Builder
	write(&b, res)
	require.Contains(t, b.String(), "| Decode/PUBLISH-3.1.1 | 19.2 | 48.0 | – | 0/0/– | 2.50 | – | ≥2.5× mochi: met |")
}

func TestParseRejectsGarbledNumbers(t *testing.T) {
	_, err := parse(strings.NewReader("BenchmarkDecode/X/mochi-2 10 abc ns/op\n"))
	require.ErrorContains(t, err, "line 1")
}
