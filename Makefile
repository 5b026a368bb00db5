# The README's commands, and the checks CI runs.
GO ?= go

.PHONY: dev test test-scale vet fmt-check build

# Gateway + mock departments + mock portal + embedded store, one process.
dev:
	$(GO) run ./gateway/cmd/onething dev

# The whole test suite (race detector on: the gateway is concurrent).
test: fmt-check vet
	$(GO) test -race -count=1 -timeout 15m ./...

# Only the scale-out tests (Redis backend, reconciler, two replicas); they
# start a private redis-server (the redis-server package must be installed).
test-scale:
	$(GO) test -race -count=1 -timeout 10m ./gateway/store/... ./gateway/reconcile/ ./gateway/replicatest/

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

build:
	$(GO) build -o bin/onething ./gateway/cmd/onething
