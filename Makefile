# cohortbot: `make run` starts the bot on SQLite, `make test` runs lint and tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test coverage lint format typecheck browser bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "cohortbot needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/cohortbot db upgrade
	$(BIN)/cohortbot serve

lint: install
	$(BIN)/ruff check bot adapters flows storage tests benchmarks
	$(BIN)/ruff format --check bot adapters flows storage tests benchmarks
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

# The page tests drive Debian's chromium through Playwright (no browser downloads).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's chromium for the browser tests..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Debian's chromium: sudo apt-get install chromium"; \
	  fi; }

# Tests run on every core: each worker has its own SQLite files and PostgreSQL database.
test: lint typecheck browser
	$(BIN)/pytest -n auto

coverage: install browser
	$(BIN)/pytest -n auto --cov=bot --cov=adapters --cov=flows --cov=storage --cov-report=term:skip-covered

format: install
	$(BIN)/ruff format bot adapters flows storage tests benchmarks
	$(BIN)/ruff check --fix bot adapters flows storage tests benchmarks

bench: install
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
