"""Typed configs of `sciresearcher synth computational` (`SynthConfig`) and `synth conceptual` (`ConceptualConfig`).

Only configuration lives here; `computational.py` runs it. Unknown keys are errors (extra="forbid").
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sciresearcher.agent.config import AgentConfig
from sciresearcher.agent.toolbox import ToolsConfig
from sciresearcher.llm.config import LLMConfig
from sciresearcher.rollout.config import RayConfig
from sciresearcher.sandbox.config import SandboxConfig
from sciresearcher.synth.seeds import SeedConfig


class SolverConfig(BaseModel):
    """Majority-vote verification by independent solver runs (skipped when no model is set)."""

    model_config = ConfigDict(extra="forbid")

    llm: LLMConfig | None = Field(None, description="the solver model; none = no vote (offline)")
    samples: int = Field(3, ge=1, description="independent solver runs per task")
    min_agree: int = Field(2, ge=1, description="runs that must reach the reference answer (within tolerance)")
    non_trivial: bool = Field(True, description="also reject a task the solver answers right with no tools")
    concurrency: int = Field(4, ge=1, description="tasks verified at once")
    agent: AgentConfig = Field(default_factory=AgentConfig)
    tools: ToolsConfig = Field(
        default_factory=lambda: ToolsConfig(enabled=["search", "read", "python"]),
        description="the solver's tools, as the student will have them: search and read over an index of the "
        "documents the tasks cite (built in the run directory when knowledge.index is unset) and python; the "
        "no-tool check stays tool-free")


class FictionalConfig(BaseModel):
    """Tasks about fictional elements and stock records (synth/fictional.py), in addition to `n`: a made-up name,
    symbol, code and values that no other task has, so that the answer can only be read, not remembered. Offline
    templates only; the split keeps them in training (it knows them by the synthesis's list of them)."""

    model_config = ConfigDict(extra="forbid")

    ids: Literal["fictional", "real"] = Field(
        "fictional", description="their document ids: fictional (`fictional:element:<symbol>`, `fictional:stock:"
        "<code>`) or real (the real documents' form, `mendeleev:element:<symbol>`, `record:stock:<code>`, with "
        "symbols and codes no real one has), so a student that reads real ids by their form can read these")
    elements: int = Field(0, ge=0, description="fictional elements to make up (0: none)")
    tasks: int = Field(0, ge=0, description="element_atoms tasks over them, drafted after the `n` real ones")
    stocks: int = Field(0, ge=0, le=5000, description="fictional reagent stock records to make up (0: none)")
    stock_tasks: int = Field(0, ge=0, description="serial_dilution tasks over them, drafted after the element ones")

    @model_validator(mode="after")
    def _both(self) -> FictionalConfig:
        if self.tasks and not self.elements:
            raise ValueError(f"fictional.tasks is {self.tasks} but fictional.elements is 0: make up some elements "
                             "(e.g. elements: 100) or set tasks to 0")
        if self.stock_tasks and not self.stocks:
            raise ValueError(f"fictional.stock_tasks is {self.stock_tasks} but fictional.stocks is 0: make up some "
                             "stock records (e.g. stocks: 50) or set stock_tasks to 0")
        return self

    @property
    def any_tasks(self) -> int:
        """How many fictional tasks are asked for, of every kind."""
        return self.tasks + self.stock_tasks


class SynthConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(100, ge=1, description="tasks to write (before verification)")
    seed: int = Field(0, description="same seed, same drafts (and the same documents for the model writer)")
    writer: LLMConfig | None = Field(
        None, description="model writer: problems from the quantitative sentences of `corpus`; none = templates "
        "over package facts (offline)")
    corpus: list[str] = Field(default_factory=list, description="papers to write from (files or folders): the model "
                              "writer's input, or without a writer, the offline paper writer's (rules over "
                              "quantitative statements)")
    min_values: int = Field(2, ge=1, description="model writer: cited values a problem must use")
    templates: list[str] = Field(default_factory=lambda: ["all"], description="template names, or 'all'")
    tolerance: float = Field(0.01, gt=0, lt=1, description="relative tolerance of the numeric answers")
    fictional: FictionalConfig = Field(default_factory=FictionalConfig,
                                       description="offline templates: extra tasks about fictional elements and stocks")
    sandbox: SandboxConfig = Field(
        default_factory=lambda: SandboxConfig(timeout_s=20.0, preload=[]),
        description="where reference solutions run (a fresh session each: nothing preloaded by default)")
    solver: SolverConfig = Field(default_factory=SolverConfig)
    executor: Literal["local", "ray"] = Field(
        "local", description="where candidates are verified: this process, or Ray actors (ray.*)")
    ray: RayConfig = Field(default_factory=RayConfig, description="with executor: ray")

    @model_validator(mode="after")
    def _fictional_offline(self) -> SynthConfig:
        if self.fictional.any_tasks and (self.corpus or self.writer is not None):
            raise ValueError("fictional tasks come from the offline templates only, not with a corpus or a writer: "
                             "set fictional.tasks and fictional.stock_tasks to 0, or drop corpus and writer")
        return self

    @field_validator("templates")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        from sciresearcher.synth.templates import TEMPLATES

        unknown = [t for t in value if t != "all" and t not in TEMPLATES]
        if unknown:
            raise ValueError(f"unknown template(s) {unknown}; known: {', '.join(TEMPLATES)} or 'all'")
        return value


class ConceptualConfig(BaseModel):
    """`sciresearcher synth conceptual`: seeds from a corpus, multi-hop questions written by a model."""

    model_config = ConfigDict(extra="forbid")

    corpus: list[str] = Field(default_factory=list, description="corpus files or folders (JSONL, PDF, JATS, HTML...)")
    index_dir: str | None = Field(None, description="an index of the corpus for the search sub-agent; none = build "
                                  "a BM25 index in the run directory")
    seeds: SeedConfig = Field(default_factory=SeedConfig)
    seeds_file: str | None = Field(None, description="seeds to use, best first: the JSONL `synth seeds` writes "
                                   "(none = select them from the corpus)")
    n: int = Field(20, ge=1, description="seeds to write from (the best n by frontier relevance)")
    hops: int = Field(2, ge=0, description="anchor-based hops per question")
    max_hop_attempts: int = Field(3, ge=1, description="tries per hop before the seed is given up")
    concurrency: int = Field(4, ge=1, description="seeds worked on at once")
    writer: LLMConfig | None = Field(None, description="the writer model (required: this pipeline writes free text)")
    solver: LLMConfig | None = Field(None, description="model for the no-tool (non-trivial) check; none = skipped")
    judge: LLMConfig | None = Field(None, description="HLE judge for the answer checks; none = rules that forgive "
                                    "abbreviations, parentheticals and spellings")
    category: str | None = Field(None, description="category written on the tasks (e.g. biology)")
