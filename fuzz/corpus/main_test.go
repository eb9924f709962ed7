package main

import (
	"archive/zip"
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every native fuzz target of the repository gets a zip with seeds, each
// encoded as length-prefixed arguments.
func TestWritesAZipPerTarget(t *testing.T) {
	root := filepath.Join("..", "..")
	targets, err := findTargets(root)
	require.NoError(t, err)
	names := map[string]bool{}
	for _, tg := range targets {
		names[tg.binary()] = true
	}
	for _, want := range []string{"codec_FuzzDecode", "codec_FuzzReader", "pcap_FuzzReader", "fuzz_FuzzScript"} {
		assert.True(t, names[want], "target %s not found among %v", want, names)
	}
	out := t.TempDir()
	require.NoError(t, run(root, out))
	for _, tg := range targets {
		zr, err := zip.OpenReader(filepath.Join(out, tg.binary()+"_seed_corpus.zip"))
		require.NoError(t, err, tg.String())
		assert.NotEmpty(t, zr.File, "%s has no seeds", tg)
		for _, f := range zr.File {
			rc, err := f.Open()
			require.NoError(t, err)
			var n uint32
			require.NoError(t, binary.Read(rc, binary.BigEndian, &n), "%s %s", tg, f.Name)
			assert.EqualValues(t, f.UncompressedSize64-4, n, "%s %s: one argument filling the input", tg, f.Name)
			rc.Close()
		}
		zr.Close()
	}
}

func TestReadCorpusFile(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "codec", "testdata", "fuzz", "FuzzDecode", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	vals, err := readCorpusFile(files[0])
	require.NoError(t, err)
	require.Len(t, vals, 1)
	assert.Equal(t, []byte{0, 0, 0, 3, 'a', 'b', 'c'}, harnessInput([]byte("abc")))
}
