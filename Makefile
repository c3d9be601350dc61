# The two commands of the quick start, and their helpers. Everything installs into .venv
# from this repository's own files; PyTorch comes from the pinned CPU build (never let a
# resolver pick plain `torch`: that is a multi-GB CUDA download).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: report test lint backends audit-full accuracy-table bench bench-quick screenshot clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -e '.[test]'
	touch $@

## report: the main job, the report of every function and its accuracy audit
report: $(VENV)/.installed
	$(VENV)/bin/actlab report

## test: lint, then the test suite (warnings are errors; 2 workers)
test: $(VENV)/.installed lint
	$(VENV)/bin/pytest -n 2 --dist loadgroup

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

## backends: the optional array libraries whose tests otherwise skip (PyTorch CPU, JAX, Dask)
backends: $(VENV)/.installed
	$(PIP) torch==2.13.0
	$(PIP) 'jax[cpu]>=0.4.30'
	$(PIP) 'dask[array]>=2024.8'

## audit-full: the whole-float-range audit (every finite float16, dense float32/float64)
audit-full: $(VENV)/.installed
	$(VENV)/bin/pytest -n 2 -m full --full

## accuracy-table: regenerate docs/accuracy-table.md from the full audit
accuracy-table: $(VENV)/.installed
	$(VENV)/bin/actlab audit --full > docs/accuracy-table.md

## bench: the CPU benchmark suite against the peers → BENCHMARKS.md (~10-13 min; run it on a quiet machine)
bench: backends
	$(PIP) -e '.[bench]'
	OMP_WAIT_POLICY=PASSIVE $(VENV)/bin/actlab bench

## bench-quick: a smoke run of the suite at smaller sizes (under a minute), not the anchors
bench-quick: backends
	$(PIP) -e '.[bench]'
	OMP_WAIT_POLICY=PASSIVE $(VENV)/bin/actlab bench --quick -o /tmp/BENCHMARKS-quick.md

## screenshot: the README's picture of the report, taken in headless Chromium
screenshot: $(VENV)/.installed
	test -f actlab-report/index.html || $(VENV)/bin/actlab report
	$(PY) tests/browser.py actlab-report/index.html docs/report-screenshot.png

clean:
	rm -rf $(VENV) actlab-report .pytest_cache .ruff_cache .hypothesis
