//go:build tools

// Package tools pins build tools that no package imports, so go.mod keeps
// them: go-fuzz-dep is what go-fuzz-build links into codec's gofuzz build.
package tools

import _ "github.com/dvyukov/go-fuzz/go-fuzz-dep"
