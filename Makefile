# apigw-tracing: the two commands are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
MOTO_SERVER := $(VENV)/bin/moto_server
MOTO_SPEC   := moto[server]>=5.2,<5.3
CARGO       ?= cargo

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(MOTO_SERVER):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check '$(MOTO_SPEC)'

.PHONY: venv
venv: $(MOTO_SERVER) ## Install moto (the local AWS stand-in) into ./.venv

.PHONY: demo
demo: venv ## Scan a demo organization on a local moto AWS (no AWS account needed)
	$(CARGO) build --quiet --bin apigw-tracing --example demo
	target/debug/examples/demo target/debug/apigw-tracing

BENCH_APIS   ?= 1000
BENCH_STAGES ?= 3
BENCH_RPS    ?= 5

.PHONY: bench
bench: venv ## Benchmark: 1,000 APIs x 3 stages in one account-region on moto (release build)
	$(CARGO) build --quiet --release --bin apigw-tracing --example bench
	target/release/examples/bench target/release/apigw-tracing $(BENCH_APIS) $(BENCH_STAGES) $(BENCH_RPS)

.PHONY: build
build: ## Debug build of the CLI and the Lambda binary
	$(CARGO) build

.PHONY: lint
lint: ## rustfmt and clippy, warnings are errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

.PHONY: test
test: venv lint ## Lint, then every test (unit + integration against moto)
	$(CARGO) test --lib --tests

.PHONY: clean
clean: ## Remove build output and the virtualenv
	$(CARGO) clean
	rm -rf $(VENV)
