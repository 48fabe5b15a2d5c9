"""The pipeline's data stages: world -> synth -> clean -> split -> teacher -> filter -> base -> export.

Each calls the library code its command calls, in the stage's own run directory, and returns output paths and a
few figures (see `stage.py`). Training, evaluation and the report are `model_stages.py`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from sciresearcher.errors import ConfigError
from sciresearcher.pipeline.recipe import FILLED, Recipe
from sciresearcher.pipeline.stage import (
    Context,
    StageResult,
    dump,
    rounded,
    set_cpu_math,
    training_tools,
    write_tasks,
)

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------------- world


def run_world(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.knowledge.index_build import build_index
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


def world_files(recipe: Recipe, base: Path) -> list[Path]:
    return [base / p for p in recipe.world.corpus] if recipe.world.source == "corpus" else []


# ---------------------------------------------------------------------------------------------------- synth


def run_synth(ctx: Context, d: Path) -> StageResult:
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
    outputs = {"tasks": str(d / "tasks.jsonl")}
    if (d / "fictional_documents.jsonl").is_file():  # the split puts them in the training index
        outputs["fictional_documents"] = str(d / "fictional_documents.jsonl")
    return StageResult(outputs, {"tasks": summary.get("kept"), "rejected": summary.get("rejected")})


def synth_config(recipe: Recipe) -> Any:
    section = recipe.synth.computational if recipe.synth.pipeline == "computational" else recipe.synth.conceptual
    return {"pipeline": recipe.synth.pipeline, "config": dump(section), "seed": recipe.seed}


# ---------------------------------------------------------------------------------------------------- clean


def run_clean(ctx: Context, d: Path) -> StageResult:
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


def _split_off(docs: list[Any], ids: set[str]) -> tuple[list[Any], list[Any]]:
    """(`docs` without those named in `ids` (by id, PMID or DOI), those), each in `docs`' order."""
    from sciresearcher.data.split import training_documents

    kept, named = training_documents(docs, ids)
    named_ids = set(named)
    return kept, [doc for doc in docs if doc.id in named_ids]


