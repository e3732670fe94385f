# The two entry points of the README: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-postgres setup browser lint benchmarks clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/coopwatch demo

# Debian's headless Chromium and its driver for tests/test_browser.py (we run as root);
# `apt-get update` only when the package lists are too old or empty. Without them the
# browser test skips itself with a message, the rest of the suite still runs.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q chromium chromium-driver \
		|| { apt-get update -q && apt-get install -y -q chromium chromium-driver; } \
		|| echo "WARNING: could not install chromium and chromium-driver; the browser test will be skipped"; \
	fi

test: setup browser
	$(BIN)/python -m pytest

# Every test that touches a database again, each on a database of its own on the PostgreSQL
# server (COOPWATCH_TEST_POSTGRES, default postgres@127.0.0.1:5432); skipped, saying so, when
# no server answers there.
PG_ADMIN ?= $(or $(COOPWATCH_TEST_POSTGRES),postgresql+psycopg://postgres@127.0.0.1:5432/postgres)
test-postgres: setup
	@if $(BIN)/python -c "import sqlalchemy; sqlalchemy.create_engine('$(PG_ADMIN)').connect().close()" 2>/dev/null; then \
		COOPWATCH_TEST_DATABASE=postgresql $(BIN)/python -m pytest; \
	else \
		echo "SKIPPED make test-postgres: no PostgreSQL server answers at $(PG_ADMIN)"; \
	fi

lint: setup
	$(BIN)/ruff check --select E,F,W --ignore E501 pipeline models crawlers dashboard tests benchmarks
	$(BIN)/mypy --ignore-missing-imports pipeline models

benchmarks: setup
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var
