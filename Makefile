# storelab: `make demo` sets everything up and runs the whole loop; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast e2e screenshots lint format bench bench-analyze bench-load bench-usability validate browser lake-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,spark]'
	touch $(STAMP)

install: $(STAMP)

## The whole loop on simulated pilot data in ./demo-lab, then served on http://localhost:$(PORT)
demo: $(STAMP)
	$(VENV)/bin/storelab demo --lab demo-lab --port $(PORT)

## Debian's chromium (+ colour emoji font) for the browser tests; never `playwright install`
browser:
	@command -v chromium >/dev/null 2>&1 && [ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
	    apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; \
	  else echo "Browser tests need: sudo apt-get install chromium fonts-noto-color-emoji"; fi; }

## PostgreSQL (the lake tests start a throwaway catalog) and Java 17 (the Spark test)
lake-deps:
	@{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v java >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ]; then mkdir -p /usr/share/man/man1 && apt-get update -qq && \
	    apt-get install -y -qq --no-install-recommends postgresql openjdk-17-jre-headless >/dev/null; \
	  else echo "Lake and Spark tests need: sudo apt-get install postgresql openjdk-17-jre-headless"; fi; }

## All tests: unit, CLI, statistics, AppTest pages, the browser suite, the lake and Spark
test: $(STAMP) browser lake-deps
	$(PY) -m pytest -q

## Everything but the browser suite
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not e2e"

e2e: $(STAMP) browser
	$(PY) -m pytest -q -m e2e

## Refresh the pictures in docs/screenshots from the browser suite
screenshots: $(STAMP) browser
	STORELAB_SCREENSHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest -q -m e2e

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) bench/run_all.py

## The statistics' validation study (known truth; ~1500 pilots per row): table to stdout and README.md
validate: $(STAMP)
	$(PY) bench/validate.py --runs $(or $(RUNS),1500) --readme README.md

## `experiment analyze --json` on EVENTS events (lab made once in bench/out) vs a bare GROUP BY
EVENTS ?= 10000000
bench-analyze: $(STAMP)
	$(PY) bench/analyze_scale.py --events $(EVENTS)

## N customers at once on one `prototype run` server (headless chromium), and spool append latency
bench-load: $(STAMP) browser
	$(PY) bench/load.py --customers 10,20

## A usability report against `experiment analyze` on one simulated lab (SESSIONS=1000000 for the goal)
SESSIONS ?= 100000
bench-usability: $(STAMP)
	$(PY) bench/usability_scale.py --sessions $(SESSIONS)

clean:
	rm -rf $(VENV) demo-lab .pytest_cache .ruff_cache
