"""Rejection sampling of teacher trajectories (the paper's teacher trajectories): keep only correct, well-formed ones.

`reject_reasons(traj, ...)` lists every rule a trajectory breaks, by name (`status:error`, `wrong`,
`no_answer`, `no_confidence`, `format_errors`, `tool_errors`, `too_few_tool_calls`, `too_many_turns`,
`not_renderable`, `contaminated`); `select_trajectories` applies them, then keeps at most `max_per_task` per
task (fewest errors first, then sample order), dropping ones that repeat a kept one's tool calls and answer.
A trajectory without a grade is graded against its task when a task file is given (rules only; a judged run
keeps its judge's grade). The question screened for contamination is the task's, else the first user message.

It reads trajectories from run directories or JSONL files; it never changes them, and it does not call models.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sciresearcher.data.config import FilterConfig
from sciresearcher.data.overlap import OverlapIndex
from sciresearcher.data.screen import contamination
from sciresearcher.errors import DataError, TrainingError
from sciresearcher.records import Task, Trajectory
from sciresearcher.runs import iter_jsonl

log = logging.getLogger(__name__)


def trajectory_files(paths: Iterable[str | Path]) -> list[Path]:
    """Each path as a JSONL file: a run directory means its trajectories.jsonl."""
    files = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            path = path / "trajectories.jsonl"
        if not path.is_file():
            raise DataError(f"no trajectories at {raw}", hint="pass a run directory of `eval run` / `data rollout` "
                            "or a trajectories JSONL file")
        files.append(path)
    return files


def read_trajectories(paths: Iterable[str | Path]) -> list[Trajectory]:
    """Trajectories from every file, the last record of each id winning (as in a resumed run)."""
    latest: dict[str, Trajectory] = {}
    for path in trajectory_files(paths):
        for lineno, row in iter_jsonl(path, hint="each line is one Trajectory record", complete_lines_only=True):
            try:
                traj = Trajectory.model_validate(row)
            except ValueError as exc:
                raise DataError(f"{path}:{lineno}: not a Trajectory record ({str(exc).splitlines()[0]})") from exc
            latest.pop(traj.id, None)
            latest[traj.id] = traj
    return list(latest.values())


def question_of(traj: Trajectory, task: Task | None) -> str:
    if task is not None:
        return task.question
    return next((m.content or "" for m in traj.messages if m.role == "user"), "")


def signature(traj: Trajectory) -> str:
    """What makes two trajectories of one task the same: their tool calls (name, arguments) and answer."""
    calls = [(c.function.name, c.function.arguments) for m in traj.messages for c in (m.tool_calls or [])]
    answer = (traj.final.answer or "").strip().casefold() if traj.final else ""
    return hashlib.blake2b(json.dumps([calls, answer]).encode(), digest_size=12).hexdigest()


def reject_reasons(traj: Trajectory, config: FilterConfig, task: Task | None = None,
                   eval_index: OverlapIndex | None = None) -> list[str]:
    """Every rule `traj` breaks (empty = acceptable). Regrades an ungraded trajectory when `task` is given."""
    from sciresearcher.grade.graders import grade
    from sciresearcher.train.rows import trajectory_to_sft_row

    reasons = []
    if traj.status != "ok":
        reasons.append(f"status:{traj.status}")
    if traj.final is None or not (traj.final.answer or "").strip():
        reasons.append("no_answer")
    elif config.require_confidence and traj.final.confidence is None:
        reasons.append("no_confidence")
    if config.require_correct:
        if traj.grade is None and task is not None:
            traj.grade = grade(task, traj.final)
            traj.reward = traj.grade.score
        if traj.grade is None:
            reasons.append("ungraded")
        elif not traj.grade.correct:
            reasons.append("wrong")
    c = traj.counters
    # the errors of demonstrated mistakes (turns of weight 0, which SFT does not train on) are not held against it
    if config.max_format_errors is not None and c.format_errors - c.untrained_format_errors > config.max_format_errors:
        reasons.append("format_errors")
    if config.max_tool_errors is not None and c.tool_errors - c.untrained_tool_errors > config.max_tool_errors:
        reasons.append("tool_errors")
    if c.tool_calls < config.min_tool_calls:
        reasons.append("too_few_tool_calls")
    if config.max_turns is not None and c.turns > config.max_turns:
        reasons.append("too_many_turns")
    if not reasons:
        try:
            trajectory_to_sft_row(traj)
        except TrainingError:
            reasons.append("not_renderable")
    if eval_index is not None and config.screen is not None:
        hit = contamination(eval_index, question_of(traj, task), config.screen)
        if hit is not None:
            reasons.append(f"contaminated:{hit.source}/{hit.item_id}")
    return reasons


@dataclass
class Selection:
    kept: list[Trajectory]
    rejected: list[dict[str, Any]]  # {"id", "task_id", "reasons": [...]}

    def summary(self) -> dict[str, Any]:
        reasons: dict[str, int] = {}
        for row in self.rejected:
            for reason in row["reasons"]:
                key = reason.split(":")[0] if reason.startswith("contaminated") else reason
                reasons[key] = reasons.get(key, 0) + 1
        tasks_in = {t.task_id for t in self.kept} | {r["task_id"] for r in self.rejected}
        return {"trajectories_in": len(self.kept) + len(self.rejected), "kept": len(self.kept),
                "rejected": len(self.rejected), "reasons": dict(sorted(reasons.items())),
                "tasks_in": len(tasks_in), "tasks_kept": len({t.task_id for t in self.kept})}


def select_trajectories(trajectories: list[Trajectory], config: FilterConfig, tasks: dict[str, Task] | None = None,
                        eval_index: OverlapIndex | None = None) -> Selection:
    """Applies the rules, then the per-task cap and trajectory dedup. The kept list is in task order (the order of
    `tasks`, else by task id), then sample index: the same rows in the same order whatever order the rollouts
    finished in (concurrent rollouts append as they finish), so a seeded SFT run sees the same batches."""
    tasks = tasks or {}
    rejected: list[dict[str, Any]] = []
    ok: list[Trajectory] = []
    for traj in trajectories:
        reasons = reject_reasons(traj, config, tasks.get(traj.task_id), eval_index)
        if reasons:
            rejected.append({"id": traj.id, "task_id": traj.task_id, "reasons": reasons})
        else:
            ok.append(traj)

    def rank(t: Trajectory) -> tuple[int, int, str]:
        return t.counters.format_errors + t.counters.tool_errors, t.sample_index, t.id

    kept: list[Trajectory] = []
    per_task: dict[str, list[str]] = {}
    for traj in sorted(ok, key=rank):
        sigs = per_task.setdefault(traj.task_id, [])
        sig = signature(traj)
        if config.dedup_trajectories and sig in sigs:
            rejected.append({"id": traj.id, "task_id": traj.task_id, "reasons": ["duplicate_trajectory"]})
        elif len(sigs) >= config.max_per_task:
            rejected.append({"id": traj.id, "task_id": traj.task_id, "reasons": ["over_max_per_task"]})
        else:
            sigs.append(sig)
            kept.append(traj)
    position = {task_id: i for i, task_id in enumerate(tasks)}
    kept.sort(key=lambda t: (position.get(t.task_id, len(position)), t.task_id, t.sample_index, t.id))
    return Selection(kept, rejected)
