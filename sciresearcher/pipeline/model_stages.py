"""The pipeline's model stages: sft -> grpo -> eval -> report.

SFT and GRPO run in a subprocess (`accelerate launch` when the recipe asks for several processes) and restart
from their last checkpoint; eval rolls each model out on the held-out splits and benchmarks; report writes the
side-by-side comparison. The data stages before them are `data_stages.py`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from sciresearcher.pipeline.recipe import FILLED, Recipe
from sciresearcher.pipeline.stage import (
    Context,
    StageResult,
    rounded,
    set_cpu_math,
    training_tools,
    write_tasks,
)

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------------- training


def _launch(kind: str, config: Any, launch: Any, d: Path) -> None:
    """Runs `sciresearcher train KIND` on `config` under `accelerate launch` with a shipped config."""
    from sciresearcher.config import dump_config
    from sciresearcher.train.accelerate import accelerate_config

    cfg_file = d / f"{kind}.yaml"
    cfg_file.write_text(dump_config(config))
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(accelerate_config(launch.accelerate)),
           "--num_processes", str(launch.num_processes), "-m", "sciresearcher", "train", kind, str(cfg_file)]
    log.info("launching: %s", " ".join(cmd))
    subprocess.run(cmd, check=True)


def _train(kind: str, cfg: Any, launch: Any, ctx: Context, d: Path, run: Any) -> dict[str, Any]:
    """Trains under `accelerate launch` when the recipe asks for it, else in this process with the pipeline's
    progress bar; returns the run's summary."""
    if launch.accelerate:
        _launch(kind, cfg, launch, d)
        return json.loads((d / "summary.json").read_text())
    from sciresearcher.pipeline.progress import training_progress

    set_cpu_math(ctx.recipe)
    return run(cfg, callbacks=[training_progress(kind, ctx.show_progress)])


def sft_checks_tokens(recipe: Recipe, model: str) -> bool:
    """Whether SFT token-checks its rows: not when the export stage already did, against this very model's
    tokenizer (the export refuses a row that is not exact), since checking the same rows again renders each
    conversation a dozen times more (~8 s of the demo's SFT stage)."""
    exported_checked = recipe.export.check_tokens and (recipe.export.tokenizer or model) == model
    return recipe.sft.check_tokens and not exported_checked


def _stage_model(d: Path, lora: Any) -> str:
    """The model a training stage hands on: its run's `final/`, or with LoRA that adapter merged into its base
    model (`merged/`), which the next stages load as any model directory."""
    if not lora.enabled:
        return str(d / "final")
    from sciresearcher.train.merge import merge_adapter

    return str(merge_adapter(d / "final", d / "merged"))


def run_sft_stage(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.train.sft import SFTRunConfig, run_sft

    recipe = ctx.recipe
    data = recipe.sft.model_dump(exclude={"launch"})
    model = str(ctx.output("base", "model"))
    cfg = SFTRunConfig(**{**data, "model": model, "dataset": str(ctx.output("export", "sft_train")),
                          "output_dir": str(d), "seed": recipe.seed, "check_tokens": sft_checks_tokens(recipe, model)})
    summary = _train("sft", cfg, recipe.sft.launch, ctx, d, run_sft)
    return StageResult({"model": _stage_model(d, cfg.lora), "summary": str(d / "summary.json")},
                       {"steps": summary.get("global_step"), "loss": rounded(summary.get("last_loss")),
                        "s_per_step": rounded(summary.get("seconds_per_step"))})


def _seeded_subset(items: list[Any], n: int, seed: int) -> list[Any]:
    """`n` of `items` drawn with `seed`, in their order (all of them when there are no more than `n`)."""
    import random

    return [items[i] for i in sorted(random.Random(seed).sample(range(len(items)), min(n, len(items))))]


def pass_rates(trajectories: list[Any]) -> dict[str, float]:
    """Task id -> share of its samples graded correct (a sample without a grade counts as wrong)."""
    counts: dict[str, list[int]] = {}
    for t in trajectories:
        cell = counts.setdefault(t.task_id, [0, 0])
        cell[0] += bool(t.grade and t.grade.correct)
        cell[1] += 1
    return {task: solved / n for task, (solved, n) in counts.items()}


def _filter_prompts(ctx: Context, d: Path, tasks: list[Any], cfg: Any) -> tuple[list[Any], dict[str, Any]]:
    """The tasks whose pass rate under the SFT model lies in [cfg.min_pass, cfg.max_pass] (recipe.PromptFilter):
    the SFT model rolled out on them (on a seeded pool of `cfg.pool`) with the eval stage's agent and backend."""
    from sciresearcher.data.rejection import read_trajectories
    from sciresearcher.errors import TrainingError
    from sciresearcher.eval.harness import run_eval as run_eval_harness

    recipe = ctx.recipe
    pool = tasks if cfg.pool is None else _seeded_subset(tasks, cfg.pool, recipe.seed)
    d.mkdir(parents=True, exist_ok=True)
    pool_file = write_tasks(d / "pool.jsonl", pool)
    tools = training_tools(ctx, recipe.grpo.tools, rl=True)
    cfg_eval = eval_config(recipe, "sft", str(ctx.output("sft", "model")), tools,
                           temperature=cfg.temperature, samples=cfg.samples, benchmark=str(pool_file))
    set_cpu_math(recipe, training=False)
    asyncio.run(run_eval_harness(cfg_eval, d / "rollouts", show_progress=ctx.show_progress))
    rates = pass_rates(read_trajectories([d / "rollouts" / "trajectories.jsonl"]))
    kept = [t for t in pool if cfg.min_pass <= rates.get(t.id, 0.0) <= cfg.max_pass]
    solved = _mean([rates.get(t.id, 0.0) for t in pool])
    if not kept:
        raise TrainingError(f"grpo.prompt_filter kept none of the {len(pool)} tasks it tried: the SFT model's mean "
                            f"pass rate on them is {solved:.2f}, and none lies in [{cfg.min_pass}, {cfg.max_pass}]",
                            hint="widen min_pass / max_pass, raise pool or samples, or drop prompt_filter")
    log.info("grpo prompt filter: %d of %d tasks kept (pass rate in [%s, %s]; SFT's mean pass rate %.2f)",
             len(kept), len(pool), cfg.min_pass, cfg.max_pass, solved)
    return kept, {"filter_tried": len(pool), "filter_kept": len(kept), "filter_sft_pass": rounded(solved)}


def _grpo_tasks(ctx: Context, d: Path) -> tuple[str, dict[str, Any]]:
    """GRPO's task file (the export's, capped at `max_tasks` and filtered by `prompt_filter` when set) and the
    filter's figures."""
    from sciresearcher.tasks.files import read_tasks

    source = ctx.output("export", "rl_train")
    cap, prompt_filter = ctx.recipe.grpo.max_tasks, ctx.recipe.grpo.prompt_filter
    if cap is None and prompt_filter is None:
        return str(source), {}
    tasks = read_tasks(source)
    if cap is not None:
        tasks = _seeded_subset(tasks, cap, ctx.recipe.seed)
    figures: dict[str, Any] = {}
    if prompt_filter is not None:
        tasks, figures = _filter_prompts(ctx, d / "prompt-filter", tasks, prompt_filter)
    return str(write_tasks(d / "tasks.jsonl", tasks)), figures


def grpo_run_config(ctx: Context, d: Path, dataset: str) -> Any:
    """The stage's `GRPORunConfig`: the recipe's settings, the SFT model, `dataset`, the training index's tools and,
    with guidance, the export's guidance rows (the teacher's trajectories of the rl split's tasks) or, without an rl
    split, its SFT rows as the trajectories."""
    from sciresearcher.train.grpo import GRPORunConfig

    recipe = ctx.recipe
    data = recipe.grpo.model_dump(exclude={"launch", "max_tasks", "prompt_filter"})
    if data.get("guidance") and data["guidance"]["trajectories"] == FILLED:  # the rl split's rows, else SFT's
        rows = "guidance_rows" if "guidance_rows" in ctx.results["export"].outputs else "sft_train"
        data["guidance"]["trajectories"] = str(ctx.output("export", rows))
    return GRPORunConfig(**{**data, "model": str(ctx.output("sft", "model")), "dataset": dataset,
                            "output_dir": str(d), "seed": recipe.seed,
                            "tools": training_tools(ctx, recipe.grpo.tools, rl=True).model_dump(mode="json")})


def run_grpo_stage(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.train.grpo import run_grpo

    d.mkdir(parents=True, exist_ok=True)
    dataset, filtered = _grpo_tasks(ctx, d)
    summary = _train("grpo", grpo_run_config(ctx, d, dataset), ctx.recipe.grpo.launch, ctx, d, run_grpo)
    rewards = summary.get("rewards") or []
    return StageResult({"model": _stage_model(d, ctx.recipe.grpo.lora), "summary": str(d / "summary.json")},
                       {"steps": summary.get("global_step"),
                        "reward_first": rounded(_mean(rewards[: max(1, len(rewards) // 4)])),
                        "reward_last": rounded(_mean(rewards[-max(1, len(rewards) // 4):])),
                        "truncated": rounded(summary.get("truncated_share")),
                        "s_per_step": rounded(summary.get("seconds_per_step")), **filtered})


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


# ---------------------------------------------------------------------------------------------------- eval


def eval_targets(recipe: Recipe) -> list[tuple[str, str]]:
    """(label, benchmark spec) pairs: each split to evaluate on, then each benchmark."""
    return [(s, s) for s in recipe.eval.splits] + [(b.partition("=")[0], b) for b in recipe.eval.benchmarks]


def eval_tools(recipe: Recipe, world_index: Any) -> Any:
    """The eval stage's tools, searching the world's whole index unless the recipe names one."""
    tools = recipe.eval.rollout.tools
    return tools.model_copy(update={"knowledge": tools.knowledge.model_copy(
        update={"index": tools.knowledge.index or world_index})})


def eval_config(recipe: Recipe, model: str, model_dir: str, tools: Any, *, temperature: float | None = None,
                **fields: Any) -> Any:
    """An `EvalConfig` with the eval stage's rollout settings for one of the pipeline's models (`model`: base, sft or
    grpo; its directory, and its server when `eval.base_urls` names one), the given tools, the agent's sampling
    temperature replaced when `temperature` is given, and any other EvalConfig field in `fields`."""
    from sciresearcher.eval.config import EvalConfig

    rollout = recipe.eval.rollout
    llm = rollout.llm.model_copy(update={"model": model_dir, **(
        {"base_url": recipe.eval.base_urls[model]} if model in recipe.eval.base_urls else {})})
    agent = rollout.agent if temperature is None else rollout.agent.model_copy(
        update={"sampling": {**rollout.agent.sampling, "temperature": temperature}})
    return EvalConfig(**{**rollout.model_dump(), "llm": llm, "agent": agent, "tools": tools, "seed": recipe.seed,
                         **fields})


def run_eval(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.eval.harness import run_eval

    recipe = ctx.recipe
    cfg_eval = recipe.eval
    set_cpu_math(recipe, training=False)
    tools = eval_tools(recipe, ctx.output("world", "index"))
    runs: dict[str, dict[str, Any]] = {}
    for model in cfg_eval.models:
        path = str(ctx.output(model, "model"))
        for label, spec in eval_targets(recipe):
            name, _, file = spec.partition("=")
            bench = str(ctx.output("split", name)) if name in ("train", "validation", "test") else name
            cfg = eval_config(recipe, model, path, tools, benchmark=bench, benchmark_file=file or None,
                              limit=cfg_eval.max_tasks, k=cfg_eval.k)
            out = d / f"{model}-{label}"
            summary = asyncio.run(run_eval(cfg, out, show_progress=ctx.show_progress))
            runs.setdefault(model, {})[label] = {"dir": str(out), "accuracy": summary.get("accuracy"),
                                                 "ci95": summary.get("accuracy_ci95"), "tasks": summary.get("n_tasks"),
                                                 "cut_turns": (summary.get("cut_turns") or {}).get("share"),
                                                 **_tool_use(out / "trajectories.jsonl")}
    (d / "runs.json").write_text(json.dumps(runs, indent=2))
    figures = {f"{m}/{label}": rounded(r["accuracy"]) for m, by in runs.items() for label, r in by.items()}
    return StageResult({"runs": str(d / "runs.json")}, figures)


def _tool_use(trajectories: Path) -> dict[str, float | None]:
    """How a model worked, beside whether it was right: tool calls and failed tool calls per trajectory."""
    calls, failed, n = 0, 0, 0
    if trajectories.is_file():
        for line in trajectories.read_text().splitlines():
            counters = json.loads(line).get("counters") or {}
            calls, failed, n = calls + counters.get("tool_calls", 0), failed + counters.get("tool_errors", 0), n + 1
    return {"tool_calls": calls / n if n else None, "tool_errors": failed / n if n else None}


def eval_files(recipe: Recipe, base: Path) -> list[Path]:
    return [base / b.partition("=")[2] for b in recipe.eval.benchmarks if b.partition("=")[2]]


# ---------------------------------------------------------------------------------------------------- report


def run_report(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.eval.compare import write_comparison

    runs = json.loads(ctx.output("eval", "runs").read_text())
    training = {name: str(ctx.output(name, "summary")) for name in ("sft", "grpo") if name in ctx.results}
    path = write_comparison(runs, d / "report.html", training=training, title=f"{ctx.recipe.name}: base vs SFT vs GRPO")
    return StageResult({"report": str(path)}, {"report": str(path)})
