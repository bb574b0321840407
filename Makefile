# Shoal — build, test and run.
GO        ?= go
BIN       := bin/shoal
PKG       := github.com/shoal-io/shoal
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo v0.1.0-dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE      ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS   := -s -w -X main.gitVersion=$(VERSION) -X main.gitCommit=$(COMMIT) -X main.buildDate=$(DATE)
STATICCHECK ?= $(shell command -v staticcheck 2>/dev/null || echo $(HOME)/go/bin/staticcheck)
# Debian ships Compose v1 as docker-compose; newer engines have the plugin.
COMPOSE   ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)

# The Docker image and the demo cluster (deploy/): see deploy/demo.sh.
IMAGE        ?= shoal:latest
DEMO_PROJECT ?= shoal-demo
DEMO_DATA    ?= /tmp/shoal-demo
DEMO_BUSYBOX ?= shoal-demo/busybox:latest
DEMO_PROM    ?= shoal-demo/prometheus:latest
DEMO_ENV      = SHOAL_BIN=$(BIN) SHOAL_IMAGE=$(IMAGE) SHOAL_PROJECT=$(DEMO_PROJECT) \
                SHOAL_DEMO_DATA=$(DEMO_DATA) SHOAL_BUSYBOX=$(DEMO_BUSYBOX) \
                SHOAL_WASM=bin/hello.wasm COMPOSE="$(COMPOSE)" SHOAL_PROM_IMAGE=$(DEMO_PROM)

.PHONY: build test unit lint run bench soak failover-bench clean image demo demo-down soak-scale scale

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/shoal

## run: a single-process dev cluster (one replica, one compute node) on 127.0.0.1:1234.
run: build
	./$(BIN) serve

## test: what CI runs — formatting, vet, staticcheck, then every test with the race detector.
test: lint
	$(GO) test -race -count=1 -timeout 14m ./...

## unit: the fast tests only (no multi-process clusters).
unit:
	$(GO) test -race -count=1 -short ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) vet ./...
	$(STATICCHECK) ./...

## bench: throughput and latency figures (not timed tests); see README.
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./test/bench/...

## soak: the long fault-injection run.
soak: build
	SHOAL_SOAK=1 $(GO) test -race -count=1 -timeout 60m -run 'Soak' ./test/...

## failover-bench: leader kill -9 → first acknowledged create (p50/max over 20 kills, default and
## tuned timeouts) and compute node kill → executions replaced; figures are logged.
failover-bench: build
	SHOAL_FAILOVER_BENCH=1 SHOAL_BINARY=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 40m -v -run '^TestFailoverBench$$' ./test/fault/

clean:
	rm -rf bin shoal-data

## image: the shoal Docker image (FROM scratch, nothing pulled), tagged $(IMAGE).
image: build
	bash deploy/build-image.sh $(BIN) $(IMAGE)

## demo: a 3-replica, 3-compute-node cluster in Docker, with sample jobs and a tour.
demo: build
	$(DEMO_ENV) bash deploy/demo.sh up

## demo-down: remove the demo cluster: containers, network, volumes, data folder.
demo-down:
	$(DEMO_ENV) bash deploy/demo.sh down

## chaos: the chaos suite (test/chaos) against a 3-replica, 3-compute-node Compose cluster:
## nemeses from a seeded schedule, a recorded workload, checkers, and a report in
## chaos-report/<timestamp>/. Settings: CHAOS_DURATION (10m), CHAOS_SEED (random),
## CHAOS_NEMESES (comma list, all), CHAOS_PROJECT (attach to your own Compose project).
## Needs root (nsenter), iptables and tc on the host. Exits non-zero on any violation.
CHAOS_DURATION ?= 10m
CHAOS_SEED     ?=
CHAOS_NEMESES  ?= all
CHAOS_PROJECT  ?=
CHAOS_ENV       = SHOAL_CHAOS=1 SHOAL_BINARY=$(CURDIR)/$(BIN) CHAOS_SEED=$(CHAOS_SEED) \
                  CHAOS_NEMESES=$(CHAOS_NEMESES) CHAOS_PROJECT=$(CHAOS_PROJECT)
