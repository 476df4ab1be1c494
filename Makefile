# apigw-tracing: the two commands are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO ?= cargo

# moto (the local AWS stand-in) for tests, demo and bench.
VENV        := .venv
MOTO_SERVER := $(VENV)/bin/moto_server
MOTO_SPEC   := moto[server]>=5.2,<5.3
# Turns the SAM template into CloudFormation for the deploy test (the
# library behind the SAM CLI and CloudFormation's SAM transform).
SAM_SPEC    := aws-sam-translator>=1.90,<2

# Infrastructure checks and packaging tools, in their own virtualenv
# (checkov pins an older boto3 than moto wants).
TOOLS      := .venv-tools
TOOLS_SPEC := 'cfn-lint>=1.58,<2' 'checkov>=3.3,<4' 'python-hcl2>=8,<9' 'pytest>=9,<10'
LAMBDA_SPEC := 'cargo-lambda>=1.9,<2'

LAMBDA_ZIP := target/lambda/apigw-tracing-lambda/bootstrap.zip
# The CloudFormation hook's binary: the gate package's, with its feature.
HOOK_BIN := -p apigw-tracing-check --features hook-lambda --bin apigw-tracing-hook
# Both of the gate's binaries (the integration tests run them).
GATE_BINS := -p apigw-tracing-check --features hook-lambda --bins

# The OCSF models (Prowler's py-ocsf-models) that validate `scan --format
# ocsf` offline, in their own virtualenv (they want pydantic 2).
OCSF_VENV := .venv-ocsf
OCSF_SPEC := 'py-ocsf-models>=0.10,<0.11'

$(OCSF_VENV)/bin/python:
	python3 -m venv $(OCSF_VENV)
	$(OCSF_VENV)/bin/pip install --quiet --disable-pip-version-check $(OCSF_SPEC)

# OPA's Go engine (v1.20, what Conftest embeds), from PyPI's
# opa-golib-python-bindings: a ctypes wrapper over OPA's Go library. The
# wheel asks for Python 3.14, but its shared library does not depend on the
# interpreter: it is unpacked and loaded through ctypes by this machine's
# Python (tests/policy/opa_main.py).
OPA_DIR  := .opa
OPA_SPEC := opa-golib-python-bindings==0.4.4
OPA_LIB  := $(OPA_DIR)/opa_bindings/libopabridge.so

