# yilian — two commands: `make demo` (set up and serve the demo consortium) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
YILIAN := $(BIN)/yilian
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: demo test test-browser run worker lint fmt bench install migrate seed schema messages clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11 / Python 3.11 is required"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	@mkdir -p var
	$(YILIAN) migrate --no-input -v 0

seed: migrate
	$(YILIAN) seed-demo

## demo: install, migrate, load the demo county, run the worker and serve http://127.0.0.1:8000
demo: seed
	$(YILIAN) collectstatic --no-input -v 0
	$(YILIAN) referrals_sweep --schedule
	$(YILIAN) diagnostics_sweep --schedule
	$(YILIAN) family_doctors_sweep --schedule
	@echo "打开 http://$(HOST):$(PORT)/  (Ctrl-C 停止)"
	@# DEBUG off: an error page must not show a visitor the demo's patients (settings, request, locals).
	@trap 'kill 0' INT TERM EXIT; DEBUG=false $(YILIAN) db_worker >var/worker.log 2>&1 & DEBUG=false $(YILIAN) runserver $(HOST):$(PORT)

## test: lint, layering contracts, migrations check, API schema diff, the whole test suite
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(YILIAN) makemigrations --check --dry-run -v 0
	$(YILIAN) check
	YILIAN_ENV=production SECRET_KEY=check-deploy-only-$$(printf '%050d' 0) PERSON_IDENTIFIER_KEY=check-deploy-only-key-0000000000000 ALLOWED_HOSTS=example.org $(YILIAN) check --deploy --fail-level WARNING
	$(YILIAN) spectacular --file var/schema.yaml --validate --fail-on-warn
	@diff -u docs/api/openapi.yaml var/schema.yaml || { echo "OpenAPI schema changed: run 'make schema' and commit docs/api/openapi.yaml"; exit 1; }
	$(BIN)/python scripts/compile_messages.py --check
	$(BIN)/pytest -q -m "not browser" -n 2

## test-browser: end-to-end tests in Chromium (/usr/bin/chromium)
test-browser: $(STAMP)
	$(BIN)/pytest -q -m browser -p no:xdist

## run: serve the UI and API with the development server
run: migrate
	$(YILIAN) runserver $(HOST):$(PORT)

## worker: run background jobs
worker: migrate
	$(YILIAN) db_worker

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## schema: regenerate the committed OpenAPI schema
schema: $(STAMP)
	@mkdir -p docs/api
	$(YILIAN) spectacular --file docs/api/openapi.yaml --validate

## messages: extract and compile translations (needs no gettext: polib compiles)
messages: $(STAMP)
	$(BIN)/python scripts/compile_messages.py

## bench: figures, not tests (bench/README.md); BENCH_REFERRALS= runs the referral API bench on PostgreSQL
BENCH_REFERRALS ?= --sqlite
bench: migrate
	$(BIN)/python bench/run.py
	$(BIN)/python bench/referrals.py $(BENCH_REFERRALS)
	$(BIN)/python bench/primary_care.py --sqlite
	$(BIN)/python bench/ingest.py --rows 20000 --memory-rows 20000,100000 --no-postgres

clean:
	rm -rf var/test.sqlite3 var/schema.yaml
