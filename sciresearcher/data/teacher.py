"""Teacher trajectories: a model (the teacher) rolled out on a task file, graded, resumable.

`run_teacher(tasks, RolloutConfig, out)` is the rollout runner (the same one `eval run` uses) over the tasks
synthesis wrote, with a summary of how the teacher did (accuracy, pass@k over its samples, turns, tool
calls, cost). Which trajectories become training data is `rejection.py`'s decision, not this module's.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from sciresearcher.llm.base import LLMClient
from sciresearcher.records import Task
from sciresearcher.rollout.config import RolloutConfig
from sciresearcher.rollout.runner import run_rollouts
from sciresearcher.rollout.summary import summarize_trajectories


async def run_teacher(tasks: list[Task], config: RolloutConfig, out: str | Path, *, source: str = "",
                      llm: LLMClient | None = None, show_progress: bool = True) -> dict[str, Any]:
    """Rolls the teacher out on `tasks` (`config.samples` each) into `out`; returns summary.json's content."""

    def summarize(trajectories: list[dict[str, Any]], judged: bool) -> dict[str, Any]:
        summary = summarize_trajectories(tasks, trajectories, sorted({1, config.samples}))
        summary["tasks_file"] = source
        summary["tasks"] = len(tasks)
        summary["by_answer_type"] = dict(Counter(t.answer_type for t in tasks))
        summary["model"] = config.llm.model
        summary["grader"] = "hle_judge" if judged else "rules"
        return summary

    run = await run_rollouts(tasks, config, out, llm=llm, label="teacher rollout", summarize=summarize,
                             show_progress=show_progress)
    return run.summary
