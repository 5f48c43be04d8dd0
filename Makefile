# pruninglab — two commands for users:  make lab   |   make test
# Both create .venv (once) from the pinned requirements and install the package (editable).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.pruninglab-installed
LAB_ARGS ?=
PYTEST_ARGS ?=
# Notebook tests: strict nbval, outputs sanitized by tests/nbval_sanitize.cfg.
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=300
export PYTHONHASHSEED := 0
# Running as root (containers, CI) needs --allow-root for Jupyter.
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: lab test test-unit test-notebooks test-browser test-sliders install bench bench-browser fonts index notebooks clean help nbgrader-venv test-nbgrader

help:
	@echo "make lab        - install (first time) and open JupyterLab on notebooks/00_start_here.ipynb"
	@echo "make test       - install (first time), then unit tests + nbval on every notebook + browser test"
	@echo "make test-unit / test-notebooks / test-browser - the three parts on their own"
	@echo "make test-sliders - every slider of every notebook moved in-process (also part of make test)"
	@echo "make bench      - run the benchmark suite (benchmarks/README.md)"
	@echo "make test-nbgrader - course release through the real nbgrader CLI (separate venv)"
	@echo "make bench-browser - slider latency measured in headless Chromium, every notebook (slow)"

install: $(STAMP)

$(STAMP): requirements.txt requirements-lock.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c requirements-lock.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -c "import torch, numpy, pruninglab; print('pruninglab env ready: torch', torch.__version__, 'numpy', numpy.__version__)"
	@touch $(STAMP)

# Project Jupyter config (jupyter/): no news pop-up, no update check. Settings changed in
# JupyterLab go to build/jupyter (a copy made once), never into jupyter/.
LAB_ENV := JUPYTER_CONFIG_DIR=$(CURDIR)/jupyter JUPYTERLAB_SETTINGS_DIR=$(CURDIR)/build/jupyter/user-settings \
	JUPYTERLAB_WORKSPACES_DIR=$(CURDIR)/build/jupyter/workspaces

# Chinese text needs a CJK font (Debian fonts-noto-cjk); installed when root, else a hint.
fonts:
	@if command -v fc-list >/dev/null && [ -n "$$(fc-list :lang=zh)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends fonts-noto-cjk >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends fonts-noto-cjk >/dev/null 2>&1; } || \
	  echo "note: could not install fonts-noto-cjk: Chinese text may show as boxes"; \
	else echo "note: no CJK font; Chinese text may show as boxes (sudo apt-get install fonts-noto-cjk)"; fi

lab: $(STAMP) fonts
	@mkdir -p build/jupyter/user-settings && cp -rn jupyter/lab/user-settings/. build/jupyter/user-settings/
	$(LAB_ENV) $(BIN)/jupyter lab $(ROOT_FLAG) notebooks/00_start_here.ipynb $(LAB_ARGS)

# Two pytest-xdist workers on two cores: one BLAS/OpenMP thread each unless the caller says
# otherwise (notebooks pin torch to one thread anyway; `OMP_NUM_THREADS=2 make test` also passes).
test test-notebooks: export OMP_NUM_THREADS ?= 1
# every slider of every notebook is moved in-process (tests/test_notebook_sliders.py, ~20 s once
# the instructor builds have filled the cache)
test: export PRUNINGLAB_ALL_SLIDERS ?= 1
test: $(STAMP) nbgrader-venv fonts
	@# bytecode once (PYTHONDONTWRITEBYTECODE may be set): each of the ~50 kernels and CLIs
	@# started by the tests would otherwise recompile the package (~0.4 s each)
	$(BIN)/python -m compileall -q pruninglab benchmarks
	$(BIN)/python -m pytest tests notebooks instructor $(NBVAL) -n 2 --dist loadscope --no-loadscope-reorder -ra $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests -m "not browser" $(PYTEST_ARGS)

test-notebooks: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL) notebooks instructor -n 2 --dist loadscope --no-loadscope-reorder $(PYTEST_ARGS)

test-browser: $(STAMP) fonts
	$(BIN)/python -m pytest tests -m browser -v $(PYTEST_ARGS)

bench-browser: $(STAMP) fonts
	$(BIN)/python -m benchmarks.bench_browser_sliders $(BENCH_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run_all
	PRUNINGLAB_ALL_SLIDERS=1 $(BIN)/python -m pytest tests/test_notebook_sliders.py -q $(PYTEST_ARGS)

# every slider of every notebook 00-09 moved in-process, the view must change (also in make test)
test-sliders: $(STAMP)
	PRUNINGLAB_ALL_SLIDERS=1 $(BIN)/python -m pytest tests/test_notebook_sliders.py -v $(PYTEST_ARGS)

notebooks: $(STAMP)
	$(BIN)/python tools/nbbuild.py --all

index: $(STAMP)
	$(BIN)/python tools/make_index.py

# nbgrader in a separate small venv (build/nbgrader-venv) that reuses the project's packages via
# a .pth file: the shared .venv and its pins stay as they are (see requirements-nbgrader.txt).
NBG_VENV := build/nbgrader-venv
nbgrader-venv: $(STAMP) requirements-nbgrader.txt
	@test -x $(NBG_VENV)/bin/python || $$($(BIN)/python -c "import sys; print(sys.base_prefix)")/bin/python3 -m venv $(NBG_VENV)
	$(BIN)/python -c "import site; print(site.getsitepackages()[0])" > $$($(NBG_VENV)/bin/python -c "import site; print(site.getsitepackages()[0])")/_project_venv.pth
	$(NBG_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-nbgrader.txt -c requirements-lock.txt

test-nbgrader: nbgrader-venv
	$(BIN)/python -m pytest tests/test_grading_nbgrader.py -v $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) test-output
