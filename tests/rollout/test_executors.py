"""The Ray executor gives the same run directory as the local one: same trajectories, grades and summary,
over real HTTP (an OpenAI-compatible server on 127.0.0.1) and real sandboxes inside the Ray actors."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from sciresearcher.llm.testserver import OpenAITestServer
from sciresearcher.records import Task
from sciresearcher.rollout.config import RolloutConfig
from sciresearcher.rollout.runner import run_rollouts

pytest.importorskip("ray")


def teacher(body: dict[str, Any]) -> Any:
    """Computes a*b in python, then answers it (a wrong answer when a is 3, so grades differ)."""
    question = next(m["content"] for m in body["messages"] if m["role"] == "user")
    a, b = (int(x) for x in re.findall(r"What is (\d+) times (\d+)", question)[0])
    tool = [m for m in body["messages"] if m["role"] == "tool"]
    if not tool:
        return {"tool_calls": [{"name": "python", "arguments": {"code": f"x = {a} * {b}\nprint(x)"}}]}
    value = int(tool[-1]["content"].split()[0]) + (1 if a == 3 else 0)
    return f"Explanation: computed.\nAnswer: {value}\nConfidence: 90%"


TASKS = [Task(id=f"mul{a}", question=f"What is {a} times {a + 4}?", answer=str(a * (a + 4)), answer_type="numeric")
         for a in range(1, 7)]


def _run(config: RolloutConfig, out: Path) -> list[dict[str, Any]]:
    asyncio.run(run_rollouts(TASKS, config, out, show_progress=False))
    rows = [json.loads(x) for x in (out / "trajectories.jsonl").read_text().splitlines()]
    return sorted(rows, key=lambda r: r["id"])


def _essence(row: dict[str, Any]) -> tuple:
    return (row["id"], row["status"], row["grade"]["correct"], row["final"]["answer"],
            [m.get("content") for m in row["messages"] if m["role"] == "tool"])


def test_ray_and_local_executors_write_the_same_trajectories(tmp_path: Path):
    with OpenAITestServer(teacher) as srv:
        base = {"llm": {"backend": "openai", "model": "teacher", "base_url": srv.base_url},
                "tools": {"enabled": ["python"]}, "samples": 2, "concurrency": 3}
        local = _run(RolloutConfig(**base), tmp_path / "local")
        remote = _run(RolloutConfig(**base, executor="ray", ray={"workers": 2, "num_cpus_per_worker": 0.5}),
                      tmp_path / "ray")
    assert [_essence(r) for r in local] == [_essence(r) for r in remote]
    assert len(remote) == 12 and sum(r["grade"]["correct"] for r in remote) == 10
    assert all(r["policy"]["backend"] == "openai" for r in remote)


def test_a_killed_ray_run_resumes_from_its_records(tmp_path: Path):
    with OpenAITestServer(teacher) as srv:
        config = RolloutConfig(llm={"backend": "openai", "model": "teacher", "base_url": srv.base_url},
                               tools={"enabled": ["python"]}, executor="ray", ray={"workers": 1})
        out = tmp_path / "r"
        first = _run(config, out)
        lines = (out / "trajectories.jsonl").read_text().splitlines()
        (out / "trajectories.jsonl").write_text("\n".join(lines[:2]) + "\n")  # as if killed after two
        served = len(srv.requests)
        again = _run(config, out)
    assert [_essence(r) for r in again] == [_essence(r) for r in first]
    assert len(srv.requests) - served == 2 * (len(TASKS) - 2)  # only the four missing tasks were run again


def test_ray_synthesis_verification_keeps_what_the_local_one_keeps(tmp_path: Path):
    from sciresearcher.synth.computational import run_synthesis
    from sciresearcher.synth.config import SynthConfig

    def kept(out: Path) -> tuple[list[str], list[tuple[str, list[str]]]]:
        tasks = sorted(json.loads(x)["id"] for x in (out / "tasks.jsonl").read_text().splitlines())
        rejected = sorted((json.loads(x)["id"], json.loads(x)["reasons"])
                          for x in (out / "rejected.jsonl").read_text().splitlines()) if (
            out / "rejected.jsonl").exists() else []
        return tasks, rejected

    config = SynthConfig(n=16, seed=5)
    asyncio.run(run_synthesis(config, tmp_path / "local", show_progress=False))
    remote = SynthConfig(n=16, seed=5, executor="ray", ray={"workers": 2, "num_cpus_per_worker": 0.5})
    asyncio.run(run_synthesis(remote, tmp_path / "ray", show_progress=False))
    assert kept(tmp_path / "local") == kept(tmp_path / "ray") and kept(tmp_path / "ray")[0]
