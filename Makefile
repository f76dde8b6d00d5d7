# cellmap — two commands for newcomers: `make run` and `make test`.
GO      ?= go
BIN     := bin
PKGS    := ./...
RUN_DIR ?= data
FUZZTIME ?= 30s
TEST_FUZZTIME ?= 3s
# The chaos harness is a Go module of its own (jepsen/, as bench/etcd is): porcupine stays out
# of the service's go.mod. Its tests and commands are run from there, its programs from here.
JEPSEN  := jepsen
# staticcheck, pinned; `go run` fetches it through the module proxy on a clean machine.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build run test lint fuzz bench clean jepsen jepsen-tool bench-tools bench-compare bench-scale bench-list bench-profile bench-write-profile bench-etcd bench-etcd-test bench-watch bench-floor

all: build

## build: compile every command (the chaos harness's cellmap-jepsen too) into ./bin
build:
	$(GO) build -o $(BIN)/ ./cmd/...
	$(GO) -C $(JEPSEN) build -o $(CURDIR)/$(BIN)/ ./cmd/...

## run: a working single-node cellmap on 127.0.0.1 with its data under ./data
run: build
	$(BIN)/cellmapd --dev --data-dir $(RUN_DIR)

## test: lint, the whole test suite of both modules (race detector on), each benchmark once, then the CI-sized
## chaos run, as CI runs it. The chaos parts need root and network namespaces; without them
## they say so in one line (with CELLMAP_JEPSEN_REQUIRED=1, as in CI, that is a failure instead).
test: lint jepsen-tool
	$(GO) test -race -count=1 -timeout 18m $(PKGS)
	$(GO) test -run '^$$' -bench . -benchtime 1x $(PKGS) # every benchmark still runs (once)
	FUZZTIME=$(TEST_FUZZTIME) GO=$(GO) scripts/fuzz.sh
	$(GO) -C $(JEPSEN) test -race -count=1 -timeout 18m $(PKGS)
	$(GO) -C $(JEPSEN) test -race -count=1 -tags watchbug -run TestHarnessCatchesWatchBug . # the watch checker must fail a cache that drops a change
	@if $(BIN)/cellmap-jepsen probe >/dev/null 2>&1; then \
		$(BIN)/cellmap-jepsen run; \
	elif [ "$$CELLMAP_JEPSEN_REQUIRED" = 1 ]; then \
		$(BIN)/cellmap-jepsen probe; exit 1; \
	else \
		echo "jepsen: chaos harness SKIPPED: $$($(BIN)/cellmap-jepsen probe 2>&1 | sed 's/^cellmap-jepsen: //')"; \
	fi

## fuzz: every Go fuzz target of both modules for FUZZTIME each (default 30s; make test: 3s)
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh

## jepsen: the CI-sized chaos run (3 nodes, 3 episodes of 60 s, mixed faults; needs root)
jepsen: jepsen-tool
	$(BIN)/cellmap-jepsen run $(JEPSEN_FLAGS)

## jepsen-tool: build the chaos harness's command into ./bin
jepsen-tool:
	$(GO) -C $(JEPSEN) build -o $(CURDIR)/$(BIN)/cellmap-jepsen ./cmd/cellmap-jepsen

## lint: gofmt check, go vet and staticcheck (pinned) over both modules
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) -C $(JEPSEN) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)
	$(GO) -C $(JEPSEN) run $(STATICCHECK) $(PKGS)

## bench: Go micro-benchmarks of the hot paths
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## bench-tools: cellmapd, cellmap-bench and etcd-bench (etcd driver, nested module bench/etcd)
bench-tools:
	$(GO) build -o $(BIN)/ ./cmd/cellmapd ./cmd/cellmap-bench ./cmd/cellmapctl
	cd bench/etcd && $(GO) build -o ../../$(BIN)/etcd-bench ./cmd/etcd-bench

## bench-etcd: the newest etcd server (nested module bench/etcd/server, version in its go.mod) into ./bin/etcd
bench-etcd:
	cd bench/etcd/server && $(GO) build -o ../../../$(BIN)/etcd .

