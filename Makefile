# hotsnap — make targets. `sudo make demo` and `sudo make test` are the two
# commands the README starts with; both install what they need.
# sudo resets PATH (secure_path): find the Go toolchain where Debian's and the
# official tarball put it.
export PATH := $(PATH):/usr/local/go/bin:/usr/lib/go/bin
GO      ?= go
BIN     ?= ./hotsnap
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Debian packages the lab and the tests use (real OpenSSH, tar, rsync, zstd, sudo;
# glusterfs-client serves the lab's /mnt/backup from its backup host).
APT_PKGS := openssh-server openssh-client rsync zstd sudo iproute2 util-linux procps tmux curl jq postgresql redis-server redis-tools glusterfs-client

.PHONY: build deps demo test test-unit bench screenshots lint fmt clean

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

# deps installs the Debian packages the lab needs (idempotent; needs root).
deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# demo: bring the practice cluster up with data and open the wizard against it
# (on a terminal; otherwise run exec and every preflight check), then take the
# lab down again whatever happens.
demo: deps build
	$(BIN) lab up --data 50MB
	if [ -t 0 ] && [ -t 2 ]; then $(BIN) lab exec -- hotsnap; rc=$$?; \
	else $(BIN) lab exec -- hotsnap exec --sudo -- 'echo "$$(hostname) $$(hostname -I)as $$(id -un) via sudo"' && \
	     $(BIN) lab exec -- hotsnap preflight; rc=$$?; fi; \
	$(BIN) lab down; exit $$rc

# test: the whole suite, lab end-to-end tests included (they need root).
test: deps
	HOTSNAP_E2E_REQUIRED=1 $(GO) test -count=1 -timeout 60m $(GOTESTFLAGS) ./...

# test-unit: what runs without root (e2e tests skip themselves).
test-unit:
	$(GO) test -count=1 ./...

# bench: time hotsnap's backup and restore against the published procedure (shaped 1 Gbit/s links) and
# the raw ssh+tar bound on a lab of its own (needs root): sudo make bench DATA=2GB
DATA  ?= 200MB
NODES ?= 3
RUNS  ?= 3
bench: deps build
	$(BIN) lab bench --data $(DATA) --nodes $(NODES) --runs $(RUNS)

# screenshots: regenerate docs/wizard-*.png from a real run of the wizard on
# a lab of its own (needs root; builds charmbracelet/freeze at a pinned version).
screenshots: deps build
	bash docs/screenshot.sh

# staticcheck, pinned; `go mod tidy -diff` fails when go.mod or go.sum is not tidy.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	@$(GO) mod tidy -diff >/dev/null || { $(GO) mod tidy -diff; echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	$(GO) run $(STATICCHECK) ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -f $(BIN)
