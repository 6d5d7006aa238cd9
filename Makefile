# lambdastack — the README's two commands are `make demo` and `make test`.
SHELL := /bin/bash
GO    ?= go
# jsii prints an 11-line banner when Node is past end-of-life; the variable
# silences it for the listed major versions, so list the one installed
# (the banner is a warning only: synth works on it).
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
# The CDK CLI's AWS SDK warns likewise that Node 20 support ends (a warning too).
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED := true

# Tools installed into ./bin by exact version (nothing global).
BIN               := $(CURDIR)/bin
STATICCHECK_VER   := v0.8.2
MOTO_VER          := 5.2.1
CFNLINT_VER       := 1.51.0
MOTO_VENV         := $(BIN)/moto-venv
# A moto installed by `make moto` is found by the tests through PATH.
export PATH := $(MOTO_VENV)/bin:$(BIN):$(PATH)

.PHONY: tools demo chromium kcat test deps fmt-check vet staticcheck moto unit test-integration build bench cdk-deps cdk-check test-infra

# -buildvcs=auto: `lambdastack version` names the commit even where GOFLAGS
# turns VCS stamping off. -s -w: no symbol table or DWARF, which cuts the
# link (the last, serial step of a cold build) by about 40% of its CPU and
# the binary from 131 to 101 MB (docs/benchmarks.md, "Cold build").
build:
	$(GO) build -buildvcs=auto -ldflags="-s -w" -o bin/lambdastack ./cmd/lambdastack

# What `make test` needs, checked up front: each tool found, or what is
# missing and how to get it. Go and git are required; the rest `make test`
# installs into the project where it can (moto and cfn-lint into
# bin/moto-venv, the CDK CLI into node_modules, staticcheck into bin/) or
# with apt-get as root (chromium).
tools:
	@ok=1; \
	check() { if command -v $$1 >/dev/null; then printf '  %-12s %s\n' "$$1" "$$(command -v $$1)"; \
		else printf '  %-12s MISSING: %s\n' "$$1" "$$2"; [ "$$3" = required ] && ok=0; fi; true; }; \
	echo "tools for make test:"; \
	check go      "install Go $$(sed -n 's/^go //p' go.mod) or later from https://go.dev/dl/" required; \
	check git     "apt-get install git" required; \
	check node    "install Node.js 20 or later (apt-get install nodejs npm): needed for the CDK CLI (cdk synth)" required; \
	check npm     "apt-get install npm: installs the pinned CDK CLI into node_modules" required; \
	check python3 "apt-get install python3 python3-venv: moto and cfn-lint are installed into bin/moto-venv" optional; \
	check moto_server "make test installs moto $(MOTO_VER) into bin/moto-venv (needs PyPI); or set AWS_ENDPOINT_URL" optional; \
	check cfn-lint "make test installs cfn-lint $(CFNLINT_VER) into bin/moto-venv (needs PyPI)" optional; \
	check chromium "make test installs Debian's chromium with apt-get when root; else the screenshot checks skip" optional; \
	check kcat    "make test installs Debian's kcat with apt-get when root; else the Kafka wire tests skip (and fail under CI=true)" optional; \
	if [ $$ok = 0 ]; then echo "Install the required tools above, then rerun. Without an emulator, make unit runs every test that needs none."; exit 1; fi

# The Go modules this platform's build and tests need, from the Go module
# proxy. (`go mod download` would fetch every module in go.mod, the other
# platforms' DuckDB bindings too: about 100 MB more, 400 MB unpacked.)
deps:
	$(GO) list -deps -test ./... >/dev/null

# The whole pipeline on this machine, no AWS: generate -> stream -> transform
# -> raw -> speed + batch -> merge -> named queries (DuckDB) -> dashboard.
# Prints the report with the reconciliation and where the outputs are.
demo: build
	./bin/lambdastack demo --dir demo-out

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# Pinned staticcheck, built once into ./bin.
$(BIN)/staticcheck-$(STATICCHECK_VER):
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VER)
	@touch $@

