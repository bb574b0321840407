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

.PHONY: build test unit lint run bench soak failover-bench clean image demo demo-down

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
