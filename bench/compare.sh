#!/usr/bin/env bash
# Runs the peer benchmarks COUNT times (default 5) and prints the raw output
# followed by a table of medians, ratios and targets. BENCH narrows the set.
set -euo pipefail
cd "$(dirname "$0")"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench "${BENCH:-.}" -benchmem -count "${COUNT:-5}" -timeout 30m . | tee "$out"
echo
go run ./ratios <"$out"
