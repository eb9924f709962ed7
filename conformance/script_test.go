package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBuiltinSuitesLoad(t *testing.T) {
	cases, err := Load("")
	require.NoError(t, err)
	require.NotEmpty(t, cases)
	for _, c := range cases {
		require.NotEmpty(t, c.Faults, "%s:%d: case %s names no fault it detects", c.File, c.Line, c.ID)
	}
}
