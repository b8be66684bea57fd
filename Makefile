# Backline: the two commands of the quick start are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
export BACKLINE_DB ?= $(CURDIR)/.backline/demo.db
export BACKLINE_CONFIG ?= $(CURDIR)/.backline/config.toml

.PHONY: run test bench demo rt-deps clean lint

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test]'
	touch $@ $(STAMP)

demo: $(STAMP)
	@mkdir -p .backline
	@test -s "$(BACKLINE_DB)" || $(VENV)/bin/backline demo

run: demo
	$(VENV)/bin/backline

# Request Tracker 5 from Debian packages, for the sync tests (needs root the first time).
rt-deps:
	bash scripts/rt-install.sh

lint: $(TEST_STAMP)
	$(VENV)/bin/lint-imports

test: $(TEST_STAMP) rt-deps
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .backline
