# Two set-up commands: `make demo` (the whole system on one machine: an embedded PostgreSQL, the web server, a Celery
# worker and beat, on http://127.0.0.1:8000) and `make test` (the whole suite on the local PostgreSQL and Redis).
# Both work from a bare clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATABASE_URL ?= postgres://root@127.0.0.1:5432/test
REDIS_URL ?= redis://127.0.0.1:6379/9
PYTEST_ARGS ?=
WORKERS ?= 2
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: demo demo-reset test install system-deps serve migrate bench messages check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# Debian packages the tests use: Chromium for the browser tests, gettext for the French catalogue,
# pgbench and wrk for the benchmarks, Pango and HarfBuzz for WeasyPrint's invoice PDFs. Installed only when missing.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	command -v pgbench >/dev/null || missing="$$missing postgresql-client"; \
	ldconfig -p | grep libpangoft2-1.0 >/dev/null || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

# PORT and HOST choose where it serves; DATABASE_URL and REDIS_URL, when set in the environment, replace the embedded
# PostgreSQL and the file broker. Data stays in .demo/ (OMS_DEMO_DIR) from one run to the next.
demo: install
	$(BIN)/python -m oms.demo

# Deletes the demo's data and starts over (refused while a demo runs on it).
demo-reset: install
	$(BIN)/python -m oms.demo --reset

test: install system-deps
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) OMS_WEBHOOK_ALLOW_PRIVATE=1 \
	  $(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup $(PYTEST_ARGS)

bench: install system-deps
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(BIN)/python bench/run.py
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(BIN)/python bench/orders.py
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(BIN)/python bench/routing.py
	DATABASE_URL=$(DATABASE_URL) $(BIN)/python bench/reporting.py

messages: install
	$(BIN)/python manage.py makemessages -l fr --no-obsolete --ignore=.venv --ignore=staticfiles
	$(BIN)/python manage.py compilemessages -l fr --ignore=.venv

# Django's system checks, no model change without its migration, lint and format (ruff) and the import contracts
# (import-linter, configured in pyproject.toml). CI runs it before the tests. `ruff format .` formats the tree.
check: install
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(BIN)/python manage.py check
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) staticfiles
