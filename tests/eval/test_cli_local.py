"""`sciresearcher eval run` through the CLI with the embedded `local` backend on the tiny offline Qwen3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sciresearcher.cli.eval import eval_app, report_command


@pytest.mark.slow
def test_eval_run_local_tiny_model_then_report(tiny_model_dir: Path, tasks_file: Path, tmp_path: Path):
    out = tmp_path / "run"
    args = ["run", "--benchmark", str(tasks_file), "--backend", "local", "--model", str(tiny_model_dir),
            "--samples", "2", "--k", "1,2", "--limit", "2", "--out", str(out), "--quiet",
            "--tools.enabled", "[]", "--agent.max_turns", "1", "--agent.sampling",
            '{"max_tokens": 16, "temperature": 1.0}', "--llm.device", "cpu"]
    result = CliRunner().invoke(eval_app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    assert summary["n_tasks"] == 2 and summary["n_samples"] == 4 and "2" in summary["pass_at_k"]
    assert (out / "summary.json").is_file() and (out / "config.yaml").is_file()
    lines = (out / "trajectories.jsonl").read_text().splitlines()
    assert len(lines) == 4 and all(json.loads(x)["grade"] is not None for x in lines)
    report_command(out, None)
    assert "t1#1" in (out / "report.html").read_text()
