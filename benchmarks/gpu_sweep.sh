#!/usr/bin/env bash
# The paper-preset GPU sweep (benchmarks/README.md), as one prepared script for a lent
# GPU machine that has PyTorch + transformers but no network and no nar_slp install:
#   bash benchmarks/gpu_sweep.sh OUT_FOLDER VOCAB_TXT
# Writes OUT_FOLDER/bench_gpu.{md,json} and OUT_FOLDER/env.txt.
set -euo pipefail
out=${1:?output folder}; vocab=${2:?a BERT vocab.txt}
mkdir -p "$out"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export TOKENIZERS_PARALLELISM=false
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c "import torch, transformers, sys; print('python', sys.version.split()[0], \
'torch', torch.__version__, 'cuda', torch.version.cuda, 'transformers', \
transformers.__version__)"
  nproc
} | tee "$out/env.txt"
python3 benchmarks/make_bert_base.py /tmp/bert-base-random --vocab "$vocab"
python3 benchmarks/bench_model.py --device cuda --sweep --data random \
  --text-encoder /tmp/bert-base-random --steps 30 --warmup 5 --runs 20 \
  --paper-steps ${PAPER_STEPS:-200} --paper-warmup 20 \
  --json "$out/bench_gpu.json" | tee "$out/bench_gpu.md"
