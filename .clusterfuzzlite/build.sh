#!/bin/bash -eu
# Builds every native Go fuzz target of mqttspec (func FuzzX in a _test.go
# file) as a libFuzzer binary named <package>_<Target> (codec and pcap both
# have a FuzzReader), with its seed corpus next to it. Runs in the OSS-Fuzz
# Go builder image (Dockerfile); it edits the tree it builds, so run it only
# there.
cd "$SRC/mqttspec"

# compile_native_go_fuzzer needs go-118-fuzz-build and its testing shim in
# go.mod (the edit stays in the container).
go install github.com/AdamKorcz/go-118-fuzz-build@latest
go get github.com/AdamKorcz/go-118-fuzz-build/testing@latest

harnesses=$(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^\./bench/' | sort)

# A harness is compiled with its own _test.go file only: the package's other
# internal test files (helpers such as pcap's sharedCaptures or codec's
# roundTrips) become ordinary package files for the fuzz build.
for harness in $harnesses; do
  dir=$(dirname "$harness")
  for f in "$dir"/*_test.go; do
    if [ "$f" != "$harness" ] && ! grep -q '^package [a-z_]*_test$' "$f"; then
      mv "$f" "${f%_test.go}_fuzz.go"
    fi
  done
done

for harness in $harnesses; do
  dir=$(dirname "${harness#./}")
  for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$harness" | cut -d' ' -f2); do
    compile_native_go_fuzzer "mqttspec/$dir" "$fn" "$(echo "$dir" | tr '/-' '__')_$fn"
  done
done

# Seed corpora: <binary>_seed_corpus.zip, as `make fuzz-corpus` writes them.
go run ./fuzz/corpus -out "$OUT"
