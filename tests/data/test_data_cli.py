"""The data commands end to end: clean -> rollout (openai backend over real HTTP, real sandbox) -> filter -> export."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from data_helpers import invoke
from typer.testing import CliRunner

from sciresearcher.cli import app
from sciresearcher.errors import RunError
from sciresearcher.llm.testserver import OpenAITestServer
from sciresearcher.records import Task, Trajectory
from sciresearcher.train.rows import read_sft_rows

EVAL_ITEM = ("In a population at Hardy-Weinberg equilibrium, 4 percent of individuals show a recessive trait; "
             "what fraction of the population are heterozygous carriers of the allele?")


def teacher(body: dict[str, Any]) -> Any:
    """Calls python once, then answers a+b, but a+b+1 when a is odd (so some answers are wrong)."""
    question = next(m["content"] for m in body["messages"] if m["role"] == "user")
    a, b = (int(x) for x in re.findall(r"What is (\d+) plus (\d+)", question)[0])
    if not any(m["role"] == "tool" for m in body["messages"]):
        return {"tool_calls": [{"name": "python", "arguments": {"code": f"print({a} + {b})"}}]}
    return f"Explanation: python says so.\nAnswer: {a + b + (a % 2)}\nConfidence: 90%"


@pytest.fixture
def task_file(tmp_path: Path) -> tuple[Path, Path]:
    tasks = [Task(id=f"add{a}", question=f"What is {a} plus {b}? Check it with python.", answer=str(a + b),
                  answer_type="numeric") for a, b in ((2, 3), (3, 4), (10, 20))]
    tasks.append(Task(id="leak", question="What is 1 plus 1? " + EVAL_ITEM, answer="0.32"))
    tasks.append(Task(id="dup", question="What is 2 plus 3? Check it with python!", answer="5",
                      answer_type="numeric"))
    path = tmp_path / "tasks.jsonl"
    path.write_text("".join(t.model_dump_json() + "\n" for t in tasks))
    eval_file = tmp_path / "eval.jsonl"
    eval_file.write_text(Task(id="e1", question=EVAL_ITEM, answer="0.32").model_dump_json() + "\n")
    return path, eval_file


def test_clean_rollout_filter_export(tmp_path: Path, task_file: tuple[Path, Path]):
    tasks, eval_file = task_file
    # the three additions are numeric variants of one question: kept here to have something to roll out
    screen = ["--eval_sets", json.dumps([str(eval_file)]), "--n", "4", "--numeric_variants", "false"]
    clean = invoke("data", "clean", str(tasks), "--out", str(tmp_path / "clean"), *screen)
    assert clean["kept"] == 3 and clean["removed"] == {"contaminated": 1, "duplicate": 1}
    assert clean["screened"] == {"eval": 1}
    removed = [json.loads(x) for x in (tmp_path / "clean" / "removed.jsonl").read_text().splitlines()]
    assert {(r["id"], r["reason"], r["match"]["item_id"]) for r in removed} == {
        ("leak", "contaminated", "e1"), ("dup", "duplicate", "add2")}

    with OpenAITestServer(teacher) as srv:
        summary = invoke("data", "rollout", str(tmp_path / "clean" / "tasks.jsonl"), "--samples", "2",
                         "--backend", "openai", "--model", "teacher", "--out", str(tmp_path / "rollout"), "--quiet",
                         "--llm.base_url", srv.base_url, "--tools.enabled", "[python]")
    assert summary["n_tasks"] == 3 and summary["n_samples"] == 6
    trajs = [Trajectory.model_validate_json(x) for x in (tmp_path / "rollout" / "trajectories.jsonl").read_text()
             .splitlines()]
    assert all(t.counters.tool_calls == 1 and t.grade is not None for t in trajs)
    tool_output = [m.content for t in trajs for m in t.messages if m.role == "tool"]
    assert any("5" in (c or "") for c in tool_output), tool_output  # the sandbox ran it

    filt = invoke("data", "filter", str(tmp_path / "rollout"), "--out", str(tmp_path / "filter"),
                  "--tasks", str(tmp_path / "clean" / "tasks.jsonl"), "--screen.eval_sets",
                  json.dumps([str(eval_file)]))
    # add3 (a odd) is answered wrong twice; add2 and add10 keep one each (the second sample repeats the first)
    assert filt["kept"] == 2 and filt["reasons"] == {"duplicate_trajectory": 2, "wrong": 2}
    assert filt["tasks_in"] == 3 and filt["tasks_kept"] == 2
    kept_before = (tmp_path / "filter" / "kept.jsonl").read_bytes()
    # same config again: same output; another config into the same directory: refused, nothing lost
    invoke("data", "filter", str(tmp_path / "rollout"), "--out", str(tmp_path / "filter"),
           "--tasks", str(tmp_path / "clean" / "tasks.jsonl"), "--screen.eval_sets", json.dumps([str(eval_file)]))
    assert (tmp_path / "filter" / "kept.jsonl").read_bytes() == kept_before
    result = CliRunner().invoke(app, ["data", "filter", str(tmp_path / "rollout"), "--out", str(tmp_path / "filter"),
                                      "--max_per_task", "1"])
    assert isinstance(result.exception, RunError) and "another config" in str(result.exception)
    assert (tmp_path / "filter" / "kept.jsonl").read_bytes() == kept_before

    sft = invoke("data", "export", str(tmp_path / "filter"), "--out", str(tmp_path / "sft"), "--turns", "sequence")
    assert sft["train"]["rows"] == 2
    rows = read_sft_rows(tmp_path / "sft" / "train.jsonl")
    assert rows[0]["messages"][2]["tool_calls"][0]["function"]["name"] == "python"
    turns = invoke("data", "export", str(tmp_path / "filter"), "--out", str(tmp_path / "turns"))  # default: auto
    assert turns["train"]["rows"] == 4  # no tokenizer to check exactness: one row per assistant turn

    rl = invoke("data", "export", str(tmp_path / "clean"), "--format", "trl-grpo", "--out", str(tmp_path / "grpo"))
    assert rl["train"]["rows"] == 3


def test_bad_input_is_one_clear_error(tmp_path: Path, task_file: tuple[Path, Path]):
    tasks, _ = task_file
    result = CliRunner().invoke(app, ["data", "clean", str(tasks), "--out", str(tmp_path / "c"), "--eval_set", "[]"])
    assert "eval_set" in str(result.exception) and "eval_sets" in str(result.exception)  # names the closest key
    result = CliRunner().invoke(app, ["data", "export", str(tasks), "--format", "nope", "--out", str(tmp_path)])
    assert "format" in str(result.exception)
