"""The pipeline's stages, in the order data flows; each calls the library code its command calls.

world -> synth -> clean -> split -> teacher -> filter -> base -> export -> sft -> grpo -> eval -> report

Each stage names the stages it reads (`needs`), the part of the recipe that configures it (`config`, which
with the inputs' keys makes the stage's key) and files outside the pipeline it reads (`external`); `run(ctx,
dir)` does the work in the stage's run directory and returns its outputs (paths) and a few figures. A
stage's own run directory resumes a killed run (record logs skip finished records; SFT and GRPO restart from
their last checkpoint), so the runner (`runner.py`) only decides which stages to run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sciresearcher.errors import ConfigError
from sciresearcher.pipeline.recipe import Recipe

log = logging.getLogger(__name__)


@dataclass
class StageResult:
    outputs: dict[str, str]
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    """What a running stage can see: the recipe, its file, the pipeline directory and earlier stages' results."""

    recipe: Recipe
    recipe_path: Path
    root: Path
    results: dict[str, StageResult] = field(default_factory=dict)
    show_progress: bool = True

    def output(self, stage: str, name: str) -> Path:
        try:
            return Path(self.results[stage].outputs[name])
        except KeyError as exc:
            raise ConfigError(f"stage {stage!r} has no output {name!r} yet",
                              hint="run the earlier stages first (without --from)") from exc


@dataclass(frozen=True)
class Stage:
    name: str
    summary: str
    needs: tuple[str, ...]
    config: Callable[[Recipe], Any]
    run: Callable[[Context, Path], StageResult]
    outputs: tuple[str, ...]
    external: Callable[[Recipe, Path], list[Path]] = lambda recipe, base: []


def _dump(model: Any) -> Any:
    return model.model_dump(mode="json") if hasattr(model, "model_dump") else model


def _write_tasks(path: Path, tasks: list[Any]) -> Path:
    from sciresearcher.runs import write_jsonl_atomic

    return write_jsonl_atomic(path, tasks)


# ---------------------------------------------------------------------------------------------------- world


