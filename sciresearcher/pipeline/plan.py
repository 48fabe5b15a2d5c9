"""`--dry-run`: what each stage would read and write, how many model calls and tokens it needs, what it costs.

Counts come from the recipe (tasks asked of synthesis, split fractions and caps, samples, GRPO steps and batch,
models and task sets evaluated) and the per-call assumptions in its `estimates` section (turns per trajectory,
tokens per call, the share of tasks surviving cleaning). Costs are tokens times the price of each model, looked
up by `price_of` in the recipe's price table (`prices:`, a YAML file a user edits), then in the built-in
defaults. Local models (a directory, the local backend, the reference policy) cost nothing. These are
estimates for planning; the real figures are in each run's summary.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sciresearcher.llm.config import LLMConfig, Price
from sciresearcher.pipeline.recipe import Recipe
from sciresearcher.pipeline.runner import Planned
from sciresearcher.pipeline.stages import eval_targets


def load_prices(recipe: Recipe, recipe_path: Path) -> dict[str, Price]:
    """The recipe's price table (model -> USD per million input / output tokens); empty when none is named."""
    if not recipe.prices:
        return {}
    path = Path(recipe.prices)
    if not path.is_absolute():
        path = recipe_path.parent / path
    data = yaml.safe_load(path.read_text()) or {}
    table = data.get("prices", data)
    return {str(name): Price(**value) for name, value in table.items()}


def price_of(model: str | None, table: dict[str, Price]) -> Price | None:
    """USD per million tokens for `model`: the table (exact name, then the longest prefix), then the built-in
    defaults; None when unknown. (The one price lookup of the pipeline; point it at llm's table when there is one.)"""
    from sciresearcher.llm.accounting import price_for

    return price_for(model, table) if model else None


@dataclass
class Calls:
    """Model calls of one stage, by model."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, who: str, llm: LLMConfig | None, calls: float, prompt: float, completion: float,
            table: dict[str, Price], *, local: bool = False) -> None:
        if calls <= 0:
            return
        model = (llm.model if llm is not None else None) or who
        is_local = local or llm is None or llm.backend == "local"
        price = None if is_local else price_of(model, table)
        cost = None if price is None else calls * (prompt * price.input + completion * price.output) / 1e6
        self.rows.append({"who": who, "model": model, "calls": calls, "prompt_tokens": calls * prompt,
                          "completion_tokens": calls * completion, "cost_usd": 0.0 if is_local else cost})


def task_counts(recipe: Recipe) -> dict[str, float]:
    """Expected tasks per split: synthesis n x the surviving share x each split's fraction (and caps)."""
    synth = recipe.synth.computational if recipe.synth.pipeline == "computational" else recipe.synth.conceptual
    survivors = synth.n * recipe.estimates.kept_fraction
    out = {}
    for name, fraction in recipe.split.fractions.items():
        n = survivors * fraction
        cap = recipe.split.max_tasks.get(name)
        out[name] = min(n, cap) if cap is not None else n
    return out


def _benchmark_size(recipe: Recipe, spec: str) -> float | None:
    name = spec.partition("=")[0]
    if name in recipe.estimates.benchmark_tasks:
        n = recipe.estimates.benchmark_tasks[name]
        return min(n, recipe.eval.max_tasks) if recipe.eval.max_tasks else n
    return None


