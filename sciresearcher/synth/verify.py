"""Verification filters for synthesized tasks (docs/architecture.md, "Synthesis"); each returns a reason when a task fails it.

- `answerable`: every cited value is written in the sentence its evidence points at (as papers write numbers:
  `numbers.py` reads words, ranges, flattened exponents and units), and the evidence text is that sentence of
  the source document (offline, no model);
- `reference_solution`: the task's solution code runs in the sandbox and prints the exact answer, and the
  stated answer is within the task's tolerance of it; given a `SandboxPool` it runs in a fresh session of
  its own, so one candidate's code (a patched `print`, a leftover variable) cannot make another pass;
- `solver_votes`: independent solver runs of the agent (with the configured model and tools) are graded against
  the answer; at least `min_agree` must agree. `no_tool_attempt` answers once without tools: a task the model
  gets right from memory is trivial and is rejected.

The model-based checks take any `LLMClient`, so tests drive them with the scripted LLM or a local server.
"""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING, Any

from sciresearcher.llm.base import LLMClient
from sciresearcher.records import Document, SolverVote, Task, Verification
from sciresearcher.synth.facts import fmt
from sciresearcher.synth.numbers import numbers_in, states

__all__ = ["answerable", "no_tool_attempt", "numbers_in", "reference_solution", "solver_votes", "states",
           "verification_of"]

if TYPE_CHECKING:
    from sciresearcher.agent.config import AgentConfig
    from sciresearcher.agent.toolbox import ToolsFactory
    from sciresearcher.synth.config import SynthConfig



def verification_of(passed: list[str], failed: list[str], votes: list[SolverVote]) -> Verification:
    """The Verification record of a task: filter names passed and failed (reasons in `notes`), solver votes."""
    return Verification(filters_passed=passed, filters_failed=[f.split(":")[0] for f in failed],
                        solver_votes=votes, notes="; ".join(failed))


def source_sentence(doc: Document, var: dict[str, Any]) -> str | None:
    """The sentence a variable cites: `sentence` (index into Document.sentences) or `locator` (paragraph-level)."""
    if "locator" in var:
        from sciresearcher.knowledge.passages import locate
        from sciresearcher.records import Locator

        return locate(doc, Locator(**var["locator"]))
    if doc.sentences and 0 <= var.get("sentence", -1) < len(doc.sentences):
        return doc.sentences[var["sentence"]]
    return None


def answerable(task: Task, docs: dict[str, Document]) -> str | None:
    """None when every cited value is written in the sentence it cites and the evidence quotes that sentence."""
    variables = task.metadata.get("variables", {})
    quoted = {e.text for e in task.evidence}
    for name, var in variables.items():
        if "doc_id" not in var:
            continue  # given in the question
        doc = docs.get(var["doc_id"])
        sentence = source_sentence(doc, var) if doc is not None else None
        where = f"{var['doc_id']} {var.get('locator') or ('sentence ' + str(var.get('sentence')))}"
        if sentence is None:
            return f"{name}: source {where} not found"
        if isinstance(var["value"], str):
            if var["value"] not in sentence:
                return f"{name}: {var['value'][:40]!r} is not written in {where}"
        elif not states(var["value"], sentence, var.get("unit") or None):
            return f"{name}: {fmt(var['value'])} is not written in {where}"
        if sentence not in quoted:
            return f"{name}: the evidence does not quote {where}"
    return None


def _last_number(text: str) -> float | None:
    for line in reversed(text.strip().splitlines()):
        try:
            return float(line.strip())
        except ValueError:
            continue
    return None


