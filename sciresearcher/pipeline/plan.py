"""`--dry-run`: what each stage would read and write, how many model calls and tokens it needs, what it costs.

Counts come from the recipe (tasks asked of synthesis, split fractions and caps, samples, GRPO steps and batch,
models and task sets evaluated) and the per-call assumptions in its `estimates` section (turns per trajectory,
tokens per call, the share of tasks surviving cleaning). Costs use the one price table of `llm/prices.py`: the
shipped list prices with the recipe's `prices:` file (a YAML file a user edits) laid over them, and the same
discounts a run gets: multi-turn agent calls read their earlier turns from the prompt cache (the shares
`benchmarks/teacher_cost.py` measures), calls that need no interaction (writers, no-tool solver, HLE judge) go at
the batch price when their `llm.batch` is on. Each row shows that estimate and the list price. Local models (a
directory, the local backend, the reference policy) cost nothing; a model with no price is shown as unknown.
These are estimates for planning; the real figures are in each run's summary.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sciresearcher.llm.config import LLMConfig, Price
from sciresearcher.pipeline.data_stages import guides_rl
from sciresearcher.pipeline.recipe import Recipe
from sciresearcher.pipeline.runner import Planned
from sciresearcher.pipeline.stages import eval_targets

CACHE_READ_SHARE = 0.83   # of a multi-turn trajectory's input tokens, read from the prompt cache (10 turns,
CACHE_WRITE_SHARE = 0.17  # benchmarks/teacher_cost.py); written once (Anthropic bills writes, OpenAI does not)


def load_prices(recipe: Recipe, recipe_path: Path) -> dict[str, Price]:
    """The price table: the shipped list prices with the recipe's `prices:` file (relative to the recipe) over them."""
    from sciresearcher.llm.prices import price_table

    if not recipe.prices:
        return price_table()
    path = Path(recipe.prices)
    if not path.is_absolute():
        path = recipe_path.parent / path
    return price_table(path)