$(OPA_LIB):
	rm -rf $(OPA_DIR) && mkdir -p $(OPA_DIR)/wheel
	python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
	  --python-version 3.14 --platform manylinux_2_34_$$(uname -m) -d $(OPA_DIR)/wheel '$(OPA_SPEC)'
	cd $(OPA_DIR) && python3 -m zipfile -e wheel/*.whl .

# The gate as a wheel (maturin), and what tests its packaging: pre-commit
# (try-repo) and pytest, in their own virtualenv.
PACKAGING      := .venv-packaging
PACKAGING_SPEC := 'maturin>=1.9,<2' 'pre-commit>=4,<5' 'pytest>=8,<10'

$(PACKAGING)/bin/maturin:
	python3 -m venv $(PACKAGING)
	$(PACKAGING)/bin/pip install --quiet --disable-pip-version-check $(PACKAGING_SPEC)

# Microsoft's SARIF Multitool (a self-contained binary in an npm package),
# which validates what `check --format sarif` prints.
NPM_TOOLS := .npm-tools
MULTITOOL := $(NPM_TOOLS)/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool

# Serverless Framework v3: its offline `sls package` is the oracle the
# check tests compare Serverless services against.
NPM_SLS := .npm-sls
SLS     := $(NPM_SLS)/node_modules/.bin/sls

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(MOTO_SERVER):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check '$(MOTO_SPEC)' '$(SAM_SPEC)'

$(TOOLS)/bin/checkov:
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check $(TOOLS_SPEC)

$(TOOLS)/bin/cargo-lambda: $(TOOLS)/bin/checkov
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check $(LAMBDA_SPEC)

$(SLS):
	npm install --silent --no-audit --no-fund --prefix $(NPM_SLS) 'serverless@3'

$(MULTITOOL):
	npm install --silent --no-audit --no-fund --prefix $(NPM_TOOLS) '@microsoft/sarif-multitool-linux@5'
	chmod u+x $(MULTITOOL)

.PHONY: sarif
sarif: $(MULTITOOL) ## check --format sarif on the fixtures and on odd file names, validated by the SARIF Multitool (0 errors)
	$(CARGO) build --quiet --bin apigw-tracing
	mkdir -p target/check
	target/debug/apigw-tracing check --format sarif tests/fixtures/check > target/check/fixtures.sarif 2>/dev/null; \
	  test $$? -eq 3 || { echo "check should exit 3 on the fixtures"; exit 1; }
	@# File names a URI must percent-encode: spaces, #, %, ?.
	rm -rf "target/check/odd names" && mkdir -p "target/check/odd names/#1 %x?"
	cp tests/fixtures/check/sam/template.yaml "target/check/odd names/#1 %x?/a b#c%d?.yaml"
	cd target/check && ../debug/apigw-tracing check --format sarif "odd names" > odd-names.sarif 2>/dev/null; \
	  test $$? -eq 3 || { echo "check should exit 3 on the odd names"; exit 1; }
	for f in fixtures odd-names; do \
	  rm -f target/check/$$f.validation.sarif; \
	  $(MULTITOOL) validate target/check/$$f.sarif -o target/check/$$f.validation.sarif > target/check/multitool.log || exit 1; \
	  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"][0].get("results",[]); e=[x for x in r if x.get("level")=="error" or x.get("ruleId")=="SARIF1002"]; print(f"SARIF Multitool, {sys.argv[2]}: {len(e)} error(s), {len(r)-len(e)} warning(s)"); [print(" ",x["ruleId"],x["message"]) for x in e]; sys.exit(1 if e else 0)' target/check/$$f.validation.sarif $$f || exit 1; \
	done

.PHONY: wheel
wheel: $(PACKAGING)/bin/maturin ## The gate as a Python wheel (target/wheels/), as ruff and uv ship theirs
	$(PACKAGING)/bin/maturin build --release --quiet -o target/wheels

.PHONY: packaging
packaging: wheel $(MULTITOOL) ## The wheel in a fresh virtualenv (exit 3, valid SARIF), pre-commit try-repo, the release workflow's shape
	$(PACKAGING)/bin/pytest -q -s tests/packaging

.PHONY: bench-install
bench-install: ## cargo install --locked of the gate from an empty target directory: time and binary size
	@rm -rf target/bench-install && mkdir -p target/bench-install
	@python3 -c 'import subprocess, sys, time; t = time.monotonic(); subprocess.run(sys.argv[1:], check=True); print(f"cargo install --locked --path crates/check, empty target directory: {time.monotonic() - t:.1f} s (target: under 180 s)")' \
	  $(CARGO) install --quiet --locked --path crates/check --root target/bench-install/root --target-dir target/bench-install/target
	@python3 -c 'import os, sys; n = os.path.getsize(sys.argv[1]); print(f"apigw-tracing-check: {n / 2**20:.1f} MiB ({n} bytes)")' target/bench-install/root/bin/apigw-tracing-check
	@rm -rf target/bench-install

.PHONY: venv
venv: $(MOTO_SERVER) ## Install moto into ./.venv

.PHONY: demo
demo: venv ## Scan a demo organization on a local moto AWS (no AWS account needed)
	$(CARGO) build --quiet -p apigw-tracing --bin apigw-tracing -p apigw-tracing-tools --bin demo
	target/debug/demo target/debug/apigw-tracing

.PHONY: build
build: ## Debug build of the CLI and the Lambda binary
	$(CARGO) build

.PHONY: lint
lint: lint-rust lint-infra ## Every static check (make test runs it)

.PHONY: lint-rust
lint-rust: ## rustfmt and clippy, warnings are errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --all-features --test it -- -D warnings

.PHONY: lint-infra
lint-infra: $(TOOLS)/bin/checkov ## cfn-lint, checkov (CloudFormation + Terraform), IAM and consistency tests
	$(TOOLS)/bin/cfn-lint infra/template.yaml infra/member-role.yaml infra/member-events.yaml infra/member-hook.yaml
	@if command -v terraform >/dev/null; then terraform fmt -check -recursive infra/terraform; \
	  else echo "SKIPPED: terraform fmt -check (terraform is not installed)"; fi
	$(TOOLS)/bin/checkov --quiet --compact --skip-download --framework cloudformation terraform -d infra
	$(TOOLS)/bin/pytest -q tests/infra

.PHONY: unit
unit: ## Unit tests: no moto, no network, nothing to install (the fast tier; also a bare `cargo test`)
	$(CARGO) test --workspace

.PHONY: it
it: venv $(OCSF_VENV)/bin/python $(SLS) $(OPA_LIB) ## Integration tests against moto (servers shared per test process, reset between tests)
	$(CARGO) build --quiet $(GATE_BINS)
	$(CARGO) test --test it

.PHONY: test
test: venv lint sarif unit it packaging ## Lint, then every test (unit + integration against moto), SARIF validated, the demo run
	@mkdir -p target
	@$(MAKE) --no-print-directory demo > target/demo.log 2>&1 \
	  && echo "make demo: ok (output in target/demo.log)" \
	  || { cat target/demo.log; echo "make demo FAILED"; exit 1; }

.PHONY: package
package: $(TOOLS)/bin/cargo-lambda ## Build the Lambda zips (provided.al2023, arm64) the templates deploy: the scanner and the hook
	rustup target add aarch64-unknown-linux-gnu
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(CARGO) lambda build --release --arm64 \
	  --bin apigw-tracing-lambda --output-format zip
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(CARGO) lambda build --release --arm64 \
	  $(HOOK_BIN) --output-format zip
	@ls -l $(LAMBDA_ZIP) && unzip -l $(LAMBDA_ZIP)

CHECK_RESOURCES ?= 5000

BENCH_APIS   ?= 1000
BENCH_STAGES ?= 3
BENCH_RPS    ?= 5
BENCH_PATH_APIS ?= 1000

# Organization scale, against a simulated AWS endpoint on 127.0.0.1.
ORG_ACCOUNTS    ?= 1000
ORG_REGIONS     ?= 16
ORG_APIS        ?= 5
ORG_STAGES      ?= 3
ORG_LATENCY_MS  ?= 40
ORG_CONCURRENCY ?= 256

.PHONY: bench
bench: bench-moto bench-org bench-check bench-hook bench-install ## Every benchmark (release build); prints their figures

.PHONY: bench-check
bench-check: $(TOOLS)/bin/checkov ## check on a generated 5,000-resource template, plan and Terraform source tree: wall time (< 1 s each), side by side with checkov (20x)
	$(CARGO) build --quiet --release -p apigw-tracing-check --bin apigw-tracing-check -p apigw-tracing-tools --bin bench_check
	CHECKOV=$(TOOLS)/bin/checkov target/release/bench_check target/release/apigw-tracing-check $(CHECK_RESOURCES)

.PHONY: bench-hook
bench-hook: ## The CloudFormation hook: one decision in microseconds, and the binary's cold start under a local Runtime API
	$(CARGO) build --quiet --release -p apigw-tracing --bins -p apigw-tracing-tools --bin bench_hook
	$(CARGO) build --quiet --release $(HOOK_BIN)
	target/release/bench_hook target/release/apigw-tracing-hook target/release/apigw-tracing-lambda

.PHONY: bench-moto
bench-moto: venv ## 1,000 APIs x 3 stages in one account-region on moto: time, requests vs minimum, peak RSS; then the trace path off vs on
	$(CARGO) build --quiet --release -p apigw-tracing --bin apigw-tracing -p apigw-tracing-tools --bin bench
	target/release/bench target/release/apigw-tracing $(BENCH_APIS) $(BENCH_STAGES) $(BENCH_RPS) $(BENCH_PATH_APIS)

.PHONY: bench-org
bench-org: ## 1,000 accounts x 16 regions on a simulated endpoint: time vs floor, quota violations, RSS, start-up
	$(CARGO) build --quiet --release -p apigw-tracing --bins -p apigw-tracing-tools --bin bench_org
	target/release/bench_org target/release/apigw-tracing target/release/apigw-tracing-lambda \
	  $(ORG_ACCOUNTS) $(ORG_REGIONS) $(ORG_APIS) $(ORG_STAGES) $(ORG_LATENCY_MS) $(ORG_CONCURRENCY)

.PHONY: clean
clean: ## Remove build output and the virtualenvs
	$(CARGO) clean
	rm -rf $(VENV) $(TOOLS) $(OCSF_VENV) $(NPM_SLS) $(OPA_DIR) $(PACKAGING)
