"""The whole data flow end to end on the CLI: synth -> clean -> rollout -> filter -> export -> train sft, offline.

The teacher is a scripted model behind the OpenAI-compatible test server (real HTTP); it calls the real python
tool and answers, wrongly for one task in three, so rejection sampling has something to reject. SFT runs two
steps of the tiny Qwen3 on the exported rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from data_helpers import invoke
from typer.testing import CliRunner

from sciresearcher.cli import app
from sciresearcher.llm.testserver import OpenAITestServer

pytest.importorskip("mendeleev")


def test_synth_to_sft(tmp_path: Path, tiny_model_dir: Path):
    synth = invoke("synth", "computational", "-n", "6", "--seed", "7", "--out", str(tmp_path / "synth"), "-q")
    assert synth["kept"] == 6
    clean = invoke("data", "clean", str(tmp_path / "synth" / "tasks.jsonl"), "--out", str(tmp_path / "clean"))
    assert clean["kept"] == 6  # synthesized from package facts: not in any eval set
    tasks = [json.loads(x) for x in (tmp_path / "clean" / "tasks.jsonl").read_text().splitlines()]
    answers = {t["question"]: t["answer"] for t in tasks}
    wrong = {t["question"] for t in tasks[::3]}

    def teacher(body: dict[str, Any]) -> Any:
        question = next(m["content"] for m in body["messages"] if m["role"] == "user")
        q = next(q for q in answers if q in question)
        if not any(m["role"] == "tool" for m in body["messages"]):
            return {"tool_calls": [{"name": "python", "arguments": {"code": f"print({answers[q]})"}}]}
        answer = "-1" if q in wrong else answers[q]
        return f"Explanation: computed in python.\nAnswer: {answer}\nConfidence: 85%"

    with OpenAITestServer(teacher) as srv:
        rollout = invoke("data", "rollout", str(tmp_path / "clean" / "tasks.jsonl"), "--backend", "openai",
                         "--model", "teacher", "--out", str(tmp_path / "rollout"), "-q",
                         "--llm.base_url", srv.base_url, "--tools.enabled", "[python]")
    assert rollout["n_samples"] == 6
    kept = invoke("data", "filter", str(tmp_path / "rollout"), "--out", str(tmp_path / "kept"))
    assert kept["kept"] == 4 and kept["reasons"] == {"wrong": 2}
    sft_rows = invoke("data", "export", str(tmp_path / "kept"), "--out", str(tmp_path / "sft"),
                      "--tokenizer", str(tiny_model_dir))
    assert sft_rows["train"]["rows"] == 8  # 4 kept trajectories, 2 assistant turns each: token-exact per turn

    config = tmp_path / "sft.yaml"
    config.write_text(yaml.safe_dump({
        "model": str(tiny_model_dir), "dataset": str(tmp_path / "sft" / "train.jsonl"),
        "output_dir": str(tmp_path / "sft-run"), "max_steps": 2, "gradient_accumulation_steps": 1,
        "logging_steps": 1, "max_length": 4096, "lora": {"enabled": False}}))
    result = CliRunner().invoke(app, ["train", "sft", str(config)])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "sft-run" / "summary.json").read_text())
    assert summary["global_step"] == 2

    grpo = invoke("data", "export", str(tmp_path / "clean"), "--format", "trl-grpo", "--out", str(tmp_path / "rl"))
    assert grpo["train"]["rows"] == 6

    # every run directory's run.log says what the run did: start and resolved config, counts, end
    for run in ("synth", "clean", "rollout", "kept", "sft-run"):
        text = (tmp_path / run / "run.log").read_text()
        for needle in ("run started in", f"resolved config {tmp_path / run / 'config.yaml'}", "wrote summary.json: ",
                       "run ended after"):
            assert needle in text, (run, needle, text)
    assert "kept=4" in (tmp_path / "kept" / "run.log").read_text()
