# lambdastack — the README's two commands are `make demo` and `make test`.
SHELL := /bin/bash
GO    ?= go
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 1

.PHONY: demo test deps fmt-check vet unit test-integration build

build:
	$(GO) build -o bin/lambdastack ./cmd/lambdastack

# Everything a fresh machine needs, installed from the Go module proxy.
deps:
	$(GO) mod download

demo: deps build
	./bin/lambdastack demo

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# Unit and integration tests. Integration tests start moto_server themselves
# (or use AWS_ENDPOINT_URL when it is set) and must run, not skip, in CI.
test: deps fmt-check vet
	$(GO) test -count=1 ./...

# Only the tests that talk to an AWS emulator.
test-integration: deps
	$(GO) test -count=1 -run Integration ./...
