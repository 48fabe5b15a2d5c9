"""`eval run`: the agent on every task x sample, graded, into a resumable run directory, then summarised.

The run directory holds `config.yaml` (the resolved EvalConfig), `trajectories.jsonl` (one graded
Trajectory per task x sample, keyed `<task_id>#<sample>`, appended as each finishes), `judge_cache/`,
`run.log` and `summary.json`. A killed run resumes: finished trajectories are skipped, and with
`retry_failed` those that ended in error are redone. Trajectories run concurrently under a semaphore with
a rich progress bar; each gets its own tool session (sandbox). Provider failures are data (status error,
graded wrong), never a crash. Scoring of outputs produced elsewhere is in `score.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sciresearcher.agent.toolbox import ToolsConfig
from sciresearcher.errors import JudgeError
from sciresearcher.eval.benchmarks import Benchmark, load_benchmark, options_for_sample
from sciresearcher.eval.config import EvalConfig
from sciresearcher.eval.grading import grade
from sciresearcher.eval.metrics import Sample, summarize
from sciresearcher.llm.accounting import cost_split, session_costs
from sciresearcher.llm.base import LLMClient
from sciresearcher.records import Grade, Task, Trajectory

log = logging.getLogger(__name__)

ToolsFactory = Callable[[], contextlib.AbstractAsyncContextManager[list[Callable[..., Any]]]]


def use_judge(config: EvalConfig, bench: Benchmark) -> bool:
    if config.grader == "rules":
        return False
    if config.grader == "judge":
        return True
    return bench.grader == "judge" and config.judge.llm is not None


async def grade_trajectory(task: Task, traj: Trajectory, judge: Any | None) -> Grade:
    """Rule-based grade, or the HLE judge's (a judge failure is recorded as a wrong grade with the reason)."""
    if judge is None:
        return grade(task, traj.final)
    from sciresearcher.agent.prompts import render_question

    response = traj.final.raw if traj.final is not None else None
    try:
        return await judge.grade(render_question(task), response, task.answer)
    except JudgeError as exc:
        log.warning("judge failed on %s: %s", traj.id, exc)
        return Grade(correct=False, score=0.0, method="hle_judge", reason=f"judge failed: {exc}")


def sample_from(traj: dict[str, Any] | Trajectory, task: Task | None) -> Sample:
    t = traj if isinstance(traj, Trajectory) else Trajectory.model_validate(traj)
    g = t.grade
    return Sample(
        task_id=t.task_id, correct=bool(g and g.correct), extracted=g.extracted if g else None,
        confidence=t.final.confidence if t.final else None,
        category=task.category if task else None, answer_type=task.answer_type if task else None,
        difficulty=task.difficulty if task else None, turns=t.counters.turns, tool_calls=t.counters.tool_calls,
        cost_usd=t.usage.cost_usd, status=t.status,
    )


def summarize_run(bench: Benchmark, trajectories: list[dict[str, Any]], ks: list[int]) -> dict[str, Any]:
    by_id = {t.id: t for t in bench.tasks}
    trajectories = sorted(trajectories, key=lambda tr: (tr["task_id"], tr.get("sample_index", 0)))
    samples = [sample_from(tr, by_id.get(tr["task_id"])) for tr in trajectories if tr["task_id"] in by_id]
    out = summarize(samples, [t.id for t in bench.tasks], ks)
    out["benchmark"] = bench.counts()
    out["cost"] = cost_split(Trajectory.model_validate(tr).usage for tr in trajectories)  # issue 18: cache/batch split
    return out


async def _one(task: Task, sample: int, config: EvalConfig, llm: LLMClient, tools_factory: ToolsFactory,
               judge: Any | None) -> Trajectory:
    from sciresearcher.agent.loop import run_agent

    shown, order = options_for_sample(task, sample, config.seed)
    sampling = dict(config.agent.sampling)
    sampling.setdefault("seed", config.seed * 100_003 + sample)
    agent = config.agent.model_copy(update={"sampling": sampling})
    async with tools_factory() as tools:
        traj = await run_agent(shown, llm, tools, agent, sample_index=sample, backend=config.llm.backend)
    traj.grade = await grade_trajectory(shown, traj, judge)
    traj.reward = traj.grade.score
    traj.metadata = {**traj.metadata, "benchmark_gold": shown.answer, "category": task.category,
                     "difficulty": task.difficulty, "options_order": order if shown is not task else None}
    return traj


# Pages that hold the benchmarks' questions and answers: refused by search/read during evaluation.
BENCHMARK_BLOCKLIST = [
    r"huggingface\.co/datasets/(futurehouse|m-a-p|idavidrein|cais|qiaojin|allenai/scifact|xw27)",
    r"lastexam\.ai", r"agi\.safe\.ai",
    (r"github\.com/(centerforaisafety/hle|supergpqa|idavidrein/gpqa|future-house/lab-bench|mandyyyyii/scibench"
     r"|pubmedqa/pubmedqa|allenai/scifact)"),
]


