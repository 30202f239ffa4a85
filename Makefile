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
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

NOTEBOOKS := 01_data 02_vae_pretraining 03_distill 05_evaluation

.PHONY: setup reproduce notebooks test unit nbval lint format bench clean

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

test: setup unit nbval

unit:
	$(PY) -m pytest -q tests

nbval:
	$(PY) -m pytest -q --nbval --nbval-current-env --nbval-cell-timeout=1800 \
		--nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider notebooks

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
