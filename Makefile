# mqttspec — see README.md. Every target is bounded in time.
GO        ?= go
BIN       := bin/mqttspec
FUZZTIME  ?= 10s
REPORT    ?= reports-out/reference.html

.PHONY: build test vet bench bench-peers bench-pcap fuzz fuzz-corpus fuzz-mosquitto run certify certify-ci clean

# A static binary (no cgo: the pure-Go resolver is all it needs) runs on any
# Linux and starts ~3 ms sooner than one linked against libc.
build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/mqttspec

vet:
	$(GO) mod tidy -diff
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt needed"; exit 1; }

test: vet
	$(GO) test -race -count=1 -timeout 20m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./codec/...

# mqttspec's codec against mochi-mqtt's and paho.golang's on the same bytes;
# bench/ is its own module, so make test never builds the peers.
bench-peers:
	cd bench && $(GO) mod tidy -diff && $(GO) vet ./... && $(GO) test -count=1 ./... && ./compare.sh

# `mqttspec pcap dump --stats` against tshark on the shared 20k-PUBLISH capture
# (needs tshark, hyperfine and time: apt-get install -y tshark hyperfine time).
bench-pcap:
	./pcap/bench.sh

# Each native fuzz target runs for FUZZTIME; go test -fuzz takes one target at a time.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$t ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# Seed corpus zips for ClusterFuzzLite/OSS-Fuzz, one per native fuzz target, named
# like the binaries .clusterfuzzlite/build.sh builds (<package>_<Target>_seed_corpus.zip).
FUZZ_CORPUS ?= build/fuzz-corpus
fuzz-corpus:
	$(GO) run ./fuzz/corpus -out $(FUZZ_CORPUS)

# The network fuzzer against mosquitto on 127.0.0.1:18831 for FUZZ_DURATION, compared
# with the reference broker. scripts/targets.sh starts mosquitto if it is not running
# (and stops it again). Findings go to fuzz-findings/mosquitto/ (replay them with
# mqttspec run --target tcp://127.0.0.1:18831 --suite-dir fuzz-findings/mosquitto),
# statistics to fuzz-findings/mosquitto.json. Findings are the point and do not fail
# the target; a broker that cannot be reached does.
FUZZ_DURATION ?= 60s
FUZZ_SEED     ?= 1
fuzz-mosquitto: build
	@rm -rf fuzz-findings/mosquitto; started=0; \
	if ! ./scripts/targets.sh status mosquitto >/dev/null 2>&1; then \
	  ./scripts/targets.sh start --no-install mosquitto || exit 2; started=1; \
	fi; \
	./$(BIN) fuzz --target tcp://127.0.0.1:18831 --duration $(FUZZ_DURATION) --seed $(FUZZ_SEED) --oracle reference \
	  --quiet --findings fuzz-findings/mosquitto --json fuzz-findings/mosquitto.json; \
	status=$$?; \
	if [ $$started = 1 ]; then ./scripts/targets.sh stop mosquitto >/dev/null; fi; \
	[ $$status -le 1 ]

# The main job: the full suite against the embedded reference broker.
run: build
	@mkdir -p reports-out
	@./$(BIN) run --html $(REPORT) --json reports-out/reference.json --junit reports-out/reference.junit.xml; \
	  status=$$?; echo "HTML report: $(abspath $(REPORT))"; exit $$status

# The suite against real brokers (scripts/targets.sh starts what is not running and
# installs what is missing), each with its profile, plus the reference broker:
# reports-out/certify/<broker>.{json,html}, matrix.html, summary.txt. Stops what it
# started; each run is bounded by RUN_TIMEOUT (300 s).
certify: build
	./scripts/certify.sh

# The two brokers that start in about a second, for CI; both must run.
certify-ci: build
	./scripts/certify.sh mosquitto aedes

clean:
	rm -rf bin reports-out fuzz-findings $(FUZZ_CORPUS)
