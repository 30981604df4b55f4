# Learnloop: the README's commands. CI runs `.ci/run`, which runs `make lint types` then `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")

.DEFAULT_GOAL := help
.PHONY: help install demo serve test check lint types format bench chromium clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

# Dependencies exactly as locked (hash-checked), reinstalled when the lock or pyproject changes.
$(STAMP): requirements.lock pyproject.toml
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	test -x $(BIN)/python || $(UV) venv --quiet --python 3.11 $(VENV)
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: $(STAMP) ## install the locked dependencies into .venv

demo: install ## run the app with demo data (embedded SQLite, Redis and S3; nothing else to set up)
	$(BIN)/learnloop demo

serve: install ## run the app on the configured (or embedded) services
	$(BIN)/learnloop serve

chromium: ## install Debian's Chromium for the browser tests when it is missing
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian chromium for the end-to-end tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: install chromium ## run every test: unit, API (SQLite + PostgreSQL), UI, integration, browser
	$(BIN)/python -m pytest

lint: install ## ruff
	$(BIN)/ruff check backend pwa tests benchmarks
	$(BIN)/ruff format --check backend pwa tests benchmarks

types: install ## mypy on backend/
	$(BIN)/mypy

check: lint types test ## lint + types + tests: exactly what CI runs

format: install ## apply ruff's formatting and fixes
	$(BIN)/ruff check --fix backend pwa tests benchmarks
	$(BIN)/ruff format backend pwa tests benchmarks

bench: install ## run the benchmarks (figures go in docs/benchmarks.md)
	$(BIN)/python -m benchmarks.run

clean: ## remove the virtualenv and caches (keeps var/ and media/)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
