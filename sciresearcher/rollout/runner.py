"""`run_rollouts`: the agent on every task x sample, graded, into a resumable run directory.

`rollout_one` is a single graded trajectory without a run directory (synthesis solver votes use it).
The run directory holds `config.yaml` (the resolved config of the caller: a RolloutConfig or an EvalConfig),
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

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sciresearcher.agent.config import AgentConfig
from sciresearcher.agent.toolbox import ToolsFactory, make_tools_factory
from sciresearcher.errors import ConfigError
from sciresearcher.grade.outcome import Judge, grade_outcome
from sciresearcher.llm.accounting import session_costs
from sciresearcher.llm.base import LLMClient
from sciresearcher.records import Task, Trajectory
from sciresearcher.rollout.config import RolloutConfig
from sciresearcher.tasks.benchmark import options_for_sample
from sciresearcher.tasks.registry import BENCHMARK_PAGES

log = logging.getLogger(__name__)

Grader = Literal["rules", "judge"]
JUDGE_HINT = "set --judge.llm.backend openai --judge.llm.model o3-mini-2025-01-31"


def wants_judge(config: RolloutConfig, default: Grader = "rules") -> bool:
    """Whether this run grades with the judge: asked for, or the tasks' default with a judge model set."""
    if config.grader == "rules":
        return False
    if config.grader == "judge":
        return True
    return default == "judge" and config.judge.llm is not None


def rollout_tools(config: RolloutConfig) -> ToolsFactory:
    """The run's tools: the toolbox of `config.tools`, with the benchmarks' pages blocked when asked."""
    return make_tools_factory(config.tools, blocklist=BENCHMARK_PAGES if config.block_benchmark_pages else ())


async def rollout_one(task: Task, sample: int, llm: LLMClient, tools_factory: ToolsFactory, agent: AgentConfig, *,
                      seed: int = 0, judge: Judge | None = None, backend: str = "unknown") -> Trajectory:
    """One graded trajectory: options in the sample's order, a seeded sampling seed, a fresh tool session."""
    from sciresearcher.agent.loop import run_agent

    shown, order = options_for_sample(task, sample, seed)
    sampling = dict(agent.sampling)
    sampling.setdefault("seed", seed * 100_003 + sample)
    agent = agent.model_copy(update={"sampling": sampling})
    async with tools_factory() as tools:
        traj = await run_agent(shown, llm, tools, agent, sample_index=sample, backend=backend)
    traj.grade = await grade_outcome(shown, traj.final, judge, where=traj.id)  # the judge sees the raw question
    traj.reward = traj.grade.score
    traj.metadata = {**traj.metadata, "benchmark_gold": shown.answer, "category": task.category,
                     "difficulty": task.difficulty, "options_order": order if shown is not task else None}
    return traj


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
    if llm is None:
        llm = make_client(config.llm.for_run(out, "agent"))  # with --llm.batch, batch ids live in the run dir
    if judged and judge_llm is None:
        if config.judge.llm is None:
            raise ConfigError("grader 'judge' needs a judge model", hint=JUDGE_HINT)
        judge_llm = make_client(config.judge.llm.for_run(out, "judge"))
    tools_factory = tools_factory or rollout_tools(config)
    with RunDir(out, config) as run:
        run.attach_log()
        judge = None
        if judged:
            from sciresearcher.grade.judge import HLEJudge

            judge = HLEJudge(judge_llm, cache_dir=run.path / "judge_cache" if config.judge.cache else None,
                             structured_output=config.judge.structured_output, retries=config.judge.retries)
        with run.records("trajectories") as records:
            done = records.done_ids(retry_failed=config.retry_failed)
            todo = [(t, s) for t in tasks for s in range(config.samples) if f"{t.id}#{s}" not in done]
            log.info("%s: %d trajectories to run (%d already done)", label, len(todo),
                     len(tasks) * config.samples - len(todo))
            settle_heap()  # see agent/batch.py: keeps full GC passes from stalling every agent
            await _run_all(todo, config, llm, tools_factory, judge, records, label, show_progress)
            trajectories = list(records.latest().values())
        summary = summarize(trajectories, judged) if summarize is not None else {}
        summary["session_cost"] = session_costs(agent=llm, judge=judge_llm)  # this session's calls, judge included
        run.write_json("summary.json", summary)
    return RolloutRun(Path(out), trajectories, summary, judged)


async def _run_all(todo: list[tuple[Task, int]], config: RolloutConfig, llm: LLMClient, tools_factory: ToolsFactory,
                   judge: Judge | None, records: Any, label: str, show_progress: bool) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    sem = asyncio.Semaphore(config.concurrency)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[acc]}"), TimeElapsedColumn(),
                  disable=not show_progress, transient=False) as progress:
        bar = progress.add_task(label, total=len(todo), acc="")
        n_ok = n_done = 0

        async def worker(task: Task, sample: int) -> None:
            nonlocal n_ok, n_done
            async with sem:
                traj = await rollout_one(task, sample, llm, tools_factory, config.agent, seed=config.seed, judge=judge,
                                         backend=getattr(llm, "backend", config.llm.backend))
            records.append(traj)
            n_done += 1
            n_ok += int(bool(traj.grade and traj.grade.correct))
            progress.update(bar, advance=1, acc=f"correct {n_ok}/{n_done}")

        await asyncio.gather(*(worker(t, s) for t, s in todo))
