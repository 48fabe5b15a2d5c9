"""Verification filters for synthesized tasks (DESIGN §6); each returns a reason when a task fails it.

- `answerable`: every cited value is written, exactly as used, in the sentence its evidence points at, and the
  evidence text is that sentence of the source document (offline: exact match, no model);
- `reference_solution`: the task's solution code runs in the sandbox and prints the exact answer, and the
  stated answer is within the task's tolerance of it;
- `solver_votes`: independent solver runs of the agent (with the configured model and tools) are graded against
  the answer; at least `min_agree` must agree. `no_tool_attempt` answers once without tools: a task the model
  gets right from memory is trivial and is rejected.

The model-based checks take any `LLMClient`, so tests drive them with the scripted LLM or a local server.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable
from typing import Any

from sciresearcher.llm.base import LLMClient
from sciresearcher.records import Document, SolverVote, Task
from sciresearcher.synth.facts import fmt

ToolsFactory = Callable[[], contextlib.AbstractAsyncContextManager[list[Callable[..., Any]]]]


def answerable(task: Task, docs: dict[str, Document]) -> str | None:
    """None when every cited value is stated in its sentence; else what is wrong."""
    variables = task.metadata.get("variables", {})
    cited = {(e.doc_id, e.locator.sentence): e for e in task.evidence}
    for name, var in variables.items():
        if "doc_id" not in var:
            continue  # given in the question
        doc = docs.get(var["doc_id"])
        if doc is None or not doc.sentences or var["sentence"] >= len(doc.sentences):
            return f"{name}: source {var['doc_id']} sentence {var['sentence']} not found"
        sentence = doc.sentences[var["sentence"]]
        if fmt(var["value"]) not in sentence:
            return f"{name}: {fmt(var['value'])} is not written in {var['doc_id']} sentence {var['sentence']}"
        evidence = cited.get((var["doc_id"], var["sentence"]))
        if evidence is None or evidence.text != sentence:
            return f"{name}: the evidence does not quote {var['doc_id']} sentence {var['sentence']}"
    return None


def _last_number(text: str) -> float | None:
    for line in reversed(text.strip().splitlines()):
        try:
            return float(line.strip())
        except ValueError:
            continue
    return None


async def reference_solution(task: Task, session: Any) -> str | None:
    """None when the solution runs in the sandbox and reproduces the answer; else what went wrong."""
    code = task.metadata.get("solution")
    if not code:
        return "no reference solution"
    result = await session.run(code)
    if not result.ok:
        return f"the solution failed in the sandbox: {result.error}"
    printed = _last_number(result.stdout)
    exact = task.metadata.get("exact_answer")
    if printed is None:
        return f"the solution printed no number (stdout: {result.stdout[-200:]!r})"
    if exact is None or not math.isclose(printed, exact, rel_tol=1e-9, abs_tol=1e-12):
        return f"the solution printed {printed!r}, the task records {exact!r}"
    stated = float(task.answer)
    tolerance = task.tolerance or 0.01
    if not math.isclose(stated, printed, rel_tol=tolerance, abs_tol=1e-12):
        return f"the stated answer {task.answer} is not within {tolerance:g} of {printed!r}"
    return None


async def solver_votes(task: Task, llm: LLMClient, tools_factory: ToolsFactory, agent_config: Any,
                       samples: int) -> list[SolverVote]:
    """`samples` independent agent runs on the task, each graded against its answer."""
    from sciresearcher.agent.loop import run_agent
    from sciresearcher.eval.grading import grade

    async def one(i: int) -> SolverVote:
        sampling = {**agent_config.sampling, "seed": 1000 + i}
        async with tools_factory() as tools:
            traj = await run_agent(task, llm, tools, agent_config.model_copy(update={"sampling": sampling}),
                                   sample_index=i)
        answer = traj.final.answer if traj.final else None
        return SolverVote(solver=f"{getattr(llm, 'model', 'solver')}#{i}", answer=answer,
                          agrees=traj.status == "ok" and grade(task, traj.final).correct)

    return list(await asyncio.gather(*(one(i) for i in range(samples))))


async def no_tool_attempt(task: Task, llm: LLMClient, agent_config: Any) -> SolverVote:
    """One answer with no tools at all: agrees=True means the task is answerable from memory (trivial)."""
    from sciresearcher.agent.loop import run_agent
    from sciresearcher.eval.grading import grade

    traj = await run_agent(task, llm, [], agent_config.model_copy(update={"max_turns": 1}))
    return SolverVote(solver=f"{getattr(llm, 'model', 'solver')}#no-tools",
                      answer=traj.final.answer if traj.final else None,
                      agrees=traj.status == "ok" and grade(task, traj.final).correct)
