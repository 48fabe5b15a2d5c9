"""`RolloutConfig`: how tasks are rolled out (model, agent limits, tools, samples, grading), and `JudgeConfig`.

`data rollout` takes a RolloutConfig as it is; `eval run`'s EvalConfig extends it with the benchmark to load.
Only configuration lives here; `runner.py` runs it. Unknown keys are errors (extra="forbid").
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sciresearcher.agent.config import AgentConfig
from sciresearcher.agent.toolbox import ToolsConfig
from sciresearcher.llm.config import LLMConfig


class JudgeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    llm: LLMConfig | None = Field(
        None, description="the judge model (HLE's default: openai o3-mini-2025-01-31); none = rule-based graders only")
    cache: bool = Field(True, description="cache verdicts in the run directory (judge_cache/)")
    structured_output: bool = Field(
        True, description="HLE's official call: response_format ExtractedAnswer, the prompt as the only message; "
        "false for models/servers without structured output (adds a JSON instruction as a system message)")
    retries: int = Field(2, ge=0, description="re-asks when a verdict cannot be read")


class RayConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str | None = Field(None, description="none = start a local Ray instance; 'auto' = the running cluster; "
                                "or ray://HOST:10001")
    workers: int = Field(2, ge=1, description="rollout actors; each runs `concurrency` trajectories at once")
    num_cpus_per_worker: float = Field(1.0, gt=0, description="CPUs Ray reserves for each actor")
    runtime_env: dict[str, Any] = Field(default_factory=dict, description="Ray runtime_env for the actors "
                                        "(e.g. env_vars, working_dir) on a remote cluster")


class RolloutConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    samples: int = Field(1, ge=1, description="samples per task (n of pass@k)")
    seed: int = Field(0, description="base seed: per-sample sampling seed and option shuffles derive from it")
    concurrency: int = Field(4, ge=1, description="trajectories in flight at once")
    grader: Literal["auto", "rules", "judge"] = Field(
        "auto", description="auto = the HLE judge for HLE when a judge model is set, rule-based graders otherwise")
    block_benchmark_pages: bool = Field(
        True, description="add the benchmarks' own pages (HF datasets, repos, leaderboards) to the search blocklist")
    retry_failed: bool = Field(False, description="on resume, redo trajectories that ended with status error")
    executor: Literal["local", "ray"] = Field(
        "local", description="where trajectories run: this process's event loop, or Ray actors (ray.*)")
    ray: RayConfig = Field(default_factory=RayConfig, description="with executor: ray")
    llm: LLMConfig = Field(default_factory=LLMConfig)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    tools: ToolsConfig = Field(default_factory=ToolsConfig)
    judge: JudgeConfig = Field(default_factory=JudgeConfig)