def estimate(recipe: Recipe, recipe_path: Path, item: Planned, table: dict[str, Price]) -> Calls:
    est, calls = recipe.estimates, Calls()
    agent = (est.prompt_tokens, est.completion_tokens)
    counts = task_counts(recipe)
    name = item.stage.name
    if name == "synth":
        if recipe.synth.pipeline == "computational":
            cfg = recipe.synth.computational
            if cfg.writer is not None:
                calls.add("writer", cfg.writer, cfg.n * est.writer_calls_per_task, est.writer_prompt_tokens,
                          est.writer_completion_tokens, table)
            if cfg.solver.llm is not None:
                runs = cfg.n * (cfg.solver.samples + int(cfg.solver.non_trivial))
                calls.add("solver", cfg.solver.llm, runs * est.turns_per_trajectory, *agent, table)
        else:
            cfg = recipe.synth.conceptual
            calls.add("writer", cfg.writer, cfg.n * (cfg.hops + 2) * est.writer_calls_per_task,
                      est.writer_prompt_tokens, est.writer_completion_tokens, table)
            if cfg.solver is not None:
                calls.add("solver (no tools)", cfg.solver, cfg.n, est.writer_prompt_tokens, est.completion_tokens, table)
    elif name == "teacher":
        rollout = recipe.teacher.rollout
        trajectories = counts.get("train", 0) * rollout.samples
        if recipe.teacher.policy == "reference":
            calls.add("reference policy (not a model)", None, trajectories * est.turns_per_trajectory, 0, 0, table,
                      local=True)
        else:
            calls.add("teacher", rollout.llm, trajectories * est.turns_per_trajectory, *agent, table)
        _reader(calls, rollout, trajectories, table, est)
        _judge(calls, rollout, trajectories, table, est)
    elif name == "grpo":
        g = recipe.grpo
        completions = max(g.max_steps, 0) * g.per_device_train_batch_size * g.gradient_accumulation_steps * max(
            1, g.launch.num_processes)
        calls.add(f"{recipe.student.model or 'tiny Qwen3'} rollouts", None, completions * est.turns_per_trajectory,
                  *agent, table, local=True)
        if g.judge_llm is not None:
            calls.add("judge reward", g.judge_llm, completions, est.judge_prompt_tokens, est.judge_completion_tokens,
                      table)
        if g.tools.reader_llm is not None:
            calls.add("reader", g.tools.reader_llm, completions * 2, est.writer_prompt_tokens, 300, table)
    elif name == "eval":
        rollout = recipe.eval.rollout
        tasks = 0.0
        for label, spec in eval_targets(recipe):
            n = counts.get(label) if label in counts else _benchmark_size(recipe, spec)
            tasks += n or 0
        trajectories = tasks * rollout.samples * len(recipe.eval.models)
        served = rollout.llm.base_url is not None or set(recipe.eval.models) <= set(recipe.eval.base_urls)
        student = recipe.student.model or "tiny Qwen3"
        calls.add(f"{student} as {', '.join(recipe.eval.models)}", None, trajectories * est.turns_per_trajectory,
                  *agent, table, local=rollout.llm.backend == "local" or served)
        _reader(calls, rollout, trajectories, table, est)
        _judge(calls, rollout, trajectories, table, est)
    return calls


def _reader(calls: Calls, rollout: Any, trajectories: float, table: dict[str, Price], est: Any) -> None:
    if rollout.tools.reader_llm is not None:
        calls.add("reader sub-agent", rollout.tools.reader_llm, trajectories * est.turns_per_trajectory / 3,
                  est.writer_prompt_tokens, 300, table)


def _judge(calls: Calls, rollout: Any, trajectories: float, table: dict[str, Price], est: Any) -> None:
    if rollout.grader != "rules" and rollout.judge.llm is not None:
        calls.add("HLE judge", rollout.judge.llm, trajectories, est.judge_prompt_tokens, est.judge_completion_tokens,
                  table)


def describe(recipe: Recipe, item: Planned) -> tuple[str, str]:
    """(what the stage reads, what it writes), for the plan table."""
    reads = ", ".join(item.stage.needs) or ("corpus " + ", ".join(recipe.world.corpus) if recipe.world.source ==
                                            "corpus" else "fact documents (mendeleev, chemicals)")
    if item.stage.name == "eval":
        reads = f"{', '.join(recipe.eval.models)} on " + ", ".join(label for label, _ in eval_targets(recipe))
    writes = ", ".join(item.stage.outputs)
    return reads, f"{item.dir.name}/: {writes}"
