"""`eval run`: a benchmark rolled out by the one rollout runner, then summarised with its metrics.

Loads the benchmark (`tasks.registry`), runs every task x sample with `rollout.run_rollouts` (resumable run
directory, fresh tools per trajectory, rules or the HLE judge), and writes `summary.json`: first-sample
accuracy with an interval and mean accuracy over samples, pass@k / maj@k, calibration, turns and tool calls
by difficulty, plus the benchmark's counts, the model and the grader (grade.metrics.DEFINITIONS says what
each is). A benchmark the paper grades with the judge, run without one, is warned about. Scoring responses made elsewhere is `score.py`; the HTML report is `report.py`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sciresearcher.agent.toolbox import ToolsFactory
from sciresearcher.eval.config import EvalConfig
from sciresearcher.eval.score import warn_without_judge
from sciresearcher.llm.base import LLMClient
from sciresearcher.rollout.one import wants_judge
from sciresearcher.rollout.runner import run_rollouts
from sciresearcher.rollout.summary import summarize_trajectories
from sciresearcher.tasks.benchmark import Benchmark
from sciresearcher.tasks.registry import load_benchmark

log = logging.getLogger(__name__)
CUT_TURNS_WARNING = 0.05  # share of turns cut at max_tokens above which an evaluation warns


def summarize_run(bench: Benchmark, trajectories: list[dict[str, Any]], ks: list[int]) -> dict[str, Any]:
    """The benchmark's metrics over these trajectories, with the benchmark's counts."""
    out = summarize_trajectories(bench.tasks, trajectories, ks)
    out["benchmark"] = bench.counts()
    return out


async def run_eval(config: EvalConfig, out: str | Path, *, llm: LLMClient | None = None,
                   judge_llm: LLMClient | None = None, tools_factory: ToolsFactory | None = None,
                   show_progress: bool = True) -> dict[str, Any]:
    """Runs (or resumes) an evaluation into `out` and returns the summary written to summary.json."""
    bench = load_benchmark(config.benchmark, path=config.benchmark_file, limit=config.limit,
                           revision=config.revision)
    default = "judge" if bench.grader == "judge" else "rules"
    if default == "judge" and not wants_judge(config, default):
        warn_without_judge(bench, "Set --judge.llm.backend openai --judge.llm.model o3-mini-2025-01-31")

    def summarize(trajectories: list[dict[str, Any]], judged: bool) -> dict[str, Any]:
        summary = summarize_run(bench, trajectories, config.k)
        summary["model"] = config.llm.model
        summary["grader"] = "hle_judge" if judged else "rules"
        return summary

    run = await run_rollouts(bench.tasks, config, out, llm=llm, judge_llm=judge_llm, tools_factory=tools_factory,
                             default_grader=default, label=f"eval {bench.name}", summarize=summarize,
                             show_progress=show_progress)
    cut = run.summary.get("cut_turns") or {}
    if cut.get("share", 0.0) > CUT_TURNS_WARNING:
        loops = " (or ended as a loop: llm.loop_stop)" if config.llm.loop_stop else ""
        log.warning("%s: %d of the model's turns (%.0f%%) stopped at max_tokens=%s%s; a tool call or answer cut "
                    "there fails, so this scores the budget as much as the model: raise agent.sampling.max_tokens if "
                    "its routine needs more (a looping model needs training, not tokens)", config.llm.model,
                    cut["turns"], 100 * cut["share"], config.agent.sampling.get("max_tokens"), loops)
    return run.summary
