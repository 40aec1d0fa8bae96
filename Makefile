# `make demo` and `make test` each set up .venv from nothing on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q

.PHONY: test demo bench lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first, pinned to the CPU build on local disk, so nothing pulls a CUDA build.
	$(PIP) torch==2.13.0
	$(PIP) -e '.[test,demo]'
	touch $@

test: $(VENV)/.installed
	$(PY) -m pytest -q

demo: $(VENV)/.installed
	$(PY) -m birnn.demo

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_bidirectional.py

lint: $(VENV)/.installed
	$(PIP) ruff
	$(PY) -m ruff check src tests benchmarks

clean:
	rm -rf $(VENV) demo-output