def _world(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.knowledge.index import build_index
    from sciresearcher.runs import write_jsonl_atomic

    cfg = ctx.recipe.world
    if cfg.source == "facts":
        from sciresearcher.synth.fact_corpus import fact_documents

        docs = fact_documents()
    else:
        from sciresearcher.knowledge.loaders import load_sources

        if not cfg.corpus:
            raise ConfigError("world.source corpus needs world.corpus", hint="list paper files or folders")
        docs = load_sources(cfg.corpus).documents
    write_jsonl_atomic(d / "documents.jsonl", docs)
    build_index(docs, d / "index", dense=cfg.dense, model=cfg.model)
    return StageResult({"documents": str(d / "documents.jsonl"), "index": str(d / "index")},
                       {"documents": len(docs)})


def _world_files(recipe: Recipe, base: Path) -> list[Path]:
    return [base / p for p in recipe.world.corpus] if recipe.world.source == "corpus" else []


# ---------------------------------------------------------------------------------------------------- synth


def _synth(ctx: Context, d: Path) -> StageResult:
    recipe = ctx.recipe
    docs = str(ctx.output("world", "documents"))
    if recipe.synth.pipeline == "computational":
        from sciresearcher.synth.computational import run_synthesis

        cfg = recipe.synth.computational.model_copy(update={"seed": recipe.seed})
        if cfg.writer is not None and not cfg.corpus:
            cfg = cfg.model_copy(update={"corpus": [docs]})
        summary = asyncio.run(run_synthesis(cfg, d, show_progress=ctx.show_progress))
    else:
        from sciresearcher.synth.conceptual_run import run_conceptual

        cfg = recipe.synth.conceptual
        update: dict[str, Any] = {}
        if not cfg.corpus:
            update["corpus"] = [docs]
        if cfg.index_dir is None:
            update["index_dir"] = str(ctx.output("world", "index"))
        summary = asyncio.run(run_conceptual(cfg.model_copy(update=update), d, show_progress=ctx.show_progress))
    return StageResult({"tasks": str(d / "tasks.jsonl")}, {"tasks": summary.get("kept"),
                                                            "rejected": summary.get("rejected")})


def _synth_config(recipe: Recipe) -> Any:
    section = recipe.synth.computational if recipe.synth.pipeline == "computational" else recipe.synth.conceptual
    return {"pipeline": recipe.synth.pipeline, "config": _dump(section), "seed": recipe.seed}


# ---------------------------------------------------------------------------------------------------- clean


def _clean(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.data.screen import load_eval_sets, screen_summary, screen_tasks
    from sciresearcher.runs import RunDir, write_jsonl_atomic
    from sciresearcher.tasks.files import read_tasks

    source = ctx.output("synth", "tasks")
    cfg = ctx.recipe.clean
    eval_sets = load_eval_sets(cfg.eval_sets)
    with RunDir(d, {"input": str(source), **cfg.model_dump(mode="json")}) as run:
        result = screen_tasks(read_tasks(source), cfg, eval_sets)
        write_jsonl_atomic(run.path / "tasks.jsonl", result.kept)
        write_jsonl_atomic(run.path / "removed.jsonl", result.removed)
        summary = screen_summary(result, eval_sets, source)
        run.write_json("summary.json", summary)
    return StageResult({"tasks": str(d / "tasks.jsonl")}, {"kept": summary["kept"], "removed": summary["removed"]})


# ---------------------------------------------------------------------------------------------------- split


def _benchmark_tasks(recipe: Recipe) -> dict[str, list[Any]]:
    from sciresearcher.tasks.registry import load_benchmark

    out = {}
    for spec in recipe.eval.benchmarks:
        name, _, path = spec.partition("=")
        bench = load_benchmark(name, path=path or None, limit=recipe.eval.max_tasks)
        out[bench.name] = bench.tasks
    return out


def _split(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.data.split import held_out_documents, split_by_entity, training_documents
    from sciresearcher.knowledge.index import build_index
    from sciresearcher.knowledge.loaders import load_sources
    from sciresearcher.runs import RunDir, write_jsonl_atomic
    from sciresearcher.tasks.files import read_tasks

    recipe = ctx.recipe
    cfg = recipe.split.model_copy(update={"seed": recipe.seed})
    with RunDir(d, cfg) as run:
        split = split_by_entity(read_tasks(ctx.output("clean", "tasks")), cfg)
        outputs = {name: str(_write_tasks(d / f"{name}.jsonl", tasks)) for name, tasks in split.tasks.items()}
        held = held_out_documents([t for name, ts in split.tasks.items() if name != "train" for t in ts])
        benchmarks = _benchmark_tasks(recipe)
        for tasks in benchmarks.values():
            held |= held_out_documents(tasks)
        docs = load_sources([ctx.output("world", "documents")]).documents
        train_docs, dropped = training_documents(docs, held)
        write_jsonl_atomic(d / "train_documents.jsonl", train_docs)
        build_index(train_docs, d / "train_index", dense=recipe.world.dense, model=recipe.world.model)
        summary = {**split.summary(), "benchmarks": {k: len(v) for k, v in benchmarks.items()},
                   "training_index": {"documents": len(train_docs), "held_out": len(dropped)},
                   "held_out_documents": sorted(dropped)}
        run.write_json("summary.json", summary)
    outputs.update(train_index=str(d / "train_index"), train_documents=str(d / "train_documents.jsonl"))
    figures = {**{k: v for k, v in summary["tasks"].items()}, "index_docs": len(train_docs)}
    return StageResult(outputs, figures)


# ---------------------------------------------------------------------------------------------------- teacher


def _training_tools(ctx: Context, tools: Any) -> Any:
    """The recipe's tools over the TRAINING index (no evaluation item's documents in it)."""
    knowledge = tools.knowledge.model_copy(update={"index": ctx.output("split", "train_index")})
    return tools.model_copy(update={"knowledge": knowledge})


def _teacher(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.data.teacher import run_teacher
    from sciresearcher.tasks.files import read_tasks

    recipe = ctx.recipe
    tasks = read_tasks(ctx.output("split", "train"))
    rollout = recipe.teacher.rollout
    cfg = rollout.model_copy(update={"seed": recipe.seed, "tools": _training_tools(ctx, rollout.tools)})
    llm = None
    if recipe.teacher.policy == "reference":
        from sciresearcher.data.reference_policy import ReferencePolicy

        llm = ReferencePolicy(tasks)
    summary = asyncio.run(run_teacher(tasks, cfg, d, source=str(ctx.output("split", "train")), llm=llm,
                                      show_progress=ctx.show_progress))
    return StageResult({"trajectories": str(d / "trajectories.jsonl")},
                       {"trajectories": summary.get("n_samples"), "accuracy": _round(summary.get("accuracy"))})


# ---------------------------------------------------------------------------------------------------- filter


def _filter(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.data.rejection import read_trajectories, select_trajectories
    from sciresearcher.data.screen import eval_index, load_eval_sets
    from sciresearcher.runs import RunDir, write_jsonl_atomic
    from sciresearcher.tasks.files import read_tasks

    cfg = ctx.recipe.filter.model_copy(update={"tasks": str(ctx.output("split", "train"))})
    trajectories = read_trajectories([ctx.output("teacher", "trajectories")])
    task_map = {t.id: t for t in read_tasks(cfg.tasks)}
    eval_sets = load_eval_sets(cfg.screen.eval_sets) if cfg.screen else None
    index = eval_index(eval_sets, cfg.screen) if eval_sets is not None and cfg.screen else None
    with RunDir(d, cfg) as run:
        selection = select_trajectories(trajectories, cfg, task_map, index)
        write_jsonl_atomic(run.path / "kept.jsonl", selection.kept)
        write_jsonl_atomic(run.path / "rejected.jsonl", selection.rejected)
        summary = selection.summary()
        run.write_json("summary.json", summary)
    return StageResult({"kept": str(d / "kept.jsonl")}, {"kept": summary["kept"], "rejected": summary["rejected"],
                                                         "tasks_kept": summary["tasks_kept"]})


# ---------------------------------------------------------------------------------------------------- base


def _base(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.data.rejection import read_trajectories
    from sciresearcher.knowledge.loaders import load_sources
    from sciresearcher.train.rows import trajectory_to_sft_row
    from sciresearcher.train.sft import check_model_dir
    from sciresearcher.train.tiny import build_tiny_model, render_chat, system_block

    recipe = ctx.recipe
    if recipe.student.model:
        return StageResult({"model": str(check_model_dir(recipe.student.model))}, {"model": recipe.student.model})
    tiny = recipe.student.tiny
    rows = [trajectory_to_sft_row(t) for t in read_trajectories([ctx.output("filter", "kept")])]
    docs_file = ctx.output("split" if tiny.tokenizer_corpus == "train" else "world",
                           "train_documents" if tiny.tokenizer_corpus == "train" else "documents")
    corpus = [doc.text for doc in load_sources([docs_file]).documents]
    corpus += [render_chat(r["messages"], json.loads(r["tools"])) for r in rows]
    fixed = [system_block(rows[0]["messages"], json.loads(rows[0]["tools"]))] if tiny.fixed_system_block and rows else []
    path = build_tiny_model(d / "model", seed=recipe.seed, vocab_size=tiny.vocab_size, hidden_size=tiny.hidden_size,
                            num_layers=tiny.num_layers, num_heads=tiny.num_heads, num_kv_heads=tiny.num_kv_heads,
                            intermediate_size=tiny.intermediate_size, max_positions=tiny.max_positions,
                            corpus=corpus, split_digits=tiny.split_digits, fixed_texts=fixed)
    from transformers import AutoConfig

    n_vocab = AutoConfig.from_pretrained(str(path)).vocab_size
    return StageResult({"model": str(path)}, {"vocab": n_vocab, "fixed_tokens": len(fixed)})


# ---------------------------------------------------------------------------------------------------- export


def _export(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.data.export import export_tasks, export_trajectories
    from sciresearcher.data.rejection import read_trajectories
    from sciresearcher.runs import RunDir
    from sciresearcher.tasks.files import read_tasks

    recipe = ctx.recipe
    model = str(ctx.output("base", "model"))
    cfg = recipe.export.model_copy(update={"format": "trl-sft", "tokenizer": recipe.export.tokenizer or model})
    with RunDir(d, cfg) as run:
        written = export_trajectories(read_trajectories([ctx.output("filter", "kept")]), cfg, d / "sft")
        tasks = read_tasks(ctx.output("split", "train"))
        rl = export_tasks(tasks, cfg.model_copy(update={"format": "trl-grpo", "val_fraction": 0.0}), d / "rl")
        dropped = written.pop("dropped_overlong", [])
        run.write_json("summary.json", {"sft": written, "rl": rl, "dropped_overlong": dropped})
    if "train" not in written:
        from sciresearcher.errors import DataError

        raise DataError(f"no SFT row fits the student: {len(dropped)} dropped as too long (see {d}/summary.json)",
                        hint="raise export.max_length or use a student with a longer context")
    outputs = {"sft_train": written["train"]["path"], "rl_train": rl["train"]["path"]}
    if "val" in written:
        outputs["sft_val"] = written["val"]["path"]
    return StageResult(outputs, {"sft_rows": written["train"]["rows"], "rl_tasks": rl["train"]["rows"],
                                 "dropped_overlong": len(dropped)})


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


def _set_threads(recipe: Recipe) -> None:
    if recipe.threads:
        import torch

        torch.set_num_threads(recipe.threads)


def _sft(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.train.sft import SFTRunConfig, run_sft

    recipe = ctx.recipe
    data = recipe.sft.model_dump(exclude={"launch"})
    cfg = SFTRunConfig(**{**data, "model": str(ctx.output("base", "model")),
                          "dataset": str(ctx.output("export", "sft_train")), "output_dir": str(d), "seed": recipe.seed})
    if recipe.sft.launch.accelerate:
        _launch("sft", cfg, recipe.sft.launch, d)
        summary = json.loads((d / "summary.json").read_text())
    else:
        from sciresearcher.pipeline.progress import training_progress

        _set_threads(recipe)
        summary = run_sft(cfg, callbacks=[training_progress("sft", ctx.show_progress)])
    return StageResult({"model": str(d / "final"), "summary": str(d / "summary.json")},
                       {"steps": summary.get("global_step"), "loss": _round(summary.get("last_loss"))})


def _grpo_tasks(ctx: Context, d: Path) -> str:
    from sciresearcher.tasks.files import read_tasks

    source = ctx.output("export", "rl_train")
    cap = ctx.recipe.grpo.max_tasks
    if cap is None:
        return str(source)
    import random

    tasks = read_tasks(source)
    chosen = sorted(random.Random(ctx.recipe.seed).sample(range(len(tasks)), min(cap, len(tasks))))
    return str(_write_tasks(d / "tasks.jsonl", [tasks[i] for i in chosen]))


def _grpo(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.train.grpo import GRPORunConfig, run_grpo

    recipe = ctx.recipe
    d.mkdir(parents=True, exist_ok=True)
    data = recipe.grpo.model_dump(exclude={"launch", "max_tasks"})
    cfg = GRPORunConfig(**{**data, "model": str(ctx.output("sft", "model")), "dataset": _grpo_tasks(ctx, d),
                           "output_dir": str(d), "seed": recipe.seed,
                           "tools": _training_tools(ctx, recipe.grpo.tools).model_dump(mode="json")})
    if recipe.grpo.launch.accelerate:
        _launch("grpo", cfg, recipe.grpo.launch, d)
        summary = json.loads((d / "summary.json").read_text())
    else:
        from sciresearcher.pipeline.progress import training_progress

        _set_threads(recipe)
        summary = run_grpo(cfg, callbacks=[training_progress("grpo", ctx.show_progress)])
    rewards = summary.get("rewards") or []
    return StageResult({"model": str(d / "final"), "summary": str(d / "summary.json")},
                       {"steps": summary.get("global_step"),
                        "reward_first": _round(_mean(rewards[: max(1, len(rewards) // 4)])),
                        "reward_last": _round(_mean(rewards[-max(1, len(rewards) // 4):]))})


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _round(x: Any, digits: int = 3) -> Any:
    return round(x, digits) if isinstance(x, float) else x


# ---------------------------------------------------------------------------------------------------- eval


def eval_targets(recipe: Recipe) -> list[tuple[str, str]]:
    """(label, benchmark spec) pairs: each split to evaluate on, then each benchmark."""
    return [(s, s) for s in recipe.eval.splits] + [(b.partition("=")[0], b) for b in recipe.eval.benchmarks]


def _eval(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.eval.config import EvalConfig
    from sciresearcher.eval.harness import run_eval

    recipe = ctx.recipe
    cfg_eval = recipe.eval
    _set_threads(recipe)
    tools = cfg_eval.rollout.tools
    tools = tools.model_copy(update={"knowledge": tools.knowledge.model_copy(
        update={"index": tools.knowledge.index or ctx.output("world", "index")})})
    runs: dict[str, dict[str, Any]] = {}
    for model in cfg_eval.models:
        path = str(ctx.output(model, "model"))
        llm = cfg_eval.rollout.llm.model_copy(update={"model": path, **(
            {"base_url": cfg_eval.base_urls[model]} if model in cfg_eval.base_urls else {})})
        for label, spec in eval_targets(recipe):
            name, _, file = spec.partition("=")
            bench = str(ctx.output("split", name)) if name in ("train", "validation", "test") else name
            cfg = EvalConfig(**{**cfg_eval.rollout.model_dump(), "llm": llm, "tools": tools, "seed": recipe.seed,
                                "benchmark": bench, "benchmark_file": file or None, "limit": cfg_eval.max_tasks,
                                "k": cfg_eval.k})
            out = d / f"{model}-{label}"
            summary = asyncio.run(run_eval(cfg, out, show_progress=ctx.show_progress))
            runs.setdefault(model, {})[label] = {"dir": str(out), "accuracy": summary.get("accuracy"),
                                                 "ci95": summary.get("accuracy_ci95"), "tasks": summary.get("n_tasks")}
    (d / "runs.json").write_text(json.dumps(runs, indent=2))
    figures = {f"{m}/{label}": _round(r["accuracy"]) for m, by in runs.items() for label, r in by.items()}
    return StageResult({"runs": str(d / "runs.json")}, figures)


def _eval_files(recipe: Recipe, base: Path) -> list[Path]:
    return [base / b.partition("=")[2] for b in recipe.eval.benchmarks if b.partition("=")[2]]


# ---------------------------------------------------------------------------------------------------- report


def _report(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.eval.compare import write_comparison

    runs = json.loads(ctx.output("eval", "runs").read_text())
    training = {name: str(ctx.output(name, "summary")) for name in ("sft", "grpo") if name in ctx.results}
    path = write_comparison(runs, d / "report.html", training=training, title=f"{ctx.recipe.name}: base vs SFT vs GRPO")
    return StageResult({"report": str(path)}, {"report": str(path)})


STAGES: list[Stage] = [
    Stage("world", "documents and their search index", (), lambda r: _dump(r.world), _world,
          ("documents", "index"), _world_files),
    Stage("synth", "tasks synthesized over the documents", ("world",), _synth_config, _synth, ("tasks",)),
    Stage("clean", "decontamination and dedup", ("synth",), lambda r: _dump(r.clean), _clean, ("tasks",)),
    Stage("split", "train / validation / test by entity; the training index without held-out documents",
          ("clean", "world"), lambda r: {"split": _dump(r.split), "seed": r.seed, "benchmarks": r.eval.benchmarks,
                                          "max_tasks": r.eval.max_tasks, "dense": r.world.dense, "model": r.world.model},
          _split, ("train", "validation", "test", "train_index"), _eval_files),
    Stage("teacher", "teacher trajectories on the train split (training index)", ("split",),
          lambda r: {"teacher": _dump(r.teacher), "seed": r.seed}, _teacher, ("trajectories",)),
    Stage("filter", "rejection sampling", ("teacher", "split"), lambda r: _dump(r.filter), _filter, ("kept",)),
    Stage("base", "the student before training", ("filter", "split", "world"),
          lambda r: {"student": _dump(r.student), "seed": r.seed}, _base, ("model",)),
    Stage("export", "SFT rows (fitting the student's context) and RL tasks", ("filter", "base", "split"),
          lambda r: _dump(r.export), _export, ("sft_train", "rl_train")),
    Stage("sft", "supervised fine-tuning on the kept trajectories", ("base", "export"),
          lambda r: {"sft": _dump(r.sft), "seed": r.seed}, _sft, ("model",)),
    Stage("grpo", "GRPO with the outcome reward, tools over the training index", ("sft", "export", "split"),
          lambda r: {"grpo": _dump(r.grpo), "seed": r.seed}, _grpo, ("model",)),
    Stage("eval", "each model on the held-out tasks, side by side", ("base", "sft", "grpo", "split", "world"),
          lambda r: {"eval": _dump(r.eval), "seed": r.seed}, _eval, ("runs",)),
    Stage("report", "one HTML report comparing the models", ("eval", "sft", "grpo"), lambda r: {}, _report,
          ("report",)),
]
STAGE_NAMES = [s.name for s in STAGES]
