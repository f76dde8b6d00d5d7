# cellmap — two commands for newcomers: `make run` and `make test`.
GO      ?= go
BIN     := bin
PKGS    := ./...
RUN_DIR ?= data

.PHONY: all build run test lint bench clean

all: build

## build: compile every command into ./bin
build:
	$(GO) build -o $(BIN)/ ./cmd/...

## run: a working single-node cellmap on 127.0.0.1 with its data under ./data
run: build
	$(BIN)/cellmapd --dev --data-dir $(RUN_DIR)

## test: the whole test suite (race detector on), as CI runs it
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

## lint: gofmt check and go vet
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

## bench: Go micro-benchmarks of the hot paths
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

clean:
	rm -rf $(BIN)
