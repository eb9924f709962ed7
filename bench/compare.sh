#!/usr/bin/env bash
# Compares the codecs side by side: BenchmarkSideBySide runs them in turns on
# the same bytes, COUNT times (default 5) for BENCHTIME each (default 1s),
# and the table keeps each codec's best batch, so a busy machine slows all
# codecs alike. BENCH=. also runs the one-codec-per-benchmark set, whose
# lines the table reads too.
set -euo pipefail
cd "$(dirname "$0")"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench "${BENCH:-SideBySide}" -benchmem -count "${COUNT:-5}" -benchtime "${BENCHTIME:-1s}" \
	-timeout 30m . | tee "$out"
echo
go run ./ratios <"$out"
