"""The pipeline's stages, in the order data flows; each calls the library code its command calls.

world -> synth -> clean -> split -> teacher -> filter -> base -> export -> sft -> grpo -> eval -> report

Each stage names the stages it reads (`needs`), the part of the recipe that configures it (`config`, which
with the inputs' keys makes the stage's key) and files outside the pipeline it reads (`external`); `run(ctx,
dir)` does the work in the stage's run directory and returns its outputs (paths) and a few figures. A
stage's own run directory resumes a killed run (record logs skip finished records; SFT and GRPO restart from
their last checkpoint), so the runner (`runner.py`) only decides which stages to run.
"""

from __future__ import annotations

from sciresearcher.pipeline.data_stages import (
    guides_rl,
    run_base,
    run_clean,
    run_export,
    run_filter,
    run_split,
    run_synth,
    run_teacher_stage,
    run_world,
    synth_config,
    world_files,
)
from sciresearcher.pipeline.model_stages import (
    eval_files,
    eval_targets,
    run_eval,
    run_grpo_stage,
    run_report,
    run_sft_stage,
)
from sciresearcher.pipeline.stage import Context, Stage, StageResult, cpu_math_key, dump

__all__ = ["STAGES", "STAGE_NAMES", "Context", "Stage", "StageResult", "eval_targets"]

STAGES: list[Stage] = [
    Stage("world", "documents and their search index", (), lambda r: dump(r.world), run_world,
          ("documents", "index"), world_files),
    Stage("synth", "tasks synthesized over the documents", ("world",), synth_config, run_synth, ("tasks",)),
    Stage("clean", "decontamination and dedup", ("synth",), lambda r: dump(r.clean), run_clean, ("tasks",)),
    Stage("split", "train / (rl) / validation / test by entity; the training index without held-out documents",
          ("clean", "world"), lambda r: {"split": dump(r.split), "seed": r.seed, "benchmarks": r.eval.benchmarks,
                                          "max_tasks": r.eval.max_tasks, "dense": r.world.dense, "model": r.world.model},
          run_split, ("train", "validation", "test", "train_index"), eval_files),
    Stage("teacher", "teacher trajectories on the train split (and the rl split's, for GRPO's guidance)", ("split",),
          lambda r: {"teacher": dump(r.teacher), "seed": r.seed, **({"guides_rl": True} if guides_rl(r) else {})},
          run_teacher_stage, ("trajectories",)),
    Stage("filter", "rejection sampling", ("teacher", "split"), lambda r: dump(r.filter), run_filter, ("kept",)),
    Stage("base", "the student before training", ("filter", "split", "world"),
          lambda r: {"student": dump(r.student), "seed": r.seed, **cpu_math_key(r)}, run_base, ("model",)),
    Stage("export", "SFT rows (fitting the student's context) and RL tasks (the rl split, else train)",
          ("filter", "base", "split"),
          lambda r: dump(r.export), run_export, ("sft_train", "rl_train")),
    Stage("sft", "supervised fine-tuning on the kept trajectories", ("base", "export"),
          lambda r: {"sft": dump(r.sft), "seed": r.seed, **cpu_math_key(r)}, run_sft_stage, ("model",)),
    Stage("grpo", "GRPO with the outcome reward, tools over the training index", ("sft", "export", "split"),
          lambda r: {"grpo": dump(r.grpo), "seed": r.seed, **cpu_math_key(r)}, run_grpo_stage, ("model",)),
    Stage("eval", "each model on the held-out tasks, side by side", ("base", "sft", "grpo", "split", "world"),
          lambda r: {"eval": dump(r.eval), "seed": r.seed}, run_eval, ("runs",)),
    Stage("report", "one HTML report comparing the models", ("eval", "sft", "grpo"), lambda r: {}, run_report,
          ("report",)),
]
STAGE_NAMES = [s.name for s in STAGES]
