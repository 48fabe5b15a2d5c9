"""The comparison report: models side by side on the same tasks, with intervals, tool use and curves."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sciresearcher.agent.loop import run_agent
from sciresearcher.eval.compare import write_comparison
from sciresearcher.grade.graders import grade
from sciresearcher.records import Task
from sciresearcher.rollout.summary import summarize_trajectories
from sciresearcher.testing import ScriptedLLM, add_tool, final_answer_text, tool_call_message

TASKS = [Task(id=f"t{i}", question=f"What is {i} + 2?", answer=str(i + 2), answer_type="numeric") for i in range(4)]


def _run(tmp: Path, name: str, solves: set[int]) -> str:
    out = tmp / name
    out.mkdir()
    lines = []
    for i, task in enumerate(TASKS):
        answer = str(i + 2) if i in solves else "0"
        llm = ScriptedLLM([tool_call_message("add_tool", {"a": i, "b": 2}), final_answer_text(answer)])
        traj = asyncio.run(run_agent(task, llm, [add_tool]))
        traj.grade = grade(task, traj.final)
        traj.metadata = {"benchmark_gold": task.answer}
        lines.append(traj.model_dump_json())
    (out / "trajectories.jsonl").write_text("\n".join(lines) + "\n")
    summary = summarize_trajectories(TASKS, [json.loads(x) for x in lines], [1])
    (out / "summary.json").write_text(json.dumps(summary))
    return str(out)


def test_comparison_report_shows_each_model_on_the_same_tasks(tmp_path: Path):
    runs = {"base": {"test": {"dir": _run(tmp_path, "base", set())}},
            "sft": {"test": {"dir": _run(tmp_path, "sft", {0, 1})}},
            "grpo": {"test": {"dir": _run(tmp_path, "grpo", {0, 1, 2})}}}
    history = [{"step": s, "loss": 2.0 / s} for s in range(1, 6)]
    (tmp_path / "sft.json").write_text(json.dumps({"log_history": history}))
    path = write_comparison(runs, tmp_path / "report.html", training={"sft": str(tmp_path / "sft.json")},
                            title="demo: base vs SFT vs GRPO")
    html = path.read_text()
    assert "<b>0.0%</b>" in html and "<b>50.0%</b>" in html and "<b>75.0%</b>" in html
    assert "SFT training loss" in html and "add_tool" in html
    assert html.count('class="task"') == 4 and html.count('data-differ="yes"') == 3
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")  # self-contained
