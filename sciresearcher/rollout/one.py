"""One graded trajectory, and what every executor needs to make one: the run's tools and its judge.

`rollout_one(task, sample, llm, tools_factory, agent)` puts the task's options in the sample's seeded order,
seeds the sampling, runs the agent with a fresh tool session from the toolbox, and grades the outcome (rules,
or the HLE judge given the raw question; a failed judge call or an ungradable gold is a recorded failed
grade). The local and Ray executors (`executor.py`) and the synthesis solver votes call it; recording many
trajectories in a run directory is `runner.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from sciresearcher.agent.config import AgentConfig
from sciresearcher.agent.toolbox import ToolsFactory, make_tools_factory
from sciresearcher.errors import ConfigError
from sciresearcher.grade.outcome import Judge, grade_outcome
from sciresearcher.llm.base import LLMClient, conversation
from sciresearcher.records import Task, Trajectory
from sciresearcher.rollout.config import RolloutConfig
from sciresearcher.tasks.benchmark import options_for_sample
from sciresearcher.tasks.registry import BENCHMARK_PAGES

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
        with conversation(llm):
            traj = await run_agent(shown, llm, tools, agent, sample_index=sample, backend=backend)
    traj.grade = await grade_outcome(shown, traj.final, judge, where=traj.id)  # the judge sees the raw question
    traj.reward = traj.grade.score
    traj.metadata = {**traj.metadata, "benchmark_gold": shown.answer, "category": task.category,
                     "difficulty": task.difficulty, "options_order": order if shown is not task else None}
    return traj


def make_judge(config: RolloutConfig, judge_llm: LLMClient | None, cache_dir: Path | None) -> Judge:
    """The HLE judge of this run (its model from `judge_llm`, else `config.judge.llm`), caching verdicts in
    `cache_dir` when `config.judge.cache`."""
    from sciresearcher.grade.judge import HLEJudge
    from sciresearcher.llm import make_client

    if judge_llm is None:
        if config.judge.llm is None:
            raise ConfigError("grader 'judge' needs a judge model", hint=JUDGE_HINT)
        judge_llm = make_client(config.judge.llm)
    return HLEJudge(judge_llm, cache_dir=cache_dir if config.judge.cache else None,
                    structured_output=config.judge.structured_output, retries=config.judge.retries)
