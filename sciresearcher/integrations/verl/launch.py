"""`write_launch(recipe, out)`: a verl GRPO run as files a user can read, edit and rerun, and `run_launch`.

Writes into `out`:
- `recipe.yaml`: the resolved VerlRecipe (loadable again with `train verl`);
- `tool_config.yaml`: our tools for verl's tool loader;
- `verl_config.yaml`: the hydra overrides as a YAML mapping (what `command.sh` passes, one per line there);
- `command.sh`: `python -m verl.trainer.main_ppo <overrides>` for one node, or for a Ray cluster when
  `cluster.ray_address` is set (`ray job submit --address ... -- python3 -m verl.trainer.main_ppo ...`; the
  cluster's nodes need the verl environment and the recipe's paths, e.g. on shared storage).

`run_launch` executes `command.sh` (stdout/stderr to `out/verl.log` and the terminal) with the verl
environment's Python (`$SCIRESEARCHER_VERL_PYTHON`, else `.verl-venv/bin/python` beside the repository, else
`python3`). It raises TrainingError with the log's tail when verl exits non-zero.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from sciresearcher.errors import TrainingError
from sciresearcher.integrations.verl.recipe import VerlRecipe, overrides, tool_config

REPO = Path(__file__).resolve().parents[3]


def verl_python() -> str:
    """The interpreter of the verl environment."""
    env = os.environ.get("SCIRESEARCHER_VERL_PYTHON")
    if env:
        return env
    local = REPO / ".verl-venv" / "bin" / "python"
    return str(local) if local.exists() else "python3"


def command_lines(recipe: VerlRecipe, out: Path, python: str) -> list[str]:
    """The shell lines of command.sh (without the shebang)."""
    args = overrides(recipe, out / "tool_config.yaml", out)
    body = " \\\n    ".join(shlex.quote(a) for a in args)
    lines = ["set -euo pipefail", f"cd {shlex.quote(str(out))}",
             "export PYTHONUNBUFFERED=1 HYDRA_FULL_ERROR=1"]
    if recipe.cluster.ray_address:
        ray = Path(python).parent / "ray"
        lines.append(f"{shlex.quote(str(ray) if ray.exists() else 'ray')} job submit "
                     f"--address {shlex.quote(recipe.cluster.ray_address)} -- \\\n  "
                     f"python3 -m verl.trainer.main_ppo \\\n    {body}")
    else:
        lines.append(f"{shlex.quote(python)} -m verl.trainer.main_ppo \\\n    {body} \"$@\"")
    return lines


def write_launch(recipe: VerlRecipe, out: str | Path, *, python: str | None = None) -> dict[str, Path]:
    """Writes recipe.yaml, tool_config.yaml, verl_config.yaml and command.sh; returns their paths."""
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    python = python or verl_python()
    files = {
        "recipe": out / "recipe.yaml",
        "tool_config": out / "tool_config.yaml",
        "verl_config": out / "verl_config.yaml",
        "command": out / "command.sh",
    }
    files["recipe"].write_text(yaml.safe_dump(recipe.model_dump(mode="json"), sort_keys=False))
    files["tool_config"].write_text(yaml.safe_dump(tool_config(recipe), sort_keys=False))
    pairs = dict(a.split("=", 1) for a in overrides(recipe, files["tool_config"], out))
    files["verl_config"].write_text(yaml.safe_dump(pairs, sort_keys=False))
    files["command"].write_text("#!/usr/bin/env bash\n# verl GRPO launch written by `sciresearcher train verl`.\n"
                                + "\n".join(command_lines(recipe, out, python)) + "\n")
    files["command"].chmod(0o755)
    return files


def run_launch(out: str | Path) -> None:
    """Runs OUT/command.sh, teeing its output to OUT/verl.log."""
    out = Path(out)
    log_path = out / "verl.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(["bash", str(out / "command.sh")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert proc.stdout is not None
        for chunk in iter(lambda: proc.stdout.read1(65536), b""):  # type: ignore[union-attr]
            log.write(chunk)
            sys.stderr.buffer.write(chunk)
            sys.stderr.flush()
        code = proc.wait()
    if code != 0:
        tail = log_path.read_text(errors="replace")[-2000:]
        raise TrainingError(f"verl exited with code {code}; the end of {log_path}:\n{tail}",
                            hint="check the verl environment (scripts/install_verl_env.sh) and the recipe's paths")