async def reference_solution(task: Task, sandbox: Any) -> str | None:
    """None when the solution runs in the sandbox and reproduces the answer; else what went wrong.

    `sandbox` is a SandboxPool (a fresh session for this task: what synthesis passes) or one session the
    caller owns (then earlier code run in it can change what this solution prints)."""
    from sciresearcher.sandbox.pool import SandboxPool

    code = task.metadata.get("solution")
    if not code:
        return "no reference solution"
    if isinstance(sandbox, SandboxPool):
        async with sandbox.session() as session:
            result = await session.run(code)
    else:
        result = await sandbox.run(code)
    if not result.ok:
        return f"the solution failed in the sandbox: {result.error}"
    printed = _last_number(result.stdout)
    exact = task.metadata.get("exact_answer")
    if printed is None:
        return f"the solution printed no number (stdout: {result.stdout[-200:]!r})"
    if exact is not None and not math.isclose(printed, exact, rel_tol=1e-9, abs_tol=1e-12):
        return f"the solution printed {printed!r}, the task records {exact!r}"
    try:
        stated = float(task.answer)
    except ValueError:
        return f"the stated answer {task.answer!r} is not a number"
    tolerance = task.tolerance or 0.01
    if not math.isclose(stated, printed, rel_tol=tolerance, abs_tol=1e-12):
        return f"the stated answer {task.answer} is not within {tolerance:g} of {printed!r}"
    return None


async def solver_votes(task: Task, llm: LLMClient, tools_factory: ToolsFactory, agent_config: AgentConfig,
                       samples: int) -> list[SolverVote]:
    """`samples` independent agent runs on the task (`rollout.rollout_one`), each graded against its answer."""
    from sciresearcher.rollout.one import rollout_one

    async def one(i: int) -> SolverVote:
        traj = await rollout_one(task, i, llm, tools_factory, agent_config, seed=1000)
        answer = traj.final.answer if traj.final else None
        return SolverVote(solver=f"{getattr(llm, 'model', 'solver')}#{i}", answer=answer,
                          agrees=traj.status == "ok" and bool(traj.grade and traj.grade.correct))

    return list(await asyncio.gather(*(one(i) for i in range(samples))))


async def no_tool_attempt(task: Task, llm: LLMClient, agent_config: AgentConfig) -> SolverVote:
    """One answer with no tools at all: agrees=True means the task is answerable from memory (trivial)."""
    from sciresearcher.agent.loop import run_agent
    from sciresearcher.grade.graders import grade

    traj = await run_agent(task, llm, [], agent_config.model_copy(update={"max_turns": 1}))
    return SolverVote(solver=f"{getattr(llm, 'model', 'solver')}#no-tools",
                      answer=traj.final.answer if traj.final else None,
                      agrees=traj.status == "ok" and grade(task, traj.final).correct)


async def verify_task(task: Task, docs: dict[str, Document], sandbox: Any, config: SynthConfig,
                      solver: LLMClient | None = None, tools_factory: Any = None) -> tuple[Task, list[str]]:
    """The task with its verification filled in, and the reasons it fails (empty = keep). `sandbox`: a
    SandboxPool (a fresh session per task) or a session (see verify.reference_solution)."""
    from sciresearcher.synth.wellposed import check_task

    passed, failed, votes = [], [], []
    ill = check_task(task)
    for name, reason in (("well_posed", "; ".join(ill) if ill else None), ("answerable", answerable(task, docs)),
                         ("reference_solution", await reference_solution(task, sandbox))):
        (failed if reason else passed).append(f"{name}: {reason}" if reason else name)
    if solver is not None and not failed:
        cfg = config.solver
        if cfg.non_trivial:
            attempt = await no_tool_attempt(task, solver, cfg.agent)
            votes.append(attempt)
            (failed if attempt.agrees else passed).append(
                "non_trivial: answered right without tools" if attempt.agrees else "non_trivial")
        runs = await solver_votes(task, solver, tools_factory, cfg.agent, cfg.samples)
        votes.extend(runs)
        agree = sum(v.agrees for v in runs)
        if agree >= cfg.min_agree:
            passed.append("solver_vote")
        else:
            failed.append(f"solver_vote: {agree} of {cfg.samples} solver runs agree (need {cfg.min_agree})")
    return task.model_copy(update={"verification": verification_of(passed, failed, votes)}), failed
