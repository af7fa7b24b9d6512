# Two set-up commands: `make demo` (embedded SQLite, eager Celery, http://127.0.0.1:8000) and `make test`
# (the whole suite on the local PostgreSQL and Redis). Both work from a bare clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATABASE_URL ?= postgres://root@127.0.0.1:5432/test
REDIS_URL ?= redis://127.0.0.1:6379/9
PYTEST_ARGS ?=
WORKERS ?= 2
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: demo test install system-deps serve migrate bench messages check clean

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

demo: install
	env -u DATABASE_URL -u REDIS_URL DEBUG=1 $(BIN)/python manage.py migrate --noinput
	env -u DATABASE_URL -u REDIS_URL DEBUG=1 $(BIN)/python manage.py seed_demo
	env -u DATABASE_URL -u REDIS_URL DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

test: install system-deps
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) OMS_WEBHOOK_ALLOW_PRIVATE=1 \
	  $(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup $(PYTEST_ARGS)

bench: install system-deps
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(BIN)/python bench/run.py
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(BIN)/python bench/orders.py

messages: install
	$(BIN)/python manage.py makemessages -l fr --no-obsolete --ignore=.venv --ignore=staticfiles
	$(BIN)/python manage.py compilemessages -l fr --ignore=.venv

# Django's system checks, no model change without its migration, lint (ruff) and the import contracts
# (import-linter, configured in pyproject.toml). CI runs it before the tests.
check: install
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(BIN)/python manage.py check
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles
