# Two commands for a fresh machine (Python 3.11 + make): `make reproduce`, `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PRESET ?= default
RUN_DIR ?=
TORCH_PIN := torch==2.13.0
export OMP_NUM_THREADS ?= 2
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export PYDEVD_DISABLE_FILE_VALIDATION := 1

NOTEBOOKS := 01_data 02_vae_pretraining 03_distill 05_evaluation

.PHONY: setup reproduce notebooks test unit nbval results-check lint format bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: the CPU wheel; an unpinned torch pulls gigabytes of CUDA wheels
	$(PY) -m pip install -q "$(TORCH_PIN)"
	$(PY) -m pip install -q -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

setup: $(VENV)/.installed

# Run every chapter in order at $(PRESET), leaving executed notebooks under
# runs/$(PRESET)/notebooks (or $(RUN_DIR)/notebooks when RUN_DIR is given, which then
# also holds that run's figures and tables).
reproduce: setup
	$(PY) -m nar_slp.reproduce --preset $(PRESET) $(if $(RUN_DIR),--run-dir $(RUN_DIR)) \
		$(foreach nb,$(NOTEBOOKS),notebooks/$(nb).ipynb)

# Re-execute the chapters in place at the default preset (the committed outputs).
notebooks: setup
	$(PY) -m nar_slp.reproduce --preset default --in-place $(foreach nb,$(NOTEBOOKS),notebooks/$(nb).ipynb)

# The chapters re-executed by nbval write into $(NBVAL_RUN) (NAR_SLP_RUN_DIR), never
# into the committed results/ and figures/; chapter 05 then compares that run's tables
# with the committed ones within tolerance (nar_slp.results_check).
NBVAL_RUN := $(CURDIR)/runs/nbval

test: setup unit nbval

unit:
	MPLBACKEND=Agg $(PY) -m pytest -q tests

nbval:
	rm -rf $(NBVAL_RUN)
	NAR_SLP_RUN_DIR=$(NBVAL_RUN) $(PY) -m pytest -q --nbval --nbval-current-env \
		--nbval-cell-timeout=1800 --nbval-sanitize-with notebooks/sanitize.cfg \
		-p no:cacheprovider notebooks

# Compare any run's tables with the committed ones: make results-check RUN=runs/x/results
results-check: setup
	$(PY) -m nar_slp.results_check check $(RUN) --reference results/default

lint: setup
	$(VENV)/bin/ruff check nar_slp tests benchmarks
	$(VENV)/bin/ruff format --check nar_slp tests benchmarks

format: setup
	$(VENV)/bin/ruff format nar_slp tests benchmarks
	$(VENV)/bin/ruff check --fix nar_slp tests benchmarks

bench: setup
	$(PY) benchmarks/bench_data.py

clean:
	rm -rf runs .pytest_cache
