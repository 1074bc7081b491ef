# The two commands a new machine needs: `make run` and `make test`.
# Both bring up PostgreSQL and stripe-mock first (scripts/services.sh).

SHELL := /bin/bash
GO ?= go

.PHONY: run test bench services test-services chromium lint fuzz down screenshots bench-pages

# Each fuzz target runs this many inputs in `make test` (its seed corpus always runs):
# a count, not a duration, since Go 1.26's fuzzing coordinator can fail a target with
# "context deadline exceeded" when a duration ends while a worker is busy (Go issue 75804,
# fixed in Go 1.27). 1,500 inputs take 2-15 s a target on two cores.
FUZZTIME ?= 1500x

## run: bring up PostgreSQL and stripe-mock, seed the demo, serve the API
run: services
	@source .data/services.env && \
	$(GO) build -o .data/bin/carnet ./cmd/carnet && \
	.data/bin/carnet demo && \
	exec .data/bin/carnet serve

## test: bring up the test services (and Chromium for the browser tests), check formatting, vet,
## go.mod, the linter, run every test with the race detector, then a short fuzz run of each target
test: test-services chromium
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.data/*'))" || \
		{ echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) mod tidy -diff
	@scripts/lint.sh
	@source .data/services-test.env && $(GO) test -race -count=1 -timeout 20m ./...
	@$(MAKE) --no-print-directory fuzz

## lint: golangci-lint v2 with .golangci.yml (built once into .data/bin)
lint:
	@scripts/lint.sh

## fuzz: each fuzz target on $(FUZZTIME) inputs: no panic, no 500
fuzz: test-services
	@source .data/services-test.env && \
	$(GO) test -run '^$$' -fuzz '^FuzzWebhookIntake$$' -fuzztime $(FUZZTIME) -parallel 2 ./webhooks && \
	$(GO) test -run '^$$' -fuzz '^FuzzJSONBodies$$' -fuzztime $(FUZZTIME) -parallel 2 ./cmd/carnet

## bench: measure Carnet beside pgbench on the same tables (figures for docs/BENCHMARKS.md)
bench: services
	@source .data/services.env && \
	$(GO) build -o .data/bin/carnet ./cmd/carnet && \
	$(GO) build -o .data/bin/carnet-bench ./cmd/carnet-bench && \
	.data/bin/carnet-bench -carnet .data/bin/carnet $(BENCH_FLAGS)

services:
	@scripts/services.sh up

test-services:
	@scripts/services.sh up test

chromium:
	@scripts/chromium.sh >/dev/null

## screenshots: regenerate docs/screenshots/ (the coach's pages, desktop and phone; the client's) in Chromium
screenshots: services chromium
	@source .data/services.env && CARNET_SCREENSHOTS=$(CURDIR)/docs/screenshots \
		$(GO) test -count=1 -run 'TestBrowserEveryPage$$|TestBrowserClient|TestBrowserExpiredLink' ./cmd/carnet

## bench-pages: render the coach's pages for 10,000 clients and print p50/p99 (docs/BENCHMARKS.md)
bench-pages: services
	@source .data/services.env && $(GO) test -run XXX -bench BenchmarkCoachPages -benchtime 200x ./cmd/carnet

## down: stop the services scripts/services.sh started
down:
	@scripts/services.sh down
