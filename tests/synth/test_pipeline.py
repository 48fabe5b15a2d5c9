"""Verification filters (real sandbox, scripted solvers) and the synthesis run directory end to end."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from typer.testing import CliRunner

from sciresearcher.agent.config import AgentConfig
from sciresearcher.cli import app
from sciresearcher.errors import RunError
from sciresearcher.records import Evidence, Message, Task
from sciresearcher.sandbox.config import SandboxConfig
from sciresearcher.sandbox.session import SandboxSession
from sciresearcher.synth.computational import draft_tasks, run_synthesis, to_task
from sciresearcher.synth.config import SolverConfig, SynthConfig
from sciresearcher.synth.verify import (
    answerable,
    no_tool_attempt,
    reference_solution,
    solver_votes,
    verify_task,
)
from sciresearcher.testing import ScriptedLLM, final_answer_text, tool_call_message

pytest.importorskip("mendeleev")
pytest.importorskip("chemicals")


@pytest.fixture(scope="module")
def docs():
    from sciresearcher.synth.fact_corpus import fact_documents

    return fact_documents()


@pytest.fixture(scope="module")
def tasks(docs) -> list[Task]:
    return [to_task(d, 0.01) for d in draft_tasks(SynthConfig(n=14, seed=1), docs)]


def _run(coro):
    return asyncio.run(coro)


def test_answerable_checks_values_against_the_source_sentences(docs, tasks):
    by_id = {d.id: d for d in docs}
    assert all(answerable(t, by_id) is None for t in tasks)
    task = next(t for t in tasks if t.evidence)
    name, var = next((k, v) for k, v in task.metadata["variables"].items() if "doc_id" in v)
    wrong_value = {**task.metadata, "variables": {**task.metadata["variables"], name: {**var, "value": var["value"] * 2}}}
    assert "is not written in" in answerable(task.model_copy(update={"metadata": wrong_value}), by_id)
    bad_quote = [Evidence(**{**e.model_dump(), "text": "something else"}) for e in task.evidence]
    assert "does not quote" in answerable(task.model_copy(update={"evidence": bad_quote}), by_id)


def test_reference_solutions_run_in_the_sandbox_and_tampering_is_caught(tasks):
    async def check() -> list:
        async with SandboxSession(SandboxConfig(timeout_s=20)) as session:
            good = [await reference_solution(t, session) for t in tasks]
            t = tasks[0]
            off = await reference_solution(t.model_copy(update={"answer": str(float(t.answer) * 1.05)}), session)
            broken = await reference_solution(
                t.model_copy(update={"metadata": {**t.metadata, "solution": "print(1/0)"}}), session)
            drift = await reference_solution(t.model_copy(update={"metadata": {
                **t.metadata, "solution": t.metadata["solution"].replace("answer = ", "answer = 1.001 * ")}}), session)
            return [good, off, broken, drift]

    good, off, broken, drift = _run(check())
    assert good == [None] * len(tasks)
    assert "is not within 0.01" in off
    assert "failed in the sandbox: ZeroDivisionError" in broken
    assert "the task records" in drift


def _answer_of(messages: list[Message], tasks: list[Task]) -> str:
    question = next(m.content for m in messages if m.role == "user")
    return next(t.answer for t in tasks if t.question in question)


def test_solver_votes_and_the_no_tool_check(tasks):
    task = tasks[0]
    calls = {"n": 0}

    def solver(messages, tools):
        calls["n"] += 1
        return final_answer_text(_answer_of(messages, tasks) if calls["n"] != 2 else "-1")

    @__import__("contextlib").asynccontextmanager
    async def no_tools():
        yield []

    votes = _run(solver_votes(task, ScriptedLLM(solver), no_tools, AgentConfig(), 3))
    assert [v.agrees for v in votes] == [True, False, True] and votes[1].answer == "-1"
    trivial = _run(no_tool_attempt(task, ScriptedLLM(lambda m, t: final_answer_text(task.answer)), AgentConfig()))
    assert trivial.agrees and trivial.solver.endswith("#no-tools")


def test_verify_task_with_a_solver_using_the_real_python_tool(docs, tasks):
    """The solver computes in the sandbox through the python tool, then answers; the no-tool attempt is wrong."""

    def solver(messages, tools):
        if not tools:
            return final_answer_text("0")  # from memory: wrong, so the task is not trivial
        if not any(m.role == "tool" for m in messages):
            return tool_call_message("python", {"code": "print(2 + 2)"})
        return final_answer_text(_answer_of(messages, tasks))

    from sciresearcher.agent.toolbox import make_tools_factory

    config = SynthConfig(solver=SolverConfig(samples=3))
    factory = make_tools_factory(config.solver.tools)

    async def check():
        async with SandboxSession(config.sandbox) as session:
            return await verify_task(tasks[2], {d.id: d for d in docs}, session, config, ScriptedLLM(solver), factory)

    task, failed = _run(check())
    assert failed == []
    assert task.verification.filters_passed == ["well_posed", "answerable", "reference_solution", "non_trivial",
                                             "solver_vote"]
    assert len(task.verification.solver_votes) == 4 and all(v.agrees for v in task.verification.solver_votes[1:])


def test_a_failed_vote_lands_in_rejected_with_its_reason(tmp_path):
    wrong = ScriptedLLM(lambda m, t: final_answer_text("12345"))
    summary = _run(run_synthesis(SynthConfig(n=3, solver=SolverConfig(samples=3, non_trivial=False)),
                                 tmp_path / "run", solver=wrong, show_progress=False))
    assert summary["kept"] == 0 and summary["reasons"] == {"solver_vote": 3}
    row = json.loads((tmp_path / "run" / "rejected.jsonl").read_text().splitlines()[0])
    assert re.match(r"solver_vote: 0 of 3 solver runs agree \(need 2\)", row["reasons"][0])
    assert row["task"]["verification"]["filters_failed"] == ["solver_vote"]


def test_synth_cli_writes_a_resumable_run(tmp_path):
    out = tmp_path / "synth"
    first = CliRunner().invoke(app, ["synth", "computational", "-n", "21", "--out", str(out), "-q"])
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout[first.stdout.index("{"):])
    assert summary["kept"] == 21 and summary["rejected"] == 0 and len(summary["per_template"]) == 21
    lines = (out / "tasks.jsonl").read_text().splitlines()
    assert len(lines) == 21 and (out / "facts.jsonl").is_file() and (out / "config.yaml").is_file()
    Task.model_validate_json(lines[0])
    again = CliRunner().invoke(app, ["synth", "computational", "-n", "21", "--out", str(out), "-q"])
    assert again.exit_code == 0 and (out / "tasks.jsonl").read_text().splitlines() == lines  # nothing redone
    other = CliRunner().invoke(app, ["synth", "computational", "-n", "5", "--out", str(out), "-q"])
    assert isinstance(other.exception, RunError)
    # the tasks flow on: screening keeps them all (they are not in any eval set)
    clean = CliRunner().invoke(app, ["data", "clean", str(out / "tasks.jsonl"), "--out", str(tmp_path / "clean"),
                                     "--eval_sets", "[]"])
    assert clean.exit_code == 0 and json.loads(clean.stdout[clean.stdout.index("{"):])["kept"] == 21


def test_candidates_are_written_in_the_order_drawn_whatever_order_they_finish(tmp_path, monkeypatch):
    """Verified 4 at a time, the first candidates finishing last: tasks.jsonl lists them as drawn, as one at a time."""
    from sciresearcher.synth import computational

    real = computational.verify_task
    finished: list[str] = []
    others_done = asyncio.Event()

    async def late_for_the_first(task, *args, **kwargs):
        if task.id in first_ids:  # the first two wait until the other six are verified (in the two free slots)
            await asyncio.wait_for(others_done.wait(), timeout=60)
        result = await real(task, *args, **kwargs)
        finished.append(task.id)
        if len(set(finished) - first_ids) == 6:
            others_done.set()
        return result

    one = _run(run_synthesis(SynthConfig(n=8, solver=SolverConfig(concurrency=1)), tmp_path / "one",
                             show_progress=False))
    drawn = [json.loads(line)["id"] for line in (tmp_path / "one" / "tasks.jsonl").read_text().splitlines()]
    first_ids = set(drawn[:2])
    monkeypatch.setattr(computational, "verify_task", late_for_the_first)
    four = _run(run_synthesis(SynthConfig(n=8, solver=SolverConfig(concurrency=4)), tmp_path / "four",
                              show_progress=False))
    assert finished[:2] != drawn[:2] and set(finished[-2:]) == first_ids  # they did finish out of order
    written = [json.loads(line)["id"] for line in (tmp_path / "four" / "tasks.jsonl").read_text().splitlines()]
    assert written == drawn and one["kept"] == four["kept"] == 8