staticcheck: $(BIN)/staticcheck-$(STATICCHECK_VER)
	$(BIN)/staticcheck ./...

# The emulator the integration tests start: moto_server on PATH, or any
# emulator named by AWS_ENDPOINT_URL. Installs moto into ./bin/moto-venv when
# pip can reach PyPI; otherwise says how to install it.
moto:
	@if [ -n "$${AWS_ENDPOINT_URL:-}" ]; then echo "emulator: AWS_ENDPOINT_URL=$$AWS_ENDPOINT_URL"; \
	elif command -v moto_server >/dev/null; then echo "emulator: $$(command -v moto_server)"; \
	elif command -v python3 >/dev/null && python3 -m venv $(MOTO_VENV) >/dev/null 2>&1 && \
		timeout 300 $(MOTO_VENV)/bin/pip install -q "moto[server]==$(MOTO_VER)"; then \
		echo "emulator: installed moto $(MOTO_VER) into $(MOTO_VENV)"; \
	else rm -rf $(MOTO_VENV); \
		echo "No AWS emulator: moto_server is not on PATH and AWS_ENDPOINT_URL is not set."; \
		echo "Install moto:   pip install \"moto[server]==$(MOTO_VER)\""; \
		echo "or point the tests at LocalStack:   export AWS_ENDPOINT_URL=http://localhost:4566"; \
		echo "or run the tests that need no emulator:   make unit"; \
		exit 1; fi

# cfn-lint for cdk-check: on PATH, or installed into bin/moto-venv.
cfn-lint:
	@if command -v cfn-lint >/dev/null; then echo "cfn-lint: $$(command -v cfn-lint)"; \
	elif command -v python3 >/dev/null && { [ -x $(MOTO_VENV)/bin/pip ] || python3 -m venv $(MOTO_VENV) >/dev/null 2>&1; } && \
		echo "cfn-lint: installing cfn-lint $(CFNLINT_VER) into $(MOTO_VENV) (pip)" && \
		timeout 300 $(MOTO_VENV)/bin/pip install -q "cfn-lint==$(CFNLINT_VER)"; then \
		echo "cfn-lint: installed into $(MOTO_VENV)"; \
	else echo "No cfn-lint, and pip could not install it: pip install \"cfn-lint==$(CFNLINT_VER)\" (cdk-check needs it)"; exit 1; fi

# Unit and integration tests. Integration tests start moto_server themselves
# (or use AWS_ENDPOINT_URL when it is set) and must run, not skip, in CI.
# The packages whose code starts goroutines (the producer, the batch
# workers, the emulator harness, the CLI's demo) run under the race detector
# instead; it makes them about 2.5 times slower (docs/reliability.md).
RACE_PKGS := ./batch ./streaming ./internal/testenv ./cmd/lambdastack
test: tools deps moto cfn-lint chromium kcat cdk-deps fmt-check vet staticcheck cdk-check
	./scripts/gotest.sh $$($(GO) list ./... | grep -vxF "$$($(GO) list $(RACE_PKGS))")
	GOTEST_LOG=bin/test-race.log ./scripts/gotest.sh -race $(RACE_PKGS)

unit: deps
	$(GO) test -count=1 -skip Integration ./...

# Only the tests that talk to an AWS emulator.
test-integration: deps moto cdk-deps
	$(GO) test -count=1 -v -run Integration ./...

# Benchmarks behind docs/benchmarks.md.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/gen
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench . -benchmem ./internal/event ./streaming/transform

# --- The CDK app (infra/) ---------------------------------------------------
# The CDK CLI is pinned by package-lock.json; npm ci also drops a go.mod into
# node_modules so ./... never reaches the Go files the CLI ships.
CDK      := npx --no-install cdk
CDK_OUT  := build/cdk-synth
CDK_QS   := -c stage=qs -c quicksightPrincipalArn=arn:aws:quicksight:us-east-1:123456789012:user/default/analyst -c alarmEmail=ops@example.com

