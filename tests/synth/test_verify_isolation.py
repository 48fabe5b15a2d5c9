"""Each candidate's reference solution runs in a fresh sandbox session (issue 12, point 11): a task whose
solution monkeypatches `print` or leaves variables behind cannot make the next task's wrong solution pass."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from sciresearcher.records import Provenance, Task
from sciresearcher.sandbox.config import SandboxConfig
from sciresearcher.synth import computational
from sciresearcher.synth.config import SynthConfig

POISON = "import builtins\n_real = builtins.print\nbuiltins.print = lambda *a, **k: _real(42.0)\nanswer = 42.0\nprint(42.0)"
WRONG_PRINT = "print(1.0)"  # prints 42.0 only if the previous solution's print is still installed
WRONG_NAME = "print(answer)"  # runs only if the previous solution's variable is still defined


def _task(tid: str, solution: str) -> Task:
    return Task(id=tid, question=f"Question {tid}?", answer="42", answer_type="numeric", tolerance=0.01,
                provenance=Provenance(pipeline="computational"),
                metadata={"template": tid, "variables": {}, "solution": solution, "exact_answer": 42.0})


@pytest.mark.parametrize("wrong", [WRONG_PRINT, WRONG_NAME])
def test_a_poisoning_solution_cannot_make_the_next_wrong_one_pass(tmp_path, monkeypatch, wrong):
    candidates = [_task("poison", POISON), _task("wrong", wrong)]

    def jobs(config: SynthConfig, writer: Any) -> tuple[list, list]:
        def make(task: Task) -> Any:
            async def build() -> Task:
                return task
            return build
        return [], [(t.id, t.id, make(t)) for t in candidates]

    monkeypatch.setattr(computational, "_jobs", jobs)
    config = SynthConfig(n=2, sandbox=SandboxConfig(timeout_s=20.0, preload=[]))
    summary = asyncio.run(computational.run_synthesis(config, tmp_path / "run", show_progress=False))
    kept = [json.loads(line)["id"] for line in (tmp_path / "run" / "tasks.jsonl").read_text().splitlines()]
    assert kept == ["poison"], summary
    rejected = [json.loads(line) for line in (tmp_path / "run" / "rejected.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rejected] == ["wrong"]
    assert "reference_solution" in rejected[0]["reasons"][0]
