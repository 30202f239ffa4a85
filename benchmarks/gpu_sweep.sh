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
# one process per setting, each with its own time limit: bf16 + compile did not finish
# in 165 s on an H100 (benchmarks/README.md), and must not hide the other rows
for setting in "no" "bf16" "bf16 --compile"; do
  tag=$(echo "$setting" | tr -d ' -')
  timeout "${LIMIT_S:-170}" python3 benchmarks/bench_model.py --device cuda \
    --amp $setting --data random --text-encoder /tmp/bert-base-random \
    --finetune-encoder yes --steps 3 --warmup 1 --runs 3 --gen-batches 2 \
    --paper-steps "${PAPER_STEPS:-30}" --paper-warmup 5 --paper-sequences 2000 \
    --json "$out/gpu_$tag.json" > "$out/gpu_$tag.md" || echo "$setting: exit $?"
done