def run_split(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.data.split import (
        TRAINING_SPLITS,
        held_out_documents,
        split_by_entity,
        training_documents,
    )
    from sciresearcher.knowledge.index_build import build_index
    from sciresearcher.knowledge.loaders import load_sources
    from sciresearcher.runs import RunDir, write_jsonl_atomic
    from sciresearcher.tasks.files import read_tasks

    recipe = ctx.recipe
    cfg = recipe.split.model_copy(update={"seed": recipe.seed})
    with RunDir(d, cfg) as run:
        # made-up elements and stocks: training only, known by the synthesis's list (their ids may have the real
        # documents' form); in the training index only, never in the world's (the evaluation's)
        synth = ctx.results.get("synth")
        made_up = (load_sources([fictional]).documents
                   if synth is not None and (fictional := synth.outputs.get("fictional_documents")) else [])
        split = split_by_entity(read_tasks(ctx.output("clean", "tasks")), cfg, {doc.id for doc in made_up})
        held = held_out_documents([t for name, ts in split.tasks.items() if name not in TRAINING_SPLITS for t in ts])
        benchmarks = _benchmark_tasks(recipe)
        for tasks in benchmarks.values():
            held |= held_out_documents(tasks)
        docs = load_sources([ctx.output("world", "documents")]).documents
        train_docs, dropped = training_documents(docs, held)
        train_docs += made_up
        changed: dict[str, Any] = {}
        if cfg.rl_counterfactual is not None:  # SFT's tasks re-posed over changed copies of their documents
            split.tasks["rl"], changed = _counterfactual_rl(split.tasks.get("train", []), train_docs, cfg)
        if cfg.has_rl and not split.tasks.get("rl"):  # GRPO would get no prompts; say why before any training
            raise ConfigError(f"the recipe asks for an rl split (split.{', '.join(cfg.rl_sources)}) but no task "
                              "landed in it", hint="train_only_rl needs synth.computational.fictional "
                              "tasks; fractions.rl and rl_from_train need more tasks: raise synth's n or the share")
        outputs = {name: str(write_tasks(d / f"{name}.jsonl", tasks)) for name, tasks in split.tasks.items()}
        # the rl split's own entities (GRPO alone sees them) stay out of the student's texts before GRPO (its
        # tokenizer and copy pretraining read train_documents) and the teacher's index: they are in GRPO's only
        train_docs, rl_docs = _split_off(train_docs, held_out_documents(split.tasks.get("rl", []))
                                         - held_out_documents(split.tasks.get("train", [])))
        write_jsonl_atomic(d / "train_documents.jsonl", train_docs)
        build_index(train_docs, d / "train_index", dense=recipe.world.dense, model=recipe.world.model)
        if changed:  # GRPO's index: the counterfactual copies in place of the originals, built afresh
            write_jsonl_atomic(d / "counterfactual_documents.jsonl", list(changed.values()))
            outputs["counterfactual_documents"] = str(d / "counterfactual_documents.jsonl")
            shutil.rmtree(d / "rl_index", ignore_errors=True)
            build_index([changed.get(doc.id, doc) for doc in train_docs + rl_docs], d / "rl_index",
                        dense=recipe.world.dense, model=recipe.world.model)
            outputs["rl_index"] = str(d / "rl_index")
        elif rl_docs:  # the training index extended: only the rl documents are indexed (and embedded) anew
            shutil.rmtree(d / "rl_index", ignore_errors=True)
            shutil.copytree(d / "train_index", d / "rl_index")
            build_index(train_docs + rl_docs, d / "rl_index", dense=recipe.world.dense, model=recipe.world.model)
            outputs["rl_index"] = str(d / "rl_index")
        summary = {**split.summary(), "benchmarks": {k: len(v) for k, v in benchmarks.items()},
                   "training_index": {"documents": len(train_docs), "held_out": len(dropped),
                                      "rl_only": sorted(doc.id for doc in rl_docs)},
                   "held_out_documents": sorted(dropped),
                   **({"counterfactual_documents": sorted(changed)} if changed else {})}
        run.write_json("summary.json", summary)
    outputs.update(train_index=str(d / "train_index"), train_documents=str(d / "train_documents.jsonl"))
    figures = {**{k: v for k, v in summary["tasks"].items()}, "index_docs": len(train_docs),
               **({"rl_only_docs": len(rl_docs)} if rl_docs else {}),
               **({"counterfactual_docs": len(changed)} if changed else {})}
    return StageResult(outputs, figures)


def _counterfactual_rl(train: list[Any], docs: list[Any], cfg: Any) -> tuple[list[Any], dict[str, Any]]:
    """The rl split of `split.rl_counterfactual`: the train tasks that cite a changed value, re-posed over the
    changed documents (data/counterfactual.py), and those documents by id."""
    from sciresearcher.data.counterfactual import counterfactual_tasks

    cf = cfg.rl_counterfactual.model_copy(update={"seed": cfg.seed + cfg.rl_counterfactual.seed})
    tasks, changed = counterfactual_tasks(train, docs, cf)
    rl = [t.model_copy(update={"split": "rl"}) for t in tasks if "counterfactual_of" in t.metadata]
    log.info("split: %d of %d train tasks re-posed over %d counterfactual documents for GRPO", len(rl), len(train),
             len(changed))
    return rl, changed


# ---------------------------------------------------------------------------------------------------- teacher


def run_teacher_stage(ctx: Context, d: Path) -> StageResult:
    """The teacher on the train split over the training index; with GRPO's guidance, also on the rl split's tasks,
    over GRPO's index, in `d/rl` (a run of its own, so SFT's trajectories do not depend on the rl split)."""
    from sciresearcher.data.teacher import run_teacher
    from sciresearcher.tasks.files import read_tasks

    recipe = ctx.recipe
    rollout = recipe.teacher.rollout

    def teach(split: str, out: Path, *, rl: bool) -> dict[str, Any]:
        tasks = read_tasks(ctx.output("split", split))
        cfg = rollout.model_copy(update={"seed": recipe.seed, "tools": training_tools(ctx, rollout.tools, rl=rl)})
        llm = None
        if recipe.teacher.policy == "reference":
            from sciresearcher.data.reference_policy import ReferencePolicy

            llm = ReferencePolicy(tasks, query=recipe.teacher.reference_query,
                                  printed=recipe.teacher.reference_printed, mistakes=recipe.teacher.reference_mistakes)
        return asyncio.run(run_teacher(tasks, cfg, out, source=str(ctx.output("split", split)), llm=llm,
                                       show_progress=ctx.show_progress))

    summary = teach("train", d, rl=False)
    outputs = {"trajectories": str(d / "trajectories.jsonl")}
    figures = {"trajectories": summary.get("n_samples"), "accuracy": rounded(summary.get("accuracy"))}
    if guides_rl(recipe):  # GRPO's guidance: the teacher's trajectories of the rl split's tasks
        rl = teach("rl", d / "rl", rl=True)
        outputs["rl_trajectories"] = str(d / "rl" / "trajectories.jsonl")
        figures.update(rl_trajectories=rl.get("n_samples"), rl_accuracy=rounded(rl.get("accuracy")))
    return StageResult(outputs, figures)


# ---------------------------------------------------------------------------------------------------- filter


def run_filter(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.data.rejection import read_trajectories, select_trajectories
    from sciresearcher.data.screen import eval_index, load_eval_sets
    from sciresearcher.runs import RunDir, write_jsonl_atomic
    from sciresearcher.tasks.files import read_tasks

    cfg = ctx.recipe.filter.model_copy(update={"tasks": str(ctx.output("split", "train"))})
    teacher = ctx.results["teacher"].outputs
    trajectories = read_trajectories([Path(teacher[name]) for name in ("trajectories", "rl_trajectories")
                                      if name in teacher])
    task_map = {t.id: t for t in read_tasks(cfg.tasks)}
    rl_map = {t.id: t for t in read_tasks(ctx.output("split", "rl"))} if guides_rl(ctx.recipe) else {}
    eval_sets = load_eval_sets(cfg.screen.eval_sets) if cfg.screen else None
    index = eval_index(eval_sets, cfg.screen) if eval_sets is not None and cfg.screen else None
    outputs = {"kept": str(d / "kept.jsonl")}
    with RunDir(d, cfg) as run:
        selection = select_trajectories([t for t in trajectories if t.task_id not in rl_map], cfg, task_map, index)
        write_jsonl_atomic(run.path / "kept.jsonl", selection.kept)
        write_jsonl_atomic(run.path / "rejected.jsonl", selection.rejected)
        summary = selection.summary()
        if rl_map:  # the rl tasks' trajectories, filtered alike, for GRPO's guidance only (never SFT's rows)
            guidance = select_trajectories([t for t in trajectories if t.task_id in rl_map], cfg, rl_map, index)
            write_jsonl_atomic(run.path / "guidance.jsonl", guidance.kept)
            summary["guidance"] = guidance.summary()
            outputs["guidance"] = str(d / "guidance.jsonl")
        run.write_json("summary.json", summary)
    figures = {"kept": summary["kept"], "rejected": summary["rejected"], "tasks_kept": summary["tasks_kept"]}
    if rl_map:
        figures["guidance_kept"] = summary["guidance"]["kept"]
    return StageResult(outputs, figures)


# ---------------------------------------------------------------------------------------------------- base


def run_base(ctx: Context, d: Path) -> StageResult:
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
    corpus += [render_chat(r["messages"], json.loads(r["tools"]), tiny.chat_template) for r in rows]
    fixed = [system_block(rows[0]["messages"], json.loads(rows[0]["tools"]))] if tiny.fixed_system_block and rows else []
    path = build_tiny_model(d / "model", seed=recipe.seed, vocab_size=tiny.vocab_size, hidden_size=tiny.hidden_size,
                            num_layers=tiny.num_layers, num_heads=tiny.num_heads, num_kv_heads=tiny.num_kv_heads,
                            intermediate_size=tiny.intermediate_size, max_positions=tiny.max_positions,
                            corpus=corpus, split_digits=tiny.split_digits, fixed_texts=fixed,
                            chat_template=tiny.chat_template)
    from transformers import AutoConfig

    figures: dict[str, Any] = {"vocab": AutoConfig.from_pretrained(str(path)).vocab_size, "fixed_tokens": len(fixed)}
    if tiny.copy_pretrain.steps:
        from sciresearcher.train.copy_pretrain import pretrain_copying

        train_docs = load_sources([ctx.output("split", "train_documents")]).documents  # documents only: no tasks
        cfg = tiny.copy_pretrain.model_copy(update={"seed": recipe.seed, "threads": recipe.threads})
        matmul = set_cpu_math(recipe)
        from sciresearcher.pipeline.progress import step_progress

        with step_progress("copy pretraining", cfg.steps, ctx.show_progress) as update:
            copied = pretrain_copying(path, [doc.text for doc in train_docs], cfg,
                                      on_step=lambda step, acc: update(step, f"copy accuracy {acc:.2f}"))
        figures["copy_acc"] = f"{copied['copy_accuracy_first']:.2f}->{copied['copy_accuracy_last']:.2f}"
        figures["copy_s_per_step"] = round(copied["seconds"] / copied["steps"], 3)  # the machine's pace on this model
        if recipe.cpu_matmul != "ieee":
            figures["cpu_matmul"] = matmul  # what ran: ieee where the CPU had no bf16
    return StageResult({"model": str(path)}, figures)


# ---------------------------------------------------------------------------------------------------- export


def guides_rl(recipe: Recipe) -> bool:
    """GRPO guided by the teacher's trajectories of its own prompts from the `rl` split: the teacher rolls out the
    rl tasks too, the filter keeps their trajectories apart, and the export writes them as guidance rows."""
    guidance = recipe.grpo.guidance
    return recipe.split.has_rl and guidance is not None and guidance.trajectories == FILLED


def rl_tasks_file(ctx: Context) -> Path:
    """The tasks GRPO trains on: the `rl` split when the recipe fills it (entities SFT never saw, or train-entity
    tasks SFT never trains on), else the train split."""
    return ctx.output("split", "rl" if ctx.recipe.split.has_rl else "train")


def run_export(ctx: Context, d: Path) -> StageResult:
    from sciresearcher.data.export import export_tasks, export_trajectories
    from sciresearcher.data.rejection import read_trajectories
    from sciresearcher.runs import RunDir
    from sciresearcher.tasks.files import read_tasks

    recipe = ctx.recipe
    model = str(ctx.output("base", "model"))
    cfg = recipe.export.model_copy(update={"format": "trl-sft", "tokenizer": recipe.export.tokenizer or model})
    with RunDir(d, cfg) as run:
        written = export_trajectories(read_trajectories([ctx.output("filter", "kept")]), cfg, d / "sft")
        tasks = read_tasks(rl_tasks_file(ctx))
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
    figures = {"sft_rows": written["train"]["rows"], "rl_tasks": rl["train"]["rows"], "dropped_overlong": len(dropped)}
    if guides_rl(recipe):  # the filter kept the rl tasks' trajectories apart: GRPO's guidance rows
        guide = export_trajectories(read_trajectories([ctx.output("filter", "guidance")]),
                                    cfg.model_copy(update={"val_fraction": 0.0}), d / "guidance")
        if "train" in guide:
            outputs["guidance_rows"] = guide["train"]["path"]
            figures["guidance_rows"] = guide["train"]["rows"]
    return StageResult(outputs, figures)