.PHONY: chaos chaos-smoke
chaos: build
	$(CHAOS_ENV) CHAOS_DURATION=$(CHAOS_DURATION) $(GO) test -count=1 -timeout 4h -v -run '^TestChaos$$' ./test/chaos/

## chaos-smoke: CI's two minutes of chaos (isolate the leader, pause, kill -9), and the
## proof that the suite fails a deliberately broken build.
chaos-smoke: build
	SHOAL_CHAOS=1 SHOAL_BINARY=$(CURDIR)/$(BIN) CHAOS_DURATION=2m CHAOS_NEMESES=isolate-leader,pause,kill \
	CHAOS_SEED=$(CHAOS_SEED) $(GO) test -count=1 -timeout 20m -v -run '^TestChaos$$|^TestChaosCatchesStaleReads$$' ./test/chaos/

## soak-scale: creates at ~500 jobs/s for 20 minutes on 3 replicas + 2 compute nodes with
## --job-gc-age 2m; a line a minute with each replica's RSS and data folder, the jobs stored and
## a follower's list p99; fails if any trends upward after SHOAL_SOAK_WARMUP (5m) or the rate was not
## taken. Knobs: SHOAL_SOAK_DURATION (e.g. 7m), SHOAL_SOAK_RATE, SHOAL_SOAK_GC_AGE.
soak-scale: build
	SHOAL_SOAK_SCALE=1 SHOAL_BINARY=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 60m -v -run '^TestSoakScale$$' ./test/scale/

## scale: SHOAL_SCALE_JOBS (default 20000) completed jobs on 3 replicas: RSS, follower list p99s,
## restart and catch-up times; SHOAL_SCALE_OUT=dir keeps heap profiles and replica logs.
scale: build
	SHOAL_SCALE_JOBS=$${SHOAL_SCALE_JOBS:-20000} SHOAL_BINARY=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 90m -v -run '^TestScale$$' ./test/scale/

## fuzz: every Go fuzz target, one at a time (go test -fuzz takes one package and one target),
## each for FUZZTIME, a duration or a count of inputs (CI: make fuzz FUZZTIME=10000x). A crash stops the run and leaves its input
## under the package's testdata/fuzz/<Target>/: fix it and commit that file as a seed.
FUZZTIME  ?= 60s
FUZZFLAGS ?=
FUZZ_TARGETS := ./api:FuzzJobSpec ./api:FuzzLabelSelector ./fsm:FuzzNextToken ./fsm:FuzzDecodeCommand \
                ./fsm:FuzzRestore ./server:FuzzListQuery ./server:FuzzComputeReport ./cmd/shoal:FuzzExtractTarGz
.PHONY: fuzz
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "== $$name in $$pkg for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) $$pkg; \
	done

## bench-compare: the create benchmark with the binary built at OLD=<git ref> and with the work
## tree, alternating ROUNDS (default 2) times on this machine; prints both columns and new/old.
.PHONY: bench-compare
bench-compare:
	OLD=$(OLD) ROUNDS=$(or $(ROUNDS),2) bash test/bench/compare.sh

## test-bolt: the fault and workload tests with the raft-boltdb log store (the default is wal).
.PHONY: test-bolt
test-bolt: build
	SHOAL_TEST_REPLICA_ARGS="--raft-log-store bolt" $(GO) test -race -count=1 -timeout 25m ./test/fault/ ./test/workload/

## ui-test: the web UI in headless Chromium (3 replicas + a compute node, browser on a follower);
## screenshots of every page at 1400x900 and 390x844 go to ./ui-screenshots.
.PHONY: ui-test
ui-test: build
	SHOAL_UI_SCREENSHOTS=$(CURDIR)/ui-screenshots SHOAL_BINARY=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 8m -v -run '^TestBrowser$$' ./test/ui/
