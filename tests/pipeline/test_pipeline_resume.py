"""A SIGKILLed `sciresearcher pipeline` resumes at the stage and record where it stopped; unchanged stages are
skipped, a changed one is redone with the old run kept aside."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

ROOT = Path(__file__).resolve().parents[2]


def test_a_sigkilled_pipeline_resumes_without_redoing_finished_stages_or_records(
    tmp_path: Path, small_recipe: Callable[..., Path], run_pipeline: Callable[..., CompletedProcess[str]],
):
    """Kill -9 in the middle of the teacher stage, run again: earlier stages are skipped, the teacher resumes at
    the record where it stopped (no trajectory is rolled out twice), and the rest of the pipeline runs."""
    recipe = small_recipe()
    root = tmp_path / "p"
    records = root / "05-teacher" / "trajectories.jsonl"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "sciresearcher", "pipeline", str(recipe), "--until", "filter", "-q"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 400
    while time.time() < deadline and proc.poll() is None:
        if records.is_file() and records.read_text().count("\n") >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"the pipeline ended before it could be killed: {proc.stderr.read()[-2000:]}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {d.name: json.loads((d / "stage.json").read_text()) for d in sorted(root.glob("0[1-4]-*"))}
    assert all(s["status"] == "done" for s in before.values()) and len(before) == 4
    assert json.loads((root / "05-teacher" / "stage.json").read_text())["status"] == "running"
    done_lines = [line for line in records.read_text().splitlines(keepends=True) if line.endswith("\n")]

    result = run_pipeline(str(recipe), "--until", "filter")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.count("unchanged, skipped") == 4 and "teacher" in result.stderr and "resuming" in result.stderr
    after = {d.name: json.loads((d / "stage.json").read_text()) for d in sorted(root.glob("0[1-4]-*"))}
    assert after == before  # the finished stages were not run again (same start times, same outputs)
    text = records.read_text()
    assert text.startswith("".join(done_lines))  # finished records kept byte for byte
    ids = [json.loads(line)["id"] for line in text.splitlines()]
    train = (root / "04-split" / "train.jsonl").read_text().count("\n")
    assert len(ids) == len(set(ids)) == train  # every task once: none redone, none lost
    filtered = json.loads((root / "06-filter" / "stage.json").read_text())
    assert filtered["status"] == "done" and filtered["figures"]["kept"] == train

    again = run_pipeline(str(recipe), "--until", "filter")
    assert again.returncode == 0 and again.stderr.count("unchanged, skipped") == 6
    changed = run_pipeline(str(recipe), "--until", "filter", "--filter.max_per_task", "3")
    assert changed.returncode == 0 and changed.stderr.count("unchanged, skipped") == 5
    assert (root / "06-filter.previous" / "kept.jsonl").is_file()  # the old run is kept aside
    redo = run_pipeline(str(recipe), "--until", "split", "--from", "split")
    assert redo.returncode == 0 and redo.stderr.count("unchanged, skipped") == 3 and "redo" in redo.stderr
