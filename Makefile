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

NOTEBOOKS := 01_data 02_vae_pretraining 03_distill 04_baselines 05_evaluation \
	06_visualisation

.PHONY: setup reproduce notebooks test unit nbval results-check spread spread-tables spread-validate planted-regression lint format bench clean

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

# The per-cell limit is not a speed target: chapter 03's training cell took 14 min on
# the committed machine and 23 and 30 min (killed at a 30-min limit, 2026-12-03) on
# the 2-core CI CPU kind, so it is 60 min, and CI's own 90-min limit bounds the run.
nbval:
	rm -rf $(NBVAL_RUN)
	NAR_SLP_RUN_DIR=$(NBVAL_RUN) $(PY) -m pytest -q --nbval --nbval-current-env \
		--nbval-cell-timeout=3600 --nbval-sanitize-with notebooks/sanitize.cfg \
		-p no:cacheprovider notebooks

# Compare any run's tables with the committed ones: make results-check RUN=runs/x/results
results-check: setup
	$(PY) -m nar_slp.results_check check $(RUN) --reference results/default

# Measure the run-to-run spread behind the results check's tolerance: chapters 02-05
# again with other model seeds ($(SEEDS); chapter 03 trains seeds SEED .. SEED+2 of
# each student, so these must be at least 3 apart from 0 and from each other), on the
# committed corpus (runs/default must exist), the runs side by side at one thread
# each. Each run's tables are kept in results/spread_runs/<label>/ (label
# $(SPREAD_LABEL)-seed<s>; say in results/spread_runs/README.md which machine it ran
# on), and the spread is re-computed from the committed run, every kept run and the
# earlier measurement whose runs were not kept ($(SPREAD_PRIOR)), written to
# results/default/*_spread.csv and spread.json. Each chapter runs on its own, so a
# chapter whose closing checks fail for a seed (chapter 04's "PT stops by its own
# counter at least once" failed for seeds 300 and 400, after writing its outputs)
# does not stop the next; a seed run's own results check may fail too (its tables
# are written before it); the spread is computed from the tables.
# `make spread-validate` then holds each kept run out of the spread it is checked with.
SEEDS ?= 100 200
SPREAD_LABEL ?= $(shell date +%F)-$(shell hostname -s)
SPREAD_PRIOR := results/spread_runs/2026-12-02-k3:2
SPREAD_TABLES := motion table1 table2 table3a table3b training
SPREAD_NOTEBOOKS := $(filter-out 01_data 06_visualisation,$(NOTEBOOKS))
spread: setup
	for s in $(SEEDS); do \
		( rm -rf runs/seed$$s runs/seed$$s.log && mkdir -p runs/seed$$s && \
		  cp -r runs/default/data runs/default/dataset.json runs/default/normaliser.json \
			runs/seed$$s/ && \
		  for nb in $(SPREAD_NOTEBOOKS); do \
			OMP_NUM_THREADS=1 $(PY) -m nar_slp.reproduce --run-dir runs/seed$$s \
			--param SEED=$$s notebooks/$$nb.ipynb >> runs/seed$$s.log 2>&1 || true; \
		  done ) & \
	done; wait
	for s in $(SEEDS); do \
		mkdir -p results/spread_runs/$(SPREAD_LABEL)-seed$$s && \
		for t in $(SPREAD_TABLES); do \
			cp runs/seed$$s/results/$$t.csv results/spread_runs/$(SPREAD_LABEL)-seed$$s/ \
			|| exit 1; \
		done; \
	done
	$(MAKE) spread-tables

SPREAD_RUNS = $(patsubst %/table1.csv,%,$(wildcard results/spread_runs/*/table1.csv))
spread-tables: setup
	$(PY) -m nar_slp.results_check spread results/default $(SPREAD_RUNS) \
		--prior $(SPREAD_PRIOR) --out results/default

spread-validate: setup
	$(PY) -m nar_slp.results_check validate $(SPREAD_RUNS) --reference results/default \
		--prior $(SPREAD_PRIOR)

# Show that the results check has teeth: the main student trained without L_distil
# (KD_WEIGHT=0) in a copy of runs/default must fail it (~4 min on 2 cores).
planted-regression: setup
	rm -rf runs/planted && cp -r runs/default runs/planted
	rm -rf runs/planted/students/kd runs/planted/results runs/planted/outputs/kd*
	-$(PY) -m nar_slp.reproduce --run-dir runs/planted --param KD_WEIGHT=0.0 \
		notebooks/03_distill.ipynb
	-$(PY) -m nar_slp.reproduce --run-dir runs/planted notebooks/05_evaluation.ipynb
	! $(PY) -m nar_slp.results_check check runs/planted/results --reference results/default

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
