# Kehu — the two commands: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: help run test test-sqlite test-postgres test-browser lint bench bench-import messages system-deps venv clean

help:
	@echo "make run    start Kehu with SQLite and demo data on http://127.0.0.1:$(PORT)"
	@echo "make test   lint, the whole suite on SQLite and PostgreSQL, browser tests"
	@echo "make bench  generate 1M customers and measure (takes a while)"
	@echo "make bench-pg     the same 1M data (copied from the SQLite bench) and pages on PostgreSQL"
	@echo "make bench-mixed  PostgreSQL, 2 web + 2 task workers: 80% reads, 20% writes for 60 s"
	@echo "make bench-pg-stop  stop the benchmark's PostgreSQL cluster (its data stays in var/bench-pg/)"
	@echo "make bench-import  time a 100,000-row import from CSV and Excel"
	@echo "make bench-memory  resident memory of the web workers after start and after pages"
	@echo "make bench-throughput  customer list with 8 clients (a copy of the 1M database)"

# The virtualenv is rebuilt when the lock file changes.
$(VENV)/.installed: requirements.lock
	@scripts/ensure-venv.sh $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.lock
	touch $@

venv: $(VENV)/.installed

run: venv
	scripts/run.sh $(PORT)

# System packages the tests need (Chromium, PostgreSQL, CJK fonts, gettext, Pango for PDFs, pdftotext).
system-deps:
	@scripts/system-deps.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) scripts/check-translations.py

test-sqlite: venv
	$(VENV)/bin/pytest -n 2 --dist worksteal --durations=10 -m "not browser" -q

# Three workers on two cores: each waits on the PostgreSQL server part of the time.
test-postgres: venv
	scripts/with-postgres.sh $(VENV)/bin/pytest -n 3 --dist worksteal --durations=10 -m "not browser" -q

test-browser: venv
	$(VENV)/bin/pytest -m browser -q

test: system-deps venv lint test-sqlite test-postgres test-browser

bench: venv
	$(PY) bench/run.py

bench-import: venv
	$(PY) bench/import_bench.py

# PostgreSQL: the cluster under var/bench-pg/ keeps running between runs (and the loaded database).
.PHONY: bench-pg bench-mixed bench-pg-stop
bench-pg: venv
	$(PY) bench/run.py --database postgres

bench-mixed: venv
	$(PY) bench/mixed_load.py

bench-pg-stop:
	$(PY) bench/pg_cluster.py stop

.PHONY: bench-memory bench-throughput
bench-memory: venv
	$(PY) bench/memory_bench.py

bench-throughput: venv
	$(PY) bench/throughput_bench.py

messages: venv
	$(PY) manage.py makemessages -l zh_Hans -l en --no-obsolete --no-location -i ".venv/*" -i "bench/*" -i "staticfiles/*" -i "var/*"
	$(PY) manage.py compilemessages -i .venv

clean:
	rm -rf $(VENV) var staticfiles
