# hush: `make run` builds and starts hush; `make test` runs every test.

GO      ?= go
BIN     ?= bin/hush
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT  ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
DATE    ?= $(shell git log -1 --format=%cI 2>/dev/null)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

.PHONY: all build run install install-helpers test test-short bench fuzz vet fmt clean cross

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/hush

# Starts hush on the default vault (HUSH_HOME or ~/.local/share/hush):
# on first run it creates the vault, then shows a quick start (keys, and the
# first commands to try from a shell).
run: build
	./$(BIN)

# Installs bin/hush as $(PREFIX)/bin/hush (default /usr/local; use
# `make install PREFIX=$HOME/.local` for a home directory without sudo) and says
# where it went, and whether that is on PATH.
PREFIX ?= /usr/local
install: build
	@mkdir -p $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/hush
	@echo "installed $(DESTDIR)$(PREFIX)/bin/hush"
	@case ":$$PATH:" in *":$(PREFIX)/bin:"*) ;; *) echo "note: $(PREFIX)/bin is not on your PATH; add it, e.g. export PATH=\"$(PREFIX)/bin:\$$PATH\"";; esac

# git-credential-hush and docker-credential-hush beside the installed hush:
# links, so git and docker find the helpers (docs/desktop.md).
GOBIN_DIR = $(or $(shell $(GO) env GOBIN),$(shell $(GO) env GOPATH)/bin)
install-helpers: install
	ln -sf hush $(GOBIN_DIR)/git-credential-hush
	ln -sf hush $(GOBIN_DIR)/docker-credential-hush

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Every test, with the race detector. Tests that need a real Secret Service
# or PostgreSQL start them when installed, and the import tests use gpg,
# pass, keepassxc-cli and sops when installed; HUSH_TEST_REAL=1 (set by
# .ci/run) makes them fail instead of skipping when they are missing.
test: vet
	$(GO) test -race -count=1 -timeout 60m ./...

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

# The other systems, so that their builds cannot rot (.ci/run calls it):
# hush.exe for windows/amd64, linked with MinGW-w64 (SQLite is C, so cgo;
# scripts/install-test-deps.sh installs gcc-mingw-w64-x86-64), then
# `go vet` of every package and test for windows and for darwin/amd64 and
# darwin/arm64 with CGO_ENABLED=0 (Debian has no macOS linker or SDK, so
# no darwin binary is linked here: docs/install.md).
MINGW_CC ?= x86_64-w64-mingw32-gcc
cross:
	@command -v $(MINGW_CC) >/dev/null || { echo "make cross: $(MINGW_CC) not found: run scripts/install-test-deps.sh (Debian: apt-get install gcc-mingw-w64-x86-64)"; exit 1; }
	GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=$(MINGW_CC) $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/windows-amd64/hush.exe ./cmd/hush
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) vet ./...
	GOOS=darwin GOARCH=amd64 CGO_ENABLED=0 $(GO) vet ./...
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
