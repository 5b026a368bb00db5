# The README's commands, and the checks CI runs.
GO ?= go
# The toolchain is pinned (go.mod says go 1.27.3): these machines run
# GOTOOLCHAIN=local with go1.26.8, which has reachable vulnerabilities
# (docs/VULNERABILITIES.md); the go command fetches the pinned one as a module.
export GOTOOLCHAIN := go1.27.3

.PHONY: dev test test-scale fuzz vet fmt-check build

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

# A short run of every fuzz target (package:target), FUZZTIME each; the
# seed corpora are in each package's testdata/fuzz/. CI runs it after test.
FUZZTIME ?= 10s
FUZZ_TARGETS = ./gateway/api:FuzzSubmission ./gateway/api:FuzzEvent ./gateway/api:FuzzDuplicateKeys \
	./gateway/auth:FuzzWebhookVerify ./gateway/auth:FuzzJWTVerify
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) $$pkg; \
	done

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

build:
	$(GO) build -o bin/onething ./gateway/cmd/onething

.PHONY: bench bench-go

# The loopback benchmark of both backends (intake, raw baseline, end to
# end, growth to 1,000,000 stored applications: long), written to
# docs/BENCHMARKS.md. BENCH_FLAGS changes it, e.g. a smaller growth on bolt:
#   make bench BENCH_FLAGS='--grow-to 1000000 --grow-to-bolt 100000'
# COMMIT names the code measured (the build carries no VCS stamp here).
COMMIT ?= unknown
BENCH_FLAGS ?=
bench: build
	./bin/onething bench --commit "$(COMMIT)" --doc docs/BENCHMARKS.md --out docs/benchmarks.json $(BENCH_FLAGS)

# The Go benchmarks of the hot paths (validation, signature check,
# planning, status) and of the store's writes on both backends.
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./gateway/bench/ ./gateway/store/ ./gateway/calendar/