## bench-compare: cellmap vs etcd, 3 nodes each on 127.0.0.1; QUICK=1 for ~3 min; ETCD=debian for
## Debian's etcd 3.4 (installs etcd-server if missing) instead of ./bin/etcd
bench-compare: bench-tools bench-etcd
	BIN=$(CURDIR)/$(BIN) scripts/bench-compare.sh

## bench-watch: change stream fan-out on one node, cellmap then etcd (issue 12): WATCHERS watches
## held by WATCH_PROCS processes, cellmap's WATCHES_PER_REQUEST to one POST /v1/watch stream
## (1: a GET stream each, WATCHES_PER_CONN of them to one HTTP/2 connection, 1 an HTTP/1.1
## connection each; etcd's 100 to one gRPC connection); memory per watch, creates/s with and
## without them, and the latency of a probe write to every watch under WATCH_RATE background
## creates/s (~3 min each)
WATCHERS ?= 10000
WATCH_PROCS ?= 4
WATCH_RATE ?= 1000
WATCH_DURATION ?= 60s
WATCHES_PER_REQUEST ?= 100
WATCHES_PER_CONN ?= 1
bench-watch: bench-tools bench-etcd
	$(BIN)/cellmap-bench watch --server $(BIN)/cellmapd --watchers $(WATCHERS) --procs $(WATCH_PROCS) --rate $(WATCH_RATE) --duration $(WATCH_DURATION) --watches-per-request $(WATCHES_PER_REQUEST) --watches-per-conn $(WATCHES_PER_CONN)
	$(BIN)/etcd-bench watch --server $(BIN)/etcd --watchers $(WATCHERS) --procs $(WATCH_PROCS) --rate $(WATCH_RATE) --duration $(WATCH_DURATION)

## bench-scale: 1,000,000 mappings in a 3-node cluster: load time, sizes, RSS, restart, snapshots
bench-scale: bench-tools
	BIN=$(CURDIR)/$(BIN) scripts/bench-scale.sh

## bench-list: the cross-cell server listing on a --dev node plus a second cell, 1,000 servers (~1 min)
bench-list:
	$(GO) build -o $(BIN)/ ./cmd/cellmapd ./cmd/cellmap-bench ./cmd/cellconductor ./cmd/cellmapctl
	BIN=$(CURDIR)/$(BIN) scripts/bench-list.sh

## bench-profile: CPU and allocation profiles of cellmapd under lookup and create
bench-profile: bench-tools
	BIN=$(CURDIR)/$(BIN) scripts/bench-profile.sh

## bench-write-profile: the leader's CPU profile under create at 64 clients, top 15 (flat, then cum)
bench-write-profile: bench-tools
	BIN=$(CURDIR)/$(BIN) WORKLOADS=create CLIENTS=64 ROLES=leader KINDS=cpu NODECOUNT=15 scripts/bench-profile.sh

## bench-floor: the raft floor (issue 13): hashicorp/raft on raft-boltdb alone, 3 processes, the
## load applied inside the leader (no HTTP, no client), FLOOR_FSM state machines at FLOOR_CONC
## appliers; compare with MATRIX="create:1 create:16 create:64" make bench-compare
FLOOR_FSM ?= noop bbolt
FLOOR_CONC ?= 1 16 64
bench-floor: bench-tools
	@for f in $(FLOOR_FSM); do for c in $(FLOOR_CONC); do \
		$(BIN)/cellmap-bench raft-floor --fsm $$f --concurrency $$c || exit 1; done; done

## bench-etcd-test: vet the etcd modules and test the driver against ./bin/etcd (the newest etcd)
bench-etcd-test: bench-etcd
	cd bench/etcd/server && $(GO) vet ./...
	cd bench/etcd && $(GO) vet ./... && ETCD_BIN=$(CURDIR)/$(BIN)/etcd $(GO) test -count=1 ./...

clean:
	rm -rf $(BIN)
