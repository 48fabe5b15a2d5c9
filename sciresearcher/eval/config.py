"""`EvalConfig`: the typed config of `sciresearcher eval run`: a benchmark to load plus how to roll it out.

The rollout part (model, agent, tools, samples, grading) is `rollout.config.RolloutConfig`; this adds the
benchmark, its file, the Hub revision, a task limit and the k of pass@k. Unknown keys are errors.
"""

from __future__ import annotations

from pydantic import Field

from sciresearcher.rollout.config import JudgeConfig, RolloutConfig

__all__ = ["EvalConfig", "JudgeConfig"]


class EvalConfig(RolloutConfig):
    benchmark: str = Field("supergpqa-hard-bio", description="a known benchmark name or a file of tasks")
    benchmark_file: str | None = Field(None, description="local file for a named benchmark (gated/online sets)")
    revision: str | None = Field(None, description="Hub revision (commit hash) for benchmarks loaded from the Hub")
    limit: int | None = Field(None, ge=1, description="first N tasks only")
    k: list[int] = Field(default_factory=lambda: [1], description="pass@k / maj@k values to report")
