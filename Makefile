# Backline: the two commands of the quick start are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
export BACKLINE_DB ?= $(CURDIR)/.backline/demo.db
export BACKLINE_CONFIG ?= $(CURDIR)/.backline/config.toml

.PHONY: run test bench demo rt-deps clean lint constraints

# Everything installs from constraints.txt (exact versions), so a fresh clone a year from now
# gets the Textual and Rich the snapshots were drawn with, not whatever is newest.
PIP_INSTALL := $(PY) -m pip install -q -c constraints.txt

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q pip==26.3

$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PIP_INSTALL) -e .
	touch $@

$(TEST_STAMP): pyproject.toml constraints.txt | $(PY)
	$(PIP_INSTALL) -e '.[test]'
	touch $@ $(STAMP)

# After a dependency change in pyproject.toml: install, then write the exact versions back.
constraints: $(TEST_STAMP)
	{ sed -n '/^#/p;/^pip==/p' constraints.txt; $(PY) -m pip freeze --exclude-editable | grep -v '^backline-tui'; } > constraints.new
	mv constraints.new constraints.txt

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

bench: $(TEST_STAMP)  # the test extras hold the references the benchmarks measure against
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .backline
