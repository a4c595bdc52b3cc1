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

test: $(VENV)/.installed
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) -m pip install -q -e ".[bench]"
	for f in bench/*_bench.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) output
