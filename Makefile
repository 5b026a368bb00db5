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
	./gateway/auth:FuzzWebhookVerify ./gateway/auth:FuzzJWTVerify ./contracts:FuzzMaskFreeText
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

# What `onething version` reports: the build is stamped with -ldflags -X
# (these machines build with -buildvcs=false, and the container build has
# no .git; deploy/Dockerfile takes the same as build arguments). Override
# them on the command line: make build VERSION=v1.4.0
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS = -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.buildDate=$(BUILD_DATE)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/onething ./gateway/cmd/onething

.PHONY: bench bench-go

# The loopback benchmark of both backends (intake, raw baseline, end to
# end, growth to 1,000,000 stored applications: long), written to
# docs/BENCHMARKS.md. BENCH_FLAGS changes it, e.g. a smaller growth on bolt:
#   make bench BENCH_FLAGS='--grow-to 1000000 --grow-to-bolt 100000'
# COMMIT (above, as build stamps it) names the code measured.
BENCH_FLAGS ?=
bench: build
	./bin/onething bench --commit "$(COMMIT)" --doc docs/BENCHMARKS.md --out docs/benchmarks.json $(BENCH_FLAGS)

# The Go benchmarks of the hot paths (validation, signature check,
# planning, status) and of the store's writes on both backends.
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./gateway/bench/ ./gateway/store/ ./gateway/calendar/

.PHONY: vulncheck

# The vulnerability check (docs/VULNERABILITIES.md), run by CI: govulncheck
# (pinned) against the Go vulnerability database as of a pinned version of
# its module golang.org/x/vulndb (indexed once per version into
# VULNDB_CACHE), then tools/vulncheck, which prints a summary and fails on
# a called vulnerability not accepted, with its reason, in .vulncheck-allow.
# govulncheck's JSON report is left in bin/vulncheck.json.
GOVULNCHECK_VERSION = v1.9.0
VULNDB_VERSION = v0.0.0-20261105234957-e22db6528018
VULNDB_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/onething/vulndb
vulncheck:
	@set -e; db="$(VULNDB_CACHE)/$(VULNDB_VERSION)"; \
	if [ ! -f "$$db/index/db.json" ]; then \
		echo "vulncheck: indexing golang.org/x/vulndb@$(VULNDB_VERSION) into $$db (once per version)"; \
		mkdir -p "$(VULNDB_CACHE)"; tmp=$$(mktemp -d "$(VULNDB_CACHE)/build.XXXXXX"); trap 'rm -rf "$$tmp"' EXIT; \
		src=$$(cd "$$tmp" && $(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
		if [ ! -d "$$src/data/osv" ]; then echo "vulncheck: cannot download golang.org/x/vulndb@$(VULNDB_VERSION)"; exit 1; fi; \
		(cd "$$tmp" && $(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) -vulns "$$src/data/osv" -out "$$tmp/db"); \
		rm -rf "$$db"; mv "$$tmp/db" "$$db"; \
	fi; \
	mkdir -p bin; \
	echo "vulncheck: govulncheck@$(GOVULNCHECK_VERSION) -db file://$$db ./..."; \
	$(GO) run golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION) -db "file://$$db" -format json ./... > bin/vulncheck.json; \
	$(GO) run ./tools/vulncheck -allow .vulncheck-allow bin/vulncheck.json
