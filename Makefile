# Vitrine: `make run` for the whole shop on this machine, `make test` for the full suite.
# Everything runs from .venv (Python 3.11); the embedded PostgreSQL and Redis live under var/.

.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
# The suite gets its own embedded servers, far from the dev shop in var/.
TEST_VAR_DIR ?= $(CURDIR)/var/test
PYTEST_ARGS ?=

.PHONY: help setup browser run stop test lint format clean bench audit soak

help: ## list the targets
	@echo "Vitrine — multimodal product search"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-8s %s\n", $$1, $$2}'
	@echo
	@echo "  env: VITRINE_PORT (8000), VITRINE_HOST, VITRINE_DEMO=0 (no demo catalog),"
	@echo "       VITRINE_VAR_DIR (./var), PYTEST_ARGS='-k foo' for make test;"
	@echo "       every setting: docs/CONFIGURATION.md"

$(PY):
	$(PYTHON) -m venv $(VENV)

# CPU machines get the CPU torch wheel first (pip would otherwise pick a multi-GB CUDA build);
# with an NVIDIA GPU, pip picks the torch that fits.
$(STAMP): pyproject.toml | $(PY)
	@if command -v nvidia-smi >/dev/null 2>&1; then \
		echo "nvidia-smi found: letting pip pick torch"; \
	else \
		$(PIP) install torch==2.13.0; \
	fi
	$(PIP) install -e ".[dev]"
	@touch $@

setup: $(STAMP) ## create .venv and install (only when pyproject.toml changed)

browser: ## Debian's chromium for the browser tests (tests/e2e skip without /usr/bin/chromium)
	@if [ -x /usr/bin/chromium ]; then \
		echo "browser: $$(/usr/bin/chromium --version 2>/dev/null)"; \
	else \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update -qq && $$sudo apt-get install -y -qq chromium; \
	fi

run: setup ## the whole stack on http://127.0.0.1:8000 with a demo catalog; Ctrl-C stops it
	$(PY) -m config.stack run

stop: ## stop what `make run` started (also cleans up after a killed one)
	@if [ -x $(PY) ]; then $(PY) -m config.stack stop; else echo "nothing to stop (no $(VENV))"; fi

test: setup browser ## the whole test suite, on its own embedded servers in var/test
	@out=$$(VITRINE_VAR_DIR=$(TEST_VAR_DIR) $(PY) -m config.stack stop 2>&1) || \
		{ echo "$$out" >&2; echo "make test: $(TEST_VAR_DIR) is busy (set TEST_VAR_DIR)" >&2; exit 1; }
	@rm -rf $(TEST_VAR_DIR)
	@mkdir -p $(TEST_VAR_DIR)
	@set +e; \
	VITRINE_VAR_DIR=$(TEST_VAR_DIR) HF_HUB_OFFLINE=1 $(PY) -m pytest $(PYTEST_ARGS); \
	rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests; that is a failure" >&2; fi; \
	exit $$rc

# Its own embedded servers under BENCH_VAR_DIR (wiped first), a Celery worker, gunicorn on
# 127.0.0.1:8090-8091 and wrk (installed from Debian when missing and we are root).
BENCH_VAR_DIR ?= /tmp/vt-bench
BENCH_ARGS ?=
BENCH_CACHE_DIR ?= $(HOME)/.cache/vitrine-bench

# Needs ../shared/data (fashion + esci) and wrk: without them it fails (exit 1) rather than
# pass on what it could not measure. The catalog's vectors are cached in BENCH_CACHE_DIR
# (only the first run embeds the ~100k product texts).
bench: setup ## performance at 100k products (~20 min): table + bench/results/latest.json
	@command -v wrk >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
		{ apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } || \
		echo "make bench: could not install wrk; the run will refuse to start without it" >&2
	HF_HUB_OFFLINE=1 $(PY) bench/run_bench.py --var-dir $(BENCH_VAR_DIR) \
		--cache-dir $(BENCH_CACHE_DIR) $(BENCH_ARGS)

# Not in CI: an hour by default, and root (it mounts a small tmpfs over its var dir's media/).
# Its own stack in SOAK_VAR_DIR (wiped first); one JSON verdict line; exit 1 when a check fails.
SOAK_MINUTES ?= 60
SOAK_VAR_DIR ?= /tmp/vt-soak
SOAK_ARGS ?=

soak: setup ## traffic + faults for SOAK_MINUTES (60): nothing lost, nothing left open (JSON verdict)
	HF_HUB_OFFLINE=1 $(PY) bench/run_soak.py --minutes $(SOAK_MINUTES) --var-dir $(SOAK_VAR_DIR) $(SOAK_ARGS)

lint: setup ## ruff check, ruff format --check, and the import contracts (lint-imports)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# Not in CI (.ci/run): it needs the advisory source (PyPI's JSON API, or AUDIT_ARGS='--service
# osv'), and a new advisory must not fail an unrelated change. Exit 2 when it could not audit.
AUDIT_ARGS ?=

audit: setup ## known vulnerabilities in the dependencies (pip-audit), less audit-allowlist.toml
	$(PY) -m config.audit $(AUDIT_ARGS)

format: setup ## ruff format + ruff check --fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean: ## stop everything and delete var/ (the dev shop's data, uploads, logs)
	@if [ -x $(PY) ]; then \
		VITRINE_VAR_DIR=$(CURDIR)/var $(PY) -m config.stack stop; \
		VITRINE_VAR_DIR=$(TEST_VAR_DIR) $(PY) -m config.stack stop; \
	fi
	rm -rf var
