# Every target creates .venv and installs what it needs: `make demo` and `make test` are the only
# two commands a fresh machine needs.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# pip never resolves another torch: the torch extra pins the CPU wheel on disk.
PIP_FLAGS ?= --disable-pip-version-check --quiet
PYTEST_WORKERS ?= auto

.PHONY: help venv demo test test-slow test-all lint fmt docs bench gadgets clean

help:
	@echo "make demo       run the lifecycle demo on bundled data (creates .venv)"
	@echo "make test       the test suite, slow cases excluded (creates .venv)"
	@echo "make test-slow  only the slow cases"
	@echo "make lint       ruff and mypy"
	@echo "make docs       regenerate docs/rules.md and docs/report.schema.json"
	@echo "make bench      run benchmarks/ (see benchmarks/README.md)"
	@echo "make gadgets    re-sweep the installed libraries into scan/pickle/gadgets.py (review the diff)"

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install $(PIP_FLAGS) --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install $(PIP_FLAGS) -e '.[demo,scan,sign,provenance,registry,data]'
	$(PY) -m compileall -q src/mlwarden >/dev/null
	@touch $@

$(VENV)/.dev-installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install $(PIP_FLAGS) -e '.[dev,scan,torch,sign,provenance,registry,postgres,serve,data]'
	$(PY) -m compileall -q src/mlwarden >/dev/null
	@touch $@ $(VENV)/.demo-installed

venv: $(VENV)/.dev-installed

demo: $(VENV)/.demo-installed
	$(VENV)/bin/mlwarden demo --out mlwarden-demo

# pytest caches its assertion-rewritten test modules as bytecode: allowed here even where
# PYTHONDONTWRITEBYTECODE is set, so a second run does not rewrite 250 modules again.
test: $(VENV)/.dev-installed
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -m "not slow" -n $(PYTEST_WORKERS) -q

test-slow: $(VENV)/.dev-installed
	$(PY) -m pytest -m slow -q

test-all: $(VENV)/.dev-installed
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

docs: $(VENV)/.dev-installed
	$(VENV)/bin/mlwarden rules --markdown > docs/rules.md.tmp && mv docs/rules.md.tmp docs/rules.md
	$(PY) -m mlwarden.report.schema > docs/report.schema.json.tmp && mv docs/report.schema.json.tmp docs/report.schema.json
	$(PY) -m mlwarden.core.evidence > docs/evidence.md.tmp && mv docs/evidence.md.tmp docs/evidence.md

bench: $(VENV)/.dev-installed
	$(PY) benchmarks/run.py

gadgets: $(VENV)/.dev-installed
	PYTHONPATH=src:. $(PY) -m tests.scan.pickle.gadget_sweep --write

clean:
	rm -rf $(VENV) mlwarden-demo .pytest_cache .mypy_cache .ruff_cache
