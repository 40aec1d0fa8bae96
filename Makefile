# `make demo`, `make test` and `make docs` each set up .venv from nothing on a fresh machine.
#
# torch is installed first, on its own, so that its build is the one you chose:
#   make test                     pip's default: on this workplace a CPU wheel from local disk;
#                                 elsewhere PyPI's torch 2.13.0 (CUDA wheels on Linux x86_64)
#   make test TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
#                                 PyTorch's own CPU wheel index (needs access to that host)
PYTHON ?= python3
TORCH ?= torch==2.13.0
TORCH_INDEX_URL ?=
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q

.PHONY: test demo demo-results docs bench lint dist clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) '$(TORCH)' $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	$(PIP) -e '.[test,demo]'
	touch $@

$(VENV)/.docs-installed: $(VENV)/.installed
	$(PIP) -e '.[docs]'
	touch $@

test: $(VENV)/.installed
	$(PY) -m pytest -q

demo: $(VENV)/.installed
	$(PY) -m birnn.demo

# The full seed-0 run whose numbers the README quotes (tests/demo/test_readme_numbers.py).
demo-results: $(VENV)/.installed
	$(PY) -m birnn.demo --out demo-output
	mkdir -p docs/demo
	cp demo-output/metrics.json demo-output/learning_curves.png docs/demo/

# --strict: a broken reference, link or docstring fails the build.
docs: $(VENV)/.docs-installed
	$(PY) -m mkdocs build --strict --site-dir site

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_bidirectional.py

lint: $(VENV)/.installed
	$(PIP) ruff
	$(PY) -m ruff check src tests benchmarks docs

# Builds the sdist and wheel into dist/ and checks them (see .ci/check_dist.sh).
dist: $(VENV)/.installed
	.ci/check_dist.sh

clean:
	rm -rf $(VENV) demo-output site dist build