@dataclass
class Calls:
    """Model calls of one stage, by model."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, who: str, llm: LLMConfig | None, calls: float, prompt: float, completion: float,
            table: dict[str, Price], *, local: bool = False, multi_turn: bool = False, batchable: bool = False) -> None:
        """`multi_turn`: agent turns whose growing history the prompt cache serves; `batchable`: calls that need no
        interaction, sent at the batch price when `llm.batch` is on."""
        from sciresearcher.llm.prices import estimate_usd, price_for

        if calls <= 0:
            return
        model = (llm.model if llm is not None else None) or who
        is_local = local or llm is None or llm.backend == "local"
        tokens_in, tokens_out = calls * prompt, calls * completion
        row = {"who": who, "model": model, "calls": calls, "prompt_tokens": tokens_in, "completion_tokens": tokens_out,
               "cost_usd": 0.0, "list_usd": 0.0, "discounts": ""}
        if not is_local:
            table = {**table, **_own_prices(llm)}
            cached = multi_turn and llm is not None and (llm.backend != "anthropic" or llm.prompt_cache)
            batched = batchable and llm is not None and llm.batch
            write = CACHE_WRITE_SHARE if cached and llm is not None and llm.backend == "anthropic" else 0.0
            row["cost_usd"] = estimate_usd(model, input_tokens=tokens_in, output_tokens=tokens_out, table=table,
                                           cache_read_share=CACHE_READ_SHARE if cached else 0.0,
                                           cache_write_share=write, batched=bool(batched),
                                           ttl=llm.prompt_cache_ttl if llm is not None else "5m")
            price = price_for(model, table)
            row["list_usd"] = None if price is None else (tokens_in * price.input + tokens_out * price.output) / 1e6
            row["discounts"] = ", ".join(d for d, on in (("cache", cached), ("batch", batched)) if on)
        self.rows.append(row)


def _own_prices(llm: LLMConfig | None) -> dict[str, Price]:
    """A stage's own `llm.prices` entries or file, which win over the recipe's table for that stage."""
    from sciresearcher.llm.prices import user_prices

    return user_prices(llm.prices) if llm is not None else {}


def task_counts(recipe: Recipe) -> dict[str, float]:
    """Expected tasks per split: synthesis n x the surviving share x each split's fraction (and caps)."""
    synth = recipe.synth.computational if recipe.synth.pipeline == "computational" else recipe.synth.conceptual
    survivors = synth.n * recipe.estimates.kept_fraction
    fictional = getattr(synth, "fictional", None)
    made_up = fictional.any_tasks * recipe.estimates.kept_fraction if fictional is not None else 0.0
    out = {}
    to_rl = recipe.split.train_only_rl  # a share of the fictional tasks goes to rl, the rest to train
    for name, fraction in recipe.split.fractions.items():
        n = survivors * fraction + (made_up * (1 - to_rl) if name == "train" else 0.0)  # fictional: training only
        cap = recipe.split.max_tasks.get(name)
        out[name] = min(n, cap) if cap is not None else n
    if recipe.split.rl_from_train:  # train tasks set aside for GRPO
        out["rl"] = out.get("rl", 0) + recipe.split.rl_from_train
    if to_rl:
        out["rl"] = out.get("rl", 0) + made_up * to_rl
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
                          est.writer_completion_tokens, table, batchable=True)
            if cfg.solver.llm is not None:
                runs = cfg.n * (cfg.solver.samples + int(cfg.solver.non_trivial))
                calls.add("solver", cfg.solver.llm, runs * est.turns_per_trajectory, *agent, table, multi_turn=True)
        else:
            cfg = recipe.synth.conceptual
            calls.add("writer", cfg.writer, cfg.n * (cfg.hops + 2) * est.writer_calls_per_task,
                      est.writer_prompt_tokens, est.writer_completion_tokens, table, batchable=True)
            if cfg.solver is not None:
                calls.add("solver (no tools)", cfg.solver, cfg.n, est.writer_prompt_tokens, est.completion_tokens, table,
                          batchable=True)
    elif name == "teacher":
        rollout = recipe.teacher.rollout
        guided_rl = counts.get("rl", 0) if guides_rl(recipe) else 0  # GRPO's guidance: the rl tasks rolled out too
        trajectories = (counts.get("train", 0) + guided_rl) * rollout.samples
        if recipe.teacher.policy == "reference":
            calls.add("reference policy (not a model)", None, trajectories * est.turns_per_trajectory, 0, 0, table,
                      local=True)
        else:
            calls.add("teacher", rollout.llm, trajectories * est.turns_per_trajectory, *agent, table, multi_turn=True)
        _reader(calls, rollout, trajectories, table, est)
        _judge(calls, rollout, trajectories, table, est)
    elif name == "grpo":
        g = recipe.grpo
        completions = max(g.max_steps, 0) * g.per_device_train_batch_size * g.gradient_accumulation_steps * max(
            1, g.launch.num_processes)
        calls.add(f"{recipe.student.model or 'tiny Qwen3'} rollouts", None, completions * est.turns_per_trajectory,
                  *agent, table, local=True)
        if g.prompt_filter is not None:
            f = g.prompt_filter
            pool = counts.get("rl") or counts.get("train", 0)
            pool = min(x for x in (pool, g.max_tasks, f.pool) if x is not None)
            calls.add(f"{recipe.student.model or 'tiny Qwen3'} SFT on GRPO's tasks (prompt filter)", None,
                      pool * f.samples * est.turns_per_trajectory, *agent, table, local=True)
        if g.judge_llm is not None:
            calls.add("judge reward", g.judge_llm, completions, est.judge_prompt_tokens, est.judge_completion_tokens,
                      table)  # inside the training step: online
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
                  table, batchable=True)


def describe(recipe: Recipe, item: Planned) -> tuple[str, str]:
    """(what the stage reads, what it writes), for the plan table."""
    reads = ", ".join(item.stage.needs) or ("corpus " + ", ".join(recipe.world.corpus) if recipe.world.source ==
                                            "corpus" else "fact documents (elements, compounds, lab records)")
    if item.stage.name == "eval":
        reads = f"{', '.join(recipe.eval.models)} on " + ", ".join(label for label, _ in eval_targets(recipe))
    writes = ", ".join(item.stage.outputs)
    return reads, f"{item.dir.name}/: {writes}"
