"""Summaries of graded trajectories: accuracy with an interval, pass@k, turns, tool calls, cost (list price vs
billed, with the prompt-cache and batch split).

`summarize_trajectories(tasks, trajectories, ks)` turns trajectory records into metric samples and calls
`grade.metrics.summarize`, the same figures for a teacher rollout as for an evaluation. Tasks with no
trajectory count as wrong, in their category too. An answer read in a sample's own option order is named
in the task's order (so maj@k compares like with like), and failed grades (an ungradable gold, a failed
judge call) are counted. `cut_turns` counts the model turns that stopped at the sampling `max_tokens`
(finish reason `length`): a tool call cut there fails to parse, so a budget too small for the routine shows up
here rather than as a mysteriously weak model. Benchmark-specific fields (benchmark counts, grader) are added by
eval/.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sciresearcher.grade.metrics import Sample, summarize
from sciresearcher.grade.outcome import failure_kind
from sciresearcher.llm.accounting import cost_split
from sciresearcher.records import Task, Trajectory
from sciresearcher.tasks.benchmark import letters_in_task_order


def sample_from(traj: dict[str, Any] | Trajectory, task: Task | None) -> Sample:
    """The metric sample of one trajectory (its grade, confidence, turns, tool calls, cost, status)."""
    t = traj if isinstance(traj, Trajectory) else Trajectory.model_validate(traj)
    g = t.grade
    extracted = g.extracted if g else None
    if task is not None and task.answer_type in ("multipleChoice", "multiSelect"):
        extracted = letters_in_task_order(extracted, t.metadata.get("options_order"))
    failure = failure_kind(g)
    return Sample(
        task_id=t.task_id, correct=bool(g and g.correct), extracted=extracted,
        confidence=t.final.confidence if t.final else None,
        category=task.category if task else None, answer_type=task.answer_type if task else None,
        difficulty=task.difficulty if task else None, turns=t.counters.turns, tool_calls=t.counters.tool_calls,
        cost_usd=t.usage.cost_usd, status=t.status, extra={"grade_failure": failure} if failure else {},
    )


def task_groups(tasks: list[Task]) -> dict[str, tuple[str | None, str | None]]:
    """Each task's (category, answer type), so tasks without a sample are counted in their own group."""
    return {t.id: (t.category, t.answer_type) for t in tasks}


def summarize_trajectories(tasks: list[Task], trajectories: list[dict[str, Any]], ks: list[int]) -> dict[str, Any]:
    """Metrics over the trajectories of `tasks` (others are ignored), in task and sample order."""
    by_id = {t.id: t for t in tasks}
    ordered = sorted(trajectories, key=lambda tr: (tr["task_id"], tr.get("sample_index", 0)))
    samples = [sample_from(tr, by_id.get(tr["task_id"])) for tr in ordered if tr["task_id"] in by_id]
    out = summarize(samples, [t.id for t in tasks], ks, groups=task_groups(tasks))
    out["cost"] = cost_split(Trajectory.model_validate(tr).usage for tr in ordered)  # list vs billed, cache / batch
    out["cut_turns"] = cut_turns(tr for tr in ordered if tr["task_id"] in by_id)
    return out


def cut_turns(trajectories: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Model turns that stopped at `max_tokens` (finish reason `length`): how many, their share of all turns, and
    how many trajectories had one."""
    turns = cut = hit = 0
    for tr in trajectories:
        reasons = [step.get("finish_reason") for step in tr.get("steps") or []]
        turns, cut = turns + len(reasons), cut + reasons.count("length")
        hit += "length" in reasons
    return {"turns": cut, "share": cut / turns if turns else 0.0, "trajectories": hit}
