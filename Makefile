# Two commands for a fresh machine (Python 3.11 + make): `make reproduce`, `make test`;
# `make retrain` trains the committed run's models again.
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

NOTEBOOKS := 01_data 02_vae_pretraining 03_distill 04_baselines 05_evaluation \
	06_visualisation

.PHONY: setup reproduce notebooks retrain tolerance test unit nbval results-check planted-regression lint format bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: the CPU wheel; an unpinned torch pulls gigabytes of CUDA wheels
	$(PY) -m pip install -q "$(TORCH_PIN)"
	$(PY) -m pip install -q -e ".[notebooks,dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

setup: $(VENV)/.installed

# The committed run ships its trained models in nar_slp/shipped/default
# (nar_slp.weights).
# `make reproduce`: every chapter over them (nothing trained) -> executed notebooks
# under runs/default/notebooks, the committed tables in results/default and figures in
# figures/ (git diff shows whether they reproduced). ~15 min on 2 cores.
reproduce: setup
	NAR_SLP_WEIGHTS=shipped $(PY) -m nar_slp.reproduce --preset default \
		$(if $(RUN_DIR),--run-dir $(RUN_DIR)) $(foreach nb,$(NOTEBOOKS),notebooks/$(nb).ipynb)

# The same, writing the executed chapters back into notebooks/ (the committed outputs).
notebooks: setup
	NAR_SLP_WEIGHTS=shipped $(PY) -m nar_slp.reproduce --preset default --in-place \
		$(foreach nb,$(NOTEBOOKS),notebooks/$(nb).ipynb)

# Everything from scratch at `default` (what produced the shipped weights): chapters 01-05
# train every model in $(RETRAIN_RUN) (resumable: run it again after an interruption),
# then the weights are exported (rounded) to nar_slp/shipped/default, the chapters
# re-executed over them (`make notebooks`) and the results check's tolerance
# re-measured (`make tolerance`). DEVICE=cuda on a GPU.
RETRAIN_RUN ?= runs/retrain
DEVICE ?=
retrain: setup
	$(PY) -m nar_slp.reproduce --preset default --run-dir $(RETRAIN_RUN) \
		--times $(RETRAIN_RUN)/chapter_seconds.json $(if $(DEVICE),--param DEVICE=$(DEVICE)) \
		$(foreach nb,$(filter-out 06_visualisation,$(NOTEBOOKS)),notebooks/$(nb).ipynb)
	$(PY) -m nar_slp.weights export $(RETRAIN_RUN) nar_slp/shipped/default \
		--times $(RETRAIN_RUN)/chapter_seconds.json
	$(MAKE) notebooks
	$(MAKE) tolerance

# The results check's per-cell tolerance: what floating point alone moves (one
# thread; one thread with older vector kernels), written to results/default/*_tol.csv
# with a report in benchmarks/results/tolerance.md. ~25 min on 2 cores.
tolerance: setup
	$(PY) benchmarks/measure_tolerance.py

# `make test` (= .ci/run): the unit tests, which include every chapter end to end from
# scratch at `smoke` in a temporary folder (tests/test_pipeline_smoke.py), then nbval
# over the committed chapters with the shipped weights, in $(NBVAL_RUN)
# (NAR_SLP_RUN_DIR): nothing tracked is written; chapter 05's results check compares
# the recomputed tables with the committed ones within the measured tolerance.
NBVAL_RUN := $(CURDIR)/runs/nbval

test: setup unit nbval

unit:
	MPLBACKEND=Agg $(PY) -m pytest -q tests

nbval:
	rm -rf $(NBVAL_RUN)
	NAR_SLP_WEIGHTS=shipped NAR_SLP_RUN_DIR=$(NBVAL_RUN) $(PY) -m pytest -q --nbval \
		--nbval-current-env --nbval-cell-timeout=1800 \
		--nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider notebooks

# Compare any run's tables with the committed ones: make results-check RUN=runs/x/results
results-check: setup
	$(PY) -m nar_slp.results_check check $(RUN) --reference results/default

# Show that the results check has teeth: one student's weights perturbed by 1e-3, and
# the main student re-trained with L_distil off, must each fail it (~35 min).
planted-regression: setup
	$(PY) benchmarks/planted_regression.py

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