cdk-deps:
	npm ci --no-audit --no-fund --loglevel=error

# cdk synth (which builds the Lambda bootstraps and runs cdk-nag: an
# unsuppressed error fails it) for the default stage, a QuickSight-enabled
# one and an MSK one, then cfn-lint on every template: zero errors allowed.
#
# jsii-runtime-go (v1.139.0, internal/kernel/process) waits for its node
# child twice at exit, from a goroutine and from Close; when Close reaps it
# first the goroutine prints "Runtime process exited abnormally: waitid: no
# child processes" (no newline) although node exited normally and the
# templates are written. Only that exact line is dropped; exit status is
# cdk's.
JSII_EXIT_RACE := Runtime process exited abnormally: waitid: no child processes
cdk-check: cdk-deps
	rm -rf $(CDK_OUT)
	set -o pipefail; $(CDK) synth --quiet -o $(CDK_OUT)/default 2>&1 | sed -u 's/$(JSII_EXIT_RACE)//'
	set -o pipefail; $(CDK) synth --quiet -o $(CDK_OUT)/quicksight $(CDK_QS) 2>&1 | sed -u 's/$(JSII_EXIT_RACE)//'
	set -o pipefail; $(CDK) synth --quiet -o $(CDK_OUT)/msk -c stage=msk -c stream=msk 2>&1 | sed -u 's/$(JSII_EXIT_RACE)//'
	cfn-lint --non-zero-exit-code error $(CDK_OUT)/*/*.template.json
	@echo "cdk synth + cdk-nag + cfn-lint: OK ($$(ls $(CDK_OUT)/*/*.template.json | wc -l) templates, 0 errors)"

# Everything about the CDK app: synth + cfn-lint, then the assertion and
# cdk-nag tests and the deploy smoke test against moto on localhost:4566.
test-infra: deps moto cdk-check
	./scripts/gotest.sh ./infra

# apt_install installs a Debian package a test needs when it is missing and
# we are root: announced on its own line with what it brings, apt's output
# kept in bin/apt-PACKAGE.log. Not root, or apt-get failing: the tests that
# need it skip, and this says how to install it.
# $(1) package, $(2) the commands it may provide, $(3) what needs it, $(4) what it brings.
define apt_install
	@mkdir -p $(BIN); bin=; for c in $(2); do bin=$$(command -v $$c) && break; done; \
	if [ -n "$$bin" ]; then echo "$(1): $$bin"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "$(1): installing Debian's $(1) package with apt-get for $(3) ($(4)); log: $(BIN)/apt-$(1).log"; \
		if (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(1)) >$(BIN)/apt-$(1).log 2>&1; then \
			echo "$(1): installed ($$(grep -c '^Setting up' $(BIN)/apt-$(1).log) packages set up, see the log)"; \
		else echo "$(1): apt-get failed (last lines of $(BIN)/apt-$(1).log below); $(3) will skip"; tail -5 $(BIN)/apt-$(1).log; fi; \
	else echo "No $(1) (and not root, so apt-get is not tried): $(3) will skip."; \
		echo "Install it:   sudo apt-get install $(1)"; fi
endef

# kcat (Debian's kcat, on librdkafka): the independent Kafka client the Kafka
# wire tests (cmd/lambdastack/kcat_test.go) check produce and the speed
# consumer against; without it they skip, and fail under CI=true.
kcat:
	$(call apt_install,kcat,kcat,the Kafka wire tests,librdkafka and a few libraries)

# Headless Chromium for the dashboard screenshot checks (Debian's chromium).
chromium:
	$(call apt_install,chromium,chromium chromium-browser google-chrome,the dashboard screenshot checks,about 115 packages and 400 MB; some installed ones are upgraded)

# Batch view benchmark against DuckDB (own module under bench/: cgo, not in the main build).
# Writes a 5M-event Parquet and NDJSON file once under bench/out/ (gitignored).
bench-batch:
	cd bench/batchview && $(GO) test -run '^$$' -bench BatchView -benchtime 3x
