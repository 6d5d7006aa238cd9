# lambdastack — the README's two commands are `make demo` and `make test`.
SHELL := /bin/bash
GO    ?= go
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 1

# Tools installed into ./bin by exact version (nothing global).
BIN               := $(CURDIR)/bin
STATICCHECK_VER   := v0.8.2
MOTO_VER          := 5.2.1
MOTO_VENV         := $(BIN)/moto-venv
# A moto installed by `make moto` is found by the tests through PATH.
export PATH := $(MOTO_VENV)/bin:$(BIN):$(PATH)

.PHONY: demo chromium test deps fmt-check vet staticcheck moto unit test-integration build bench cdk-deps cdk-check test-infra

build:
	$(GO) build -o bin/lambdastack ./cmd/lambdastack

# Everything a fresh machine needs, installed from the Go module proxy.
deps:
	$(GO) mod download

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
		exit 1; fi

# Unit and integration tests. Integration tests start moto_server themselves
# (or use AWS_ENDPOINT_URL when it is set) and must run, not skip, in CI.
# The packages whose code starts goroutines (the producer, the batch
# workers, the emulator harness, the CLI's demo) run under the race detector
# instead; it makes them about 2.5 times slower (docs/reliability.md).
RACE_PKGS := ./batch ./streaming ./internal/testenv ./cmd/lambdastack
test: deps moto chromium cdk-deps fmt-check vet staticcheck cdk-check
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
# unsuppressed error fails it) for the default stage and a QuickSight-enabled
# one, then cfn-lint on every template: zero errors allowed.
cdk-check: cdk-deps
	rm -rf $(CDK_OUT)
	$(CDK) synth --quiet -o $(CDK_OUT)/default
	$(CDK) synth --quiet -o $(CDK_OUT)/quicksight $(CDK_QS)
	cfn-lint --non-zero-exit-code error $(CDK_OUT)/*/*.template.json
	@echo "cdk synth + cdk-nag + cfn-lint: OK ($$(ls $(CDK_OUT)/*/*.template.json | wc -l) templates, 0 errors)"

# Everything about the CDK app: synth + cfn-lint, then the assertion and
# cdk-nag tests and the deploy smoke test against moto on localhost:4566.
test-infra: deps moto cdk-check
	./scripts/gotest.sh ./infra

# Headless Chromium for the dashboard screenshot checks: Debian's chromium
# package, installed with apt-get when we are root. Without it only the
# screenshot parts of the tests skip, and say so.
chromium:
	@if bin=$$(command -v chromium || command -v chromium-browser || command -v google-chrome); then echo "chromium: $$bin"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1; then \
		echo "chromium: installed Debian's chromium package"; \
	else echo "No Chromium (and it could not be installed with apt-get): the dashboard screenshot checks will skip."; \
		echo "Install it:   apt-get install chromium"; fi

# Batch view benchmark against DuckDB (own module under bench/: cgo, not in the main build).
# Writes a 5M-event Parquet and NDJSON file once under bench/out/ (gitignored).
bench-batch:
	cd bench/batchview && $(GO) test -run '^$$' -bench BatchView -benchtime 3x
