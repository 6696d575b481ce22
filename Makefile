# The two commands people need are `make run` and `make test`; the rest support them.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.13 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# The embedded default for `make run`: SQLite and files under var/, mail to var/mail/.
PORT ?= 8000
DEV_ENV := DEBUG=1 PORT=$(PORT) APP_URL=http://127.0.0.1:$(PORT)
# loadgroup keeps the journeys (which start one portal per worker) on a single worker.
PYTEST_ARGS ?= -n auto --dist loadgroup

.PHONY: run install test test-fast test-smoke lint format lock check-deploy bench scale-demo clean

run: install
	$(DEV_ENV) $(PY) manage.py migrate --no-input -v0
	$(DEV_ENV) $(PY) manage.py load_demo
	$(DEV_ENV) bin/run-dev

install: $(VENV)/.installed node_modules/.installed .env

# A local checkout runs in development mode: plain `manage.py …` works. Git-ignored; the
# real environment always wins (production sets DEBUG=0 and SECRET_KEY).
.env:
	printf '# Local development settings (git-ignored). See .env.example for every name.\nDEBUG=1\n' > $@

$(VENV)/.installed: requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 13), "Python 3.13 is required (see .python-version)"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

test: install
	bin/ensure-chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# Everything but the browser tests (no Chromium needed): for quick local runs.
test-fast: install
	$(PY) -m pytest -m "not browser and not journey" $(PYTEST_ARGS)

# The quick subset CI also runs against SQLite.
test-smoke: install
	$(PY) -m pytest -m smoke $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DEBUG=1 $(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Regenerates requirements.lock (with hashes) from pyproject.toml.
lock:
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.13 --generate-hashes -o requirements.lock

check-deploy: install
	DEBUG=0 SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	  ALLOWED_HOSTS=portal.example.com APP_URL=https://portal.example.com SMTP_HOST=smtp.example.com \
	  $(PY) manage.py check --deploy --fail-level WARNING

# Benchmark: BENCH_TICKETS tickets in their own database portal_bench_<n> on DATABASE_URL's
# PostgreSQL server, then latency, SQL counts, EXPLAIN and a load run. Results go to
# bench/results/*.json and a table appended to docs/benchmarks.md.
# BENCH_ARGS go to run.py, e.g. the 1M run of docs/benchmarks.md:
#   make bench BENCH_TICKETS=1000000 BENCH_ARGS="--load-steps 5,10,20,30 --load-seconds 300"
BENCH_TICKETS ?= 10000
BENCH_ARGS ?=
bench: install
	BENCH_TICKETS=$(BENCH_TICKETS) $(PY) bench/generate.py --reuse
	BENCH_TICKETS=$(BENCH_TICKETS) $(PY) bench/run.py $(BENCH_ARGS)

# More than one machine on one machine, with its checks (docs/scaling.md): HAProxy, two app
# servers, two workers, PostgreSQL primary + replica behind pgbouncer, Redis. A few minutes.
scale-demo: install
	bin/scale-demo

clean:
	rm -rf $(VENV) node_modules var
