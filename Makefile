# Two commands a newcomer needs (see README.md). Both create or reuse ./.venv.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python

.PHONY: demo test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(PY) examples/main.py

# The suite is compile-bound and one pytest process keeps about 1.3 cores busy: one
# worker per core (at most 4, tests/conftest.py), whole test files per worker so
# the tests of a file share their compiled programs (pytest-xdist).
test: $(VENV)/.installed
	$(PY) -m pytest -n auto --dist loadfile

bench: $(VENV)/.installed
	$(PY) -m pip install -q -e ".[bench]"
	for f in bench/*_bench.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) output
