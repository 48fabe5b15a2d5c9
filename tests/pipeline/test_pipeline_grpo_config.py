"""How the pipeline configures GRPO: the prompt filter's bounds and pass rates, guidance rows from the export,
the index GRPO searches (the rl index where the split made one)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sciresearcher.errors import ConfigError
from sciresearcher.pipeline.model_stages import grpo_run_config, pass_rates
from sciresearcher.pipeline.recipe import load_recipe
from sciresearcher.pipeline.stage import Context, StageResult
from sciresearcher.pipeline.stages import STAGES
from sciresearcher.records import Grade, Policy, Trajectory


def test_prompt_filter_bounds_are_checked_and_pass_rates_count_ungraded_samples_as_wrong(
    small_recipe: Callable[..., Path],
):
    with pytest.raises(ConfigError, match="max_pass 0.2 is below min_pass 0.5"):
        load_recipe(small_recipe(grpo={"prompt_filter": {"min_pass": 0.5, "max_pass": 0.2}}))
    policy = Policy(backend="local", model="m")
    samples = [("a", True), ("a", False), ("a", None), ("a", True), ("b", False)]
    trajectories = [Trajectory(id=f"{task}#{i}", task_id=task, sample_index=i, policy=policy,
                               grade=None if ok is None else Grade(correct=ok, method="numeric"))
                    for i, (task, ok) in enumerate(samples)]
    assert pass_rates(trajectories) == {"a": 0.5, "b": 0.0}


def test_guided_grpo_reads_the_exports_sft_rows(tmp_path: Path, small_recipe: Callable[..., Path]):
    """`grpo.guidance` without trajectories guides with the export's guidance rows (the rl split's tasks) or its SFT
    rows (GRPO on SFT's tasks); named trajectories are kept as they are."""
    results = {"export": StageResult({"sft_train": str(tmp_path / "08-export" / "sft" / "train.jsonl")}, {}),
               "sft": StageResult({"model": str(tmp_path / "09-sft" / "final")}, {}),
               "split": StageResult({"train_index": str(tmp_path / "04-split" / "index")}, {})}
    recipe, _ = load_recipe(small_recipe(grpo={"guidance": {"when": "always"}}))
    cfg = grpo_run_config(Context(recipe, tmp_path / "r.yaml", tmp_path, dict(results)), tmp_path / "10-grpo", "t.jsonl")
    assert cfg.guidance is not None and cfg.guidance.when == "always"
    assert cfg.guidance.trajectories == results["export"].outputs["sft_train"]
    with_rl = {**results, "export": StageResult({**results["export"].outputs, "guidance_rows": "g.jsonl"}, {})}
    cfg = grpo_run_config(Context(recipe, tmp_path / "r.yaml", tmp_path, with_rl), tmp_path / "10-grpo", "t.jsonl")
    assert cfg.guidance.trajectories == "g.jsonl"  # an rl split's tasks: the teacher's trajectories of them
    named, _ = load_recipe(small_recipe(grpo={"guidance": {"trajectories": "mine.jsonl"}}))
    cfg = grpo_run_config(Context(named, tmp_path / "r.yaml", tmp_path, dict(results)), tmp_path / "10-grpo", "t.jsonl")
    assert cfg.guidance.trajectories == "mine.jsonl" and cfg.guidance.when == "all_failed"
    # the teacher's key changes when it must also roll out the rl split (a resumed pipeline redoes it), only then
    teacher = next(stage for stage in STAGES if stage.name == "teacher")
    rl_guided, _ = load_recipe(small_recipe(split={"rl_from_train": 3}, grpo={"guidance": {}}))
    assert teacher.config(rl_guided)["guides_rl"] is True and "guides_rl" not in teacher.config(recipe)
    unguided, _ = load_recipe(small_recipe())
    cfg = grpo_run_config(Context(unguided, tmp_path / "r.yaml", tmp_path, dict(results)), tmp_path / "g", "t.jsonl")
    assert cfg.guidance is None and cfg.tools.knowledge.index == tmp_path / "04-split" / "index"
    # GRPO searches the index with the rl split's own entities where the split made one
    rl_split = {**results, "split": StageResult({**results["split"].outputs, "rl_index": "rl_index"}, {})}
    cfg = grpo_run_config(Context(unguided, tmp_path / "r.yaml", tmp_path, rl_split), tmp_path / "g", "t.jsonl")
    assert cfg.tools.knowledge.index == Path("rl_index")
