# hush: `make run` builds and starts hush; `make test` runs every test.

GO      ?= go
BIN     ?= bin/hush
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: all build run install test test-short bench fuzz vet fmt clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/hush

# Starts hush on the default vault (HUSH_HOME or ~/.local/share/hush):
# on first run it creates the vault, then shows the quick start.
run: build
	./$(BIN)

install:
	$(GO) install -trimpath -ldflags '$(LDFLAGS)' ./cmd/hush

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Every test, with the race detector. Tests that need a real Secret Service
# or PostgreSQL start them when installed, and the import tests use gpg,
# pass, keepassxc-cli and sops when installed; HUSH_TEST_REAL=1 (set by
# .ci/run) makes them fail instead of skipping when they are missing.
test: vet
	$(GO) test -race -count=1 -timeout 30m ./...

test-short:
	$(GO) test -count=1 ./...

# Benchmarks, in-process and whole-process (cmd/hush BenchmarkProcess*).
# Figures and the machine go into docs/benchmarks.md.
BENCHTIME ?= 1s
bench:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -timeout 60m ./...

# A short run of every fuzz target (FUZZTIME=5m for longer).
FUZZTIME ?= 30s
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
