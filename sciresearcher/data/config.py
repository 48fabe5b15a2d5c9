"""Typed configs of the data commands: `data clean` (tasks), `data filter` (trajectories), `data export`.

Only configuration lives here; `screen.py`, `rejection.py` and `export.py` do the work. Unknown keys are
errors (extra="forbid"). A rollout has no config of its own: it is `eval run` over a task file (EvalConfig).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ScreenConfig(BaseModel):
    """Decontamination against eval sets and near-duplicate removal, by word n-gram overlap."""

    model_config = ConfigDict(extra="forbid")

    eval_sets: list[str] = Field(
        default_factory=lambda: ["auto"],
        description="benchmarks to screen against: names, NAME=FILE, or task files; 'auto' = every known "
        "benchmark whose data is at hand (HLE and TRQA need NAME=FILE: they are gated or not shipped)")
    n: int = Field(5, ge=3, description="n-gram length in words (5 recalls the most with no cross-set false "
                   "positive in benchmarks/decontamination.py)")
    contamination_overlap: float = Field(
        0.3, gt=0, le=1, description="flag a task when this share of its (or an eval item's) n-grams is shared")
    dedup: bool = Field(True, description="drop near-duplicate tasks (the first one in file order stays)")
    duplicate_overlap: float = Field(0.8, gt=0, le=1, description="overlap at which two tasks are duplicates")
    numeric_variants: bool = Field(
        True, description="also drop tasks that differ from a kept one only in their numbers (same question with "
        "the numbers masked, same entity set)")
    near_duplicate_index: Literal["ngram", "minhash"] = Field(
        "ngram", description="ngram: exact n-gram overlap (small sets); minhash: MinHash LSH over word shingles, "
        "flat cost per task for 10^5-10^6 tasks (needs datasketch)")
    minhash_threshold: float = Field(0.8, gt=0, le=1, description="Jaccard similarity of shingles for minhash")


class FilterConfig(BaseModel):
    """Rejection sampling of teacher trajectories: which ones become SFT data."""

    model_config = ConfigDict(extra="forbid")

    tasks: str | None = Field(
        None, description="Task JSONL the trajectories answer: regrades ungraded ones and screens by question")
    require_correct: bool = Field(True, description="keep only trajectories whose grade is correct")
    max_format_errors: int | None = Field(
        0, ge=0, description="most unparseable / unknown tool calls a kept trajectory may hold (none = any)")
    max_tool_errors: int | None = Field(None, ge=0, description="most failed tool calls (none = any)")
    min_tool_calls: int = Field(0, ge=0, description="fewest tool calls (1+ keeps only tool-using research)")
    max_turns: int | None = Field(None, ge=1, description="most model turns (none = any)")
    require_confidence: bool = Field(True, description="the final answer states a confidence (HLE format)")
    max_per_task: int = Field(2, ge=1, description="kept trajectories per task (fewest errors first)")
    dedup_trajectories: bool = Field(
        True, description="drop a trajectory whose tool calls and answer repeat a kept one of the same task")
    screen: ScreenConfig | None = Field(
        default_factory=ScreenConfig,
        description="screen questions against eval sets (null = off); only its eval_sets, n and "
        "contamination_overlap apply here")


class ExportConfig(BaseModel):
    """Where kept trajectories and tasks go: TRL SFT rows, TRL GRPO tasks, verl parquet (SFT and RL)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["trl-sft", "verl-sft", "trl-grpo", "verl-rl"] = Field(
        "trl-sft", description="trl-sft: JSONL {messages, tools}; verl-sft: parquet of the same; "
        "trl-grpo: Task JSONL for `train grpo`; verl-rl: parquet with data_source/prompt/ability/reward_model")
    val_fraction: float = Field(0.0, ge=0, lt=1, description="share of tasks held out as a validation split: "
                                "rounded to the nearest whole task, at least 1 when > 0 (by a hash of the task id)")
    seed: int = Field(0, description="salt of the train/val split")
    system_prompt: str | None = Field(None, description="RL prompts' system message (default: the agent's)")
    tokenizer: str | None = Field(
        None, description="the target model's directory: every SFT row must render and mask under its chat "
        "template and fit its context")
    max_length: int | None = Field(None, ge=16, description="with tokenizer: the longest row in tokens (none = "
                                   "the model's context, max_position_embeddings in its config.json)")
    overlong: Literal["error", "drop"] = Field(
        "error", description="a row longer than max_length: stop the export naming it, or drop it (named in the "
        "summary)")
    turns: Literal["auto", "sequence", "each"] = Field(
        "auto", description="SFT row layout: sequence = one row per trajectory (loss on every assistant turn; "
        "token-exact only when the chat template keeps earlier turns as the model wrote them); each = one "
        "prompt-completion row per assistant turn (always exact, more tokens); auto = sequence where the "
        "tokenizer's check finds it exact, else each (each without a tokenizer)")
    check_tokens: bool = Field(True, description="with tokenizer: refuse rows whose training tokens differ from "
                               "what the policy saw (the first differing token is shown)")
    allow_unfiltered: bool = Field(
        False, description="export trajectories that are wrong, ungraded, truncated or failed as SFT rows (a warning "
        "counts them); off: such a source is refused (export a `data filter` run's kept trajectories)")
