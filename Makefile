# One entry point for people and CI. Each target creates .venv when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# The browser test's Chromium: CHROMIUM=/path/to/chromium, else a chromium on PATH.
CHROMIUM ?= $(shell command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null)
export CHROMIUM

.PHONY: demo where test lint bench fuzz notebooks chromium postgres clean

# What the app and the command need, and nothing else: a plain install, its progress shown.
$(BIN)/.app-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@echo "Installing residency and what the app needs into $(VENV) (first run: a few minutes)..."
	$(BIN)/python -m pip install -e .
	touch $@

# The development toolchain on top (tests, linter, notebooks, the browser driver).
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(BIN)/.app-installed $@

demo: $(BIN)/.app-installed  ## the app on the demo organisation: http://127.0.0.1:8501
	$(BIN)/residency app $(if $(INVENTORY),--inventory "$(INVENTORY)")

where: $(BIN)/.app-installed  ## the same answer in the terminal: where each client's data lives
	$(BIN)/residency where

# The browser test drives a system Chromium (never a downloaded browser build): the one
# CHROMIUM names or PATH finds; else Debian's, installed with apt-get when that is possible.
chromium:
	@if [ -n "$(CHROMIUM)" ]; then \
	  if [ -x "$(CHROMIUM)" ]; then echo "Browser test: $(CHROMIUM)"; \
	  else echo "CHROMIUM=$(CHROMIUM) is not an executable file."; exit 1; fi; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing Debian's chromium for the browser test (apt-get)..."; \
	  apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	else \
	  echo "The browser test needs Chromium, and none was found on PATH."; \
	  echo "Install it (Debian/Ubuntu, as root: apt-get install chromium; elsewhere: your"; \
	  echo "package manager's chromium), or name one: make test CHROMIUM=/path/to/chromium"; \
	  exit 1; \
	fi

# The store tests run on PostgreSQL too: tests/pg.py starts a throwaway server from Debian's
# binaries (or uses RESIDENCY_TEST_PG_URL); installed with apt-get when missing and possible.
# No system cluster is created: the tests make their own.
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then \
	  echo "PostgreSQL for the store tests: $$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null || command -v initdb)"; \
	elif [ -n "$$RESIDENCY_TEST_PG_URL" ] || [ "$$RESIDENCY_SKIP_PG" = 1 ]; then \
	  echo "PostgreSQL tests: RESIDENCY_TEST_PG_URL or RESIDENCY_SKIP_PG=1 is set"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing Debian's postgresql for the store tests (apt-get)..."; \
	  mkdir -p /etc/postgresql-common && \
	  { [ -e /etc/postgresql-common/createcluster.conf ] || \
	    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf; } && \
	  apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; \
	else \
	  echo "The store tests need PostgreSQL's server binaries (initdb), and none were found."; \
	  echo "Install them (Debian/Ubuntu, as root: apt-get install postgresql), or name a server:"; \
	  echo "RESIDENCY_TEST_PG_URL=postgresql://user@127.0.0.1:5432/postgres make test"; \
	  echo "(or skip those tests: RESIDENCY_SKIP_PG=1 make test)"; \
	  exit 1; \
	fi

test: $(BIN)/.installed chromium postgres  ## lint and type-check, then the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(BIN)/.installed  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

notebooks: $(BIN)/.installed  ## run the notebooks and save them with their outputs
	$(BIN)/python scripts/run_notebooks.py

bench: $(BIN)/.installed  ## the whole chain, stage by stage, at 1x, 10x, 100x and enterprise size
	$(BIN)/python benchmarks/bench_chain.py

FUZZ_CASES ?= 10000
fuzz: $(BIN)/.installed  ## >= 10,000 mutated inventories through check and export (see docs/reliability.md)
	$(BIN)/python scripts/fuzz.py --cases $(FUZZ_CASES) --workers 2

clean:
	rm -rf $(VENV) .residency build dist .pytest_cache .hypothesis
