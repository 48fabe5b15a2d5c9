#!/usr/bin/env bash
# CI step after the default suite: installs the separate verl environment (scripts/install_verl_env.sh) and runs
# the verl integration tests in it (tests/integrations, marker `verl`): verl's own tool loader, config, reward
# loading and RL dataset on what `train verl` and `data export --format verl-rl` write. Called from .ci/run; can
# be run on its own. Needs the main venv for the tiny model (`make install`).
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
scripts/install_verl_env.sh
echo "verl env install took $(( $(date +%s) - start ))s"

make .cache/tiny-qwen3 >/dev/null
export HF_HUB_OFFLINE=1 SCIRESEARCHER_TINY_MODEL="$PWD/.cache/tiny-qwen3"
start=$(date +%s)
.verl-venv/bin/python -m pytest -q -m verl tests/integrations -p no:cacheprovider
echo "verl integration tests took $(( $(date +%s) - start ))s"
