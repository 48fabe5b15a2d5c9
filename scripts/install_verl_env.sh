#!/usr/bin/env bash
# Installs a SEPARATE, pinned Python environment with verl 0.9.1 (and Ray) beside SciResearcher's retrieval and
# science stacks, for the verl integration tests (tests/integrations, marker `verl`) and for launching verl runs.
#
# Why a separate venv: verl 0.9.1 pins transformers<5.11, while SciResearcher's training extra pins 5.24.0;
# the two cannot share one environment. This venv holds sciresearcher itself (editable, without the `train`
# extra), so verl's tool loader can import our tool classes (sciresearcher.integrations.verl.tools).
#
# Usage:  scripts/install_verl_env.sh            # installs into ./.verl-venv (gitignored)
#         SCIRESEARCHER_VERL_VENV=/opt/verl scripts/install_verl_env.sh
#         SCIRESEARCHER_TORCH_INDEX=https://download.pytorch.org/whl/cpu scripts/install_verl_env.sh
#             (on a machine whose pip cannot already find the torch 2.13.0+cpu wheel locally)
# On a GPU machine, install verl's rollout engine (vllm or sglang) into this venv as verl's docs say.
# Idempotent: when the venv already imports verl 0.9.1 with torch 2.13.0 it exits at once.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=venv_lib.sh
source "$REPO/scripts/venv_lib.sh"
VENV="${SCIRESEARCHER_VERL_VENV:-$REPO/.verl-venv}"
PYTHON="${PYTHON:-python3}"
VERL_VERSION="0.9.1"
TORCH_VERSION="2.13.0"
TRANSFORMERS_VERSION="5.10.4"  # the newest release verl 0.9.1 accepts (transformers<5.11)
RAY_VERSION="2.60.0"

check() {
  "$VENV/bin/python" - <<PYEOF 2>/dev/null
import importlib.metadata as md, torch
assert md.version("verl") == "$VERL_VERSION", md.version("verl")
assert torch.__version__.split("+")[0] == "$TORCH_VERSION", torch.__version__
import verl.tools.base_tool, verl.tools.tool_registry, verl.utils.dataset.rl_dataset  # noqa: F401
import sciresearcher.integrations.verl.tools  # noqa: F401
PYEOF
}

if [ -x "$VENV/bin/python" ] && check; then
  echo "verl env already installed at $VENV (verl $VERL_VERSION, torch $TORCH_VERSION)"
  exit 0
fi


start=$(date +%s)
echo "installing verl $VERL_VERSION + torch $TORCH_VERSION + ray $RAY_VERSION into $VENV ..." >&2
new_venv
# torch is named in the SAME install as verl (verl's torchdata / tensordict need torch; a bare resolution
# would pull a multi-GB CUDA build), and sciresearcher's retrieval + science extras come in the same resolve.
if ! pip_quiet install -q "${TORCH_INDEX_ARGS[@]}" "verl==$VERL_VERSION" "torch==$TORCH_VERSION" \
    "transformers==$TRANSFORMERS_VERSION" "ray[default]==$RAY_VERSION" -e "$REPO[retrieval,science]" pytest pytest-timeout; then
  echo "error: pip could not install verl $VERL_VERSION with torch $TORCH_VERSION into $VENV." >&2
  exit 1
fi
# torchcodec / torchvision builds from PyPI are compiled against CUDA torch and crash on import beside the
# CPU torch; nothing here decodes media.
pip_quiet uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true

if ! check; then
  echo "error: verl env at $VENV installed but an import fails; run" >&2
  echo "  $VENV/bin/python -c 'import verl.tools.base_tool, sciresearcher.integrations.verl.tools'  to see why" >&2
  exit 1
fi
echo "verl env ready at $VENV in $(( $(date +%s) - start ))s"
