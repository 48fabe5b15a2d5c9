"""README's offline walkthrough ("From tasks to training data"), run command by command as written, in a scratch
directory: it must reach a trained checkpoint with no model and no network."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def walkthrough_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = re.search(r"Offline, on this machine.*?```bash\n(.*?)```", text, re.DOTALL)
    assert block, "README has no offline walkthrough block"
    joined = block.group(1).replace("\\\n", " ")
    commands = [re.sub(r"\s+#.*$", "", line).strip() for line in joined.splitlines()]
    return [c for c in commands if c and not c.startswith("source ")]


def test_walkthrough_block_is_what_this_test_runs():
    commands = walkthrough_commands()
    assert commands[0].startswith("sciresearcher train tiny-model") and "train sft" in commands[-2]
    assert all(" data/" not in c for c in commands)  # outputs go under runs/ (gitignored), not the repository


@pytest.mark.slow
@pytest.mark.timeout(1800)  # about ten minutes on 2 shared cores
def test_readme_walkthrough_reaches_train_sft_offline(tmp_path: Path, tiny_model_dir: Path):
    (tmp_path / "scripts").symlink_to(REPO / "scripts")
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "tiny-qwen3").symlink_to(tiny_model_dir)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "SCIRESEARCHER_CACHE_DIR": str(tmp_path / "cache")}
    for command in walkthrough_commands():
        if command.startswith("sciresearcher train tiny-model"):
            continue  # the session's tiny model is linked in its place
        proc = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
                              timeout=1200)
        assert proc.returncode == 0, f"{command}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    kept = json.loads((tmp_path / "runs" / "kept" / "summary.json").read_text())
    assert kept["kept"] == kept["trajectories_in"] > 0
    summary = json.loads((tmp_path / "runs" / "sft" / "summary.json").read_text())
    assert summary["global_step"] == 5 and summary["first_loss"] is not None and summary["last_loss"] is not None
    assert (tmp_path / "runs" / "sft" / "loss.png").is_file()
    assert (tmp_path / "runs" / "rl" / "val.parquet").is_file()