def default_tools_factory(config: EvalConfig) -> ToolsFactory:
    """The eval run's tools: `make_tools_factory(config.tools)`, with the benchmarks' pages blocked when asked."""
    return make_tools_factory(config.tools, block_benchmark_pages=config.block_benchmark_pages)


def make_tools_factory(tools_cfg: ToolsConfig, *, block_benchmark_pages: bool = True) -> ToolsFactory:
    """Per trajectory: a fresh sandbox session; search and read (frozen index and reader) are built once."""
    from sciresearcher.agent.toolbox import open_tools

    if block_benchmark_pages:
        knowledge = tools_cfg.knowledge.model_copy(
            update={"blocklist": [*tools_cfg.knowledge.blocklist, *BENCHMARK_BLOCKLIST]})
        tools_cfg = tools_cfg.model_copy(update={"knowledge": knowledge})
    shared_names = [n for n in tools_cfg.enabled if n in ("search", "read")]
    per_trajectory = tools_cfg.model_copy(update={"enabled": [n for n in tools_cfg.enabled if n == "python"]})
    shared: list[Callable[..., Any]] | None = None

    @contextlib.asynccontextmanager
    async def factory() -> Any:
        nonlocal shared
        if shared is None:  # no await between the check and the assignment: built exactly once
            shared = []
            if shared_names:
                from sciresearcher.knowledge.tools_factory import build_knowledge_tools

                reader = None
                if tools_cfg.reader_llm is not None:
                    from sciresearcher.llm import make_client

                    reader = make_client(tools_cfg.reader_llm)
                shared = [t for t in build_knowledge_tools(tools_cfg.knowledge, reader) if t.__name__ in shared_names]
        async with open_tools(per_trajectory) as own:
            yield [*shared, *own]

    return factory


async def run_eval(config: EvalConfig, out: str | Path, *, llm: LLMClient | None = None,
                   judge_llm: LLMClient | None = None, tools_factory: ToolsFactory | None = None,
                   show_progress: bool = True) -> dict[str, Any]:
    """Runs (or resumes) an evaluation into `out` and returns the summary written to summary.json."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from sciresearcher.agent.batch import settle_heap
    from sciresearcher.runs import RunDir

    bench = load_benchmark(config.benchmark, path=config.benchmark_file, limit=config.limit,
                           revision=config.revision)
    if llm is None:
        from sciresearcher.llm import make_client

        llm = make_client(config.llm.for_run(out, "agent"))  # issue 18: batch ids kept in the run dir
    judge = None
    if use_judge(config, bench):
        from sciresearcher.eval.judge import HLEJudge

        if judge_llm is None:
            if config.judge.llm is None:
                from sciresearcher.errors import ConfigError

                raise ConfigError("grader 'judge' needs a judge model",
                                  hint="set --judge.llm.backend openai --judge.llm.model o3-mini-2025-01-31")
            from sciresearcher.llm import make_client

            judge_llm = make_client(config.judge.llm.for_run(out, "judge"))  # issue 18: batch ids in the run dir
    if bench.grader == "judge" and not use_judge(config, bench):
        log.warning("%s is graded with the HLE judge in the paper; no judge model is set, so rule-based graders are "
                    "used (stricter on free-form answers). Set --judge.llm.model o3-mini-2025-01-31 to use the judge.",
                    bench.name)
    tools_factory = tools_factory or default_tools_factory(config)
    with RunDir(out, config) as run:
        run.attach_log()
        if use_judge(config, bench):
            judge = HLEJudge(judge_llm, cache_dir=run.path / "judge_cache" if config.judge.cache else None,
                             structured_output=config.judge.structured_output, retries=config.judge.retries)
        with run.records("trajectories") as records:
            done = records.done_ids(retry_failed=config.retry_failed)
            todo = [(t, s) for t in bench.tasks for s in range(config.samples) if f"{t.id}#{s}" not in done]
            log.info("%s: %d trajectories to run (%d already done)", bench.name, len(todo),
                     len(bench.tasks) * config.samples - len(todo))
            sem = asyncio.Semaphore(config.concurrency)
            with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("{task.fields[acc]}"), TimeElapsedColumn(),
                          disable=not show_progress, transient=False) as progress:
                bar = progress.add_task(f"eval {bench.name}", total=len(todo), acc="")
                n_ok = n_done = 0

                async def worker(task: Task, sample: int) -> None:
                    nonlocal n_ok, n_done
                    async with sem:
                        traj = await _one(task, sample, config, llm, tools_factory, judge)
                    records.append(traj)
                    n_done += 1
                    n_ok += int(bool(traj.grade and traj.grade.correct))
                    progress.update(bar, advance=1, acc=f"correct {n_ok}/{n_done}")

                settle_heap()  # see agent/batch.py: keeps full GC passes from stalling every agent
                await asyncio.gather(*(worker(t, s) for t, s in todo))
            trajectories = list(records.latest().values())
        summary = summarize_run(bench, trajectories, config.k)
        summary["model"] = config.llm.model
        summary["grader"] = "hle_judge" if judge is not None else "rules"
        summary["session_cost"] = session_costs(agent=llm, judge=judge_llm)  # issue 18: incl. the judge's calls
        run.write_json("summary.json", summary)
    return summary
