#!/usr/bin/env bash
# GPU smoke check for a lent GPU machine (one H100/H200), under 10 minutes. Never part of the test suite.
#
#   scripts/gpu_check.sh [OUT_DIR]        # figures and logs land in OUT_DIR (default runs/gpu-check)
#
# 1. SFT steps of a Qwen3-1.7B-shaped random model (built locally, nothing downloaded): tokens/s and MFU with our
#    config against TRL's defaults, and the step time of agentic GRPO (benchmarks/train_throughput.py);
# 2. the token-exactness check (train/token_check.py) on the SFT rows that run used, under the tiny Qwen3's
#    template: whole rows where exact, per-turn rows otherwise, none refused after `--turns auto`;
# 3. when verl and vLLM import (the verl environment of scripts/install_verl_env.sh plus vllm, or a machine that
#    has them), one verl GRPO step with vLLM rollouts on the tiny model with our tools and reward
#    (`sciresearcher train verl` with total_training_steps=1); otherwise it says why it skipped.
#
# The machine needs python3 with CUDA torch, transformers, trl, peft, accelerate, datasets and this repository's
# core dependencies. On a machine with no network, carry them as wheels (see the device tool's README) and set
# SCIRESEARCHER_WHEELS=DIR: they are installed into a temporary site dir first. Exit status: 0 when every step
# that could run passed.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/gpu-check}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

if [ -n "${SCIRESEARCHER_WHEELS:-}" ]; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --target /tmp/gpu-check-site "$SCIRESEARCHER_WHEELS"/*.whl \
    && export PYTHONPATH="$PYTHONPATH:/tmp/gpu-check-site"
fi

"$PY" - <<'EOF' || { echo "gpu_check: no CUDA device visible to torch" >&2; exit 2; }
import torch
assert torch.cuda.is_available()
print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
EOF

status=0
start=$(date +%s)
echo "== 1. SFT / GRPO throughput (ours vs TRL defaults)"
if timeout 420 "$PY" benchmarks/train_throughput.py --steps 6 --tokens 4096 2>&1 | tee "$OUT/throughput.log"; then
  tail -1 "$OUT/throughput.log" > "$OUT/throughput.txt"
else
  echo "gpu_check: the throughput benchmark failed (see $OUT/throughput.log)" >&2; status=1
fi

echo "== 2. token exactness of SFT rows"
timeout 120 "$PY" - "$OUT" <<'EOF' 2>&1 | tee "$OUT/token_check.log" || status=1
import json, sys
from pathlib import Path
from sciresearcher.train.tiny import build_tiny_model
from sciresearcher.train.token_check import check_row, turn_rows
from sciresearcher.train.sft import load_tokenizer
sys.path.insert(0, "benchmarks")
from learning_curve import gold_row, make_tasks  # the gold research-shaped rows the benchmarks train on

out = Path(sys.argv[1])
tok = load_tokenizer(build_tiny_model(out / "tiny"))
rows = [gold_row(t) for t in make_tasks(50, 0, "train")]
whole = [r for r in rows if check_row(tok, r) is None]
split = [t for r in rows if check_row(tok, r) is not None for t in turn_rows(r)]
bad = [t for t in split if check_row(tok, t) is not None]
print(f"rows {len(rows)}: exact as sequences {len(whole)}, split into {len(split)} per-turn rows, still divergent {len(bad)}")
assert not bad, bad[:1]
EOF

echo "== 3. verl GRPO step with vLLM rollouts"
if "$PY" -c "import verl, vllm" 2>/dev/null; then
  timeout 420 "$PY" - "$OUT" <<'EOF' 2>&1 | tee "$OUT/verl.log" || status=1
import subprocess, sys
from pathlib import Path
from sciresearcher.data.config import ExportConfig
from sciresearcher.data.export import export_tasks
from sciresearcher.integrations.verl.launch import write_launch
from sciresearcher.integrations.verl.recipe import VerlRecipe
from sciresearcher.records import Task

out = Path(sys.argv[1]).resolve()
tasks = [Task(id=f"t{i}", question=f"What is {i} times 7? Use python.", answer=str(7 * i), answer_type="numeric")
         for i in range(16)]
data = export_tasks(tasks, ExportConfig(format="verl-rl"), out / "rl")
recipe = VerlRecipe(model=str(out / "tiny"), train_files=data["train"]["path"],
                    tools={"enabled": ["python"]},
                    rollout={"tensor_parallel": 1, "group_size": 4, "max_prompt_length": 2048,
                             "max_response_length": 1024, "max_assistant_turns": 3, "gpu_memory_utilization": 0.3},
                    train={"train_batch_size": 4, "ppo_mini_batch_size": 4, "total_training_steps": 1,
                           "max_token_len_per_gpu": 8192, "save_freq": -1, "test_freq": -1},
                    cluster={"gpus_per_node": 1})
files = write_launch(recipe, out / "verl", python=sys.executable)
code = subprocess.call(["bash", str(files["command"])])
print(f"verl GRPO step exit code {code}")
sys.exit(code)
EOF
else
  echo "verl or vllm is not installed here: skipped (scripts/install_verl_env.sh, then pip install vllm)" | tee "$OUT/verl.log"
fi

echo "gpu_check finished in $(( $(date +%s) - start ))s with status $status; figures in $OUT"
exit $status
