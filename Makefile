# One entry point for people and CI. Each target creates .venv when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo where test lint bench fuzz clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/.installed  ## the app on the demo organisation: http://127.0.0.1:8501
	$(BIN)/residency app $(if $(INVENTORY),--inventory "$(INVENTORY)")

where: $(BIN)/.installed  ## the same answer in the terminal: where each client's data lives
	$(BIN)/residency where

# The browser test drives Debian's Chromium (never a downloaded browser build).
/usr/bin/chromium:
	@echo "Installing Debian's chromium for the browser test (needs root and apt-get)..."
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

test: $(BIN)/.installed /usr/bin/chromium  ## lint, then the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(BIN)/.installed  ## the whole chain, stage by stage, at 1x, 10x, 100x and enterprise size
	$(BIN)/python benchmarks/bench_chain.py

FUZZ_CASES ?= 10000
fuzz: $(BIN)/.installed  ## >= 10,000 mutated inventories through check and export (see docs/reliability.md)
	$(BIN)/python scripts/fuzz.py --cases $(FUZZ_CASES) --workers 2

clean:
	rm -rf $(VENV) .residency build dist .pytest_cache .hypothesis
