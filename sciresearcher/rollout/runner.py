"""`run_rollouts`: the agent on every task x sample, graded, into a resumable run directory.

The per-task work (`one.rollout_one`) runs on this event loop or on a Ray cluster (`executor: ray`,
executor.py); either way this process is the run directory's only writer. The run directory holds `config.yaml` (the resolved config of the caller: a RolloutConfig or an EvalConfig),
`trajectories.jsonl` (one graded Trajectory per task x sample, keyed `<task_id>#<sample>`, appended as each
finishes), `judge_cache/`, `batches/` (with `--llm.batch`), `run.log` and `summary.json` (what the caller's `summarize`
returns, plus this session's cost by client). A killed run
resumes: finished trajectories are skipped, and with `retry_failed` those that ended in error are redone.
Trajectories run concurrently under a semaphore with a progress bar; each gets its own tool session (a fresh
sandbox) from the toolbox. Options of shuffled tasks are put in a seeded per-sample order. Provider
failures are data (status error, graded wrong), never a crash; so are a task whose gold cannot be graded
and a failed judge call (grade.outcome records them as failed grades with the reason). The judge is given
the raw benchmark question (grade.outcome.judge_question). Benchmarks and their metrics are eval/'s.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sciresearcher.agent.toolbox import ToolsFactory
from sciresearcher.errors import ConfigError
from sciresearcher.llm.accounting import session_costs
from sciresearcher.llm.base import LLMClient
from sciresearcher.records import Task, Trajectory
from sciresearcher.rollout.config import RolloutConfig
from sciresearcher.rollout.executor import local_rollouts
from sciresearcher.rollout.one import JUDGE_HINT, Grader, make_judge, rollout_one, rollout_tools, wants_judge

log = logging.getLogger(__name__)

@dataclass
class RolloutRun:
    """What a finished (or resumed) run holds: its directory, every trajectory (as dicts), the summary."""

    path: Path
    trajectories: list[dict[str, Any]]
    summary: dict[str, Any]
    judged: bool


async def run_rollouts(tasks: list[Task], config: RolloutConfig, out: str | Path, *, llm: LLMClient | None = None,
                       judge_llm: LLMClient | None = None, tools_factory: ToolsFactory | None = None,
                       default_grader: Grader = "rules", label: str = "rollout",
                       summarize: Callable[[list[dict[str, Any]], bool], dict[str, Any]] | None = None,
                       show_progress: bool = True) -> RolloutRun:
    """Runs (or resumes) every task x `config.samples` into `out`; `summarize(trajectories, judged)` -> summary.json."""
    from sciresearcher.agent.batch import settle_heap
    from sciresearcher.llm import make_client
    from sciresearcher.runs import RunDir

    judged = wants_judge(config, default_grader)
    explicit_llm, explicit_tools = llm is not None, tools_factory is not None  # shipped to Ray workers as they are
    if llm is None:
        llm = make_client(config.llm.for_run(out, "agent"))  # with --llm.batch, batch ids live in the run dir
    if judged and judge_llm is None:
        if config.judge.llm is None:
            raise ConfigError("grader 'judge' needs a judge model", hint=JUDGE_HINT)
        judge_llm = make_client(config.judge.llm.for_run(out, "judge"))
    tools_factory = tools_factory or rollout_tools(config)
    with RunDir(out, config) as run:
        run.attach_log()
        judge = make_judge(config, judge_llm, run.path / "judge_cache") if judged else None
        with run.records("trajectories") as records:
            done = records.done_ids(retry_failed=config.retry_failed)
            todo = [(t, s) for t in tasks for s in range(config.samples) if f"{t.id}#{s}" not in done]
            log.info("%s: %d trajectories to run (%d already done)", label, len(todo),
                     len(tasks) * config.samples - len(todo))
            settle_heap()  # see agent/batch.py: keeps full GC passes from stalling every agent
            if config.executor == "ray":
                from sciresearcher.rollout.executor import RayRollouts

                remote = RayRollouts(config, llm=llm if explicit_llm else None, judge_llm=judge_llm,
                                     tools_factory=tools_factory if explicit_tools else None, judged=judged)
                try:
                    await _record_all(remote.run(todo), len(todo), records, label, show_progress)
                finally:
                    remote.close()
            else:
                def one(task: Task, sample: int) -> Any:
                    return rollout_one(task, sample, llm, tools_factory, config.agent, seed=config.seed, judge=judge,
                                       backend=getattr(llm, "backend", config.llm.backend))

                await _record_all(local_rollouts(todo, one, config.concurrency), len(todo), records, label,
                                  show_progress)
            trajectories = list(records.latest().values())
        close = getattr(llm, "close", None)
        if not explicit_llm and callable(close):
            close()  # a local model's worker thread, which would slow the next client in this process
        summary = summarize(trajectories, judged) if summarize is not None else {}
        summary["session_cost"] = session_costs(agent=llm, judge=judge_llm)  # this session's calls, judge included
        run.write_json("summary.json", summary)
    return RolloutRun(Path(out), trajectories, summary, judged)


async def _record_all(trajectories: AsyncIterator[Trajectory], total: int, records: Any, label: str,
                      show_progress: bool) -> None:
    """Appends each trajectory as it finishes (the run directory's only writer), with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[acc]}"), TimeElapsedColumn(),
                  disable=not show_progress, transient=False) as progress:
        bar = progress.add_task(label, total=total, acc="")
        n_ok = n_done = 0
        async for traj in trajectories:
            records.append(traj)
            n_done += 1
            n_ok += int(bool(traj.grade and traj.grade.correct))
            progress.update(bar, advance=1, acc=f"correct {n_ok}/{n_done}")
