# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test audit lint bench fuzz badinput clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("civicwatch needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

## Load and code our sample corpus into ./civicwatch.db, then serve the site on http://127.0.0.1:8000.
demo: $(VENV)/.installed
	$(BIN)/civicwatch demo

## Lint, type-check and run the whole test suite (SQLite and PostgreSQL).
test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python .ci/audit_dependencies.py
	$(BIN)/pytest

## Known vulnerabilities in the installed dependencies (pip-audit); says plainly when PyPI cannot be reached.
audit: $(VENV)/.installed-dev
	$(BIN)/python .ci/audit_dependencies.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

## Benchmarks: each writes its figures to benchmarks/results/.
bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/collect.py

## Fuzz each parser with atheris for FUZZ_SECONDS (default 10 minutes each); crashing inputs land in fuzz/.work/.
FUZZ_SECONDS ?= 600
fuzz: $(VENV)/.installed-dev
	for target in split coder dates names feeds pages; do \
		$(BIN)/python fuzz/fuzz_$$target.py -max_total_time=$(FUZZ_SECONDS) -timeout=30 || exit 1; \
	done

## The bad-input corpus at full size (100 MB page, 1 GB gzip bomb, 2 GB files); CI runs smaller ones over the caps.
badinput: $(VENV)/.installed-dev
	CIVICWATCH_BADINPUT_FULL=1 $(BIN)/pytest -q tests/test_badinput.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
