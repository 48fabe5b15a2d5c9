"""`sciresearcher pipeline` recipes and plans: typed recipes, stage keys, --dry-run's calls, tokens and costs,
the plan's task counts. Not here: running the stages (test_pipeline_resume, test_pipeline_entities,
test_pipeline_command)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sciresearcher.cli.app import app
from sciresearcher.errors import ConfigError
from sciresearcher.pipeline.recipe import builtin_recipes, load_recipe
from sciresearcher.pipeline.runner import plan
from sciresearcher.pipeline.stages import STAGES

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_recipes_are_typed_and_unknown_keys_are_errors():
    assert "demo" in builtin_recipes()
    demo, path = load_recipe("demo")
    assert demo.teacher.policy == "reference" and path.name == "demo.yaml"
    assert demo.teacher.rollout.tools.sandbox.blocked_modules  # offline tasks must need their documents
    with pytest.raises(ConfigError, match="did you mean 'sft.max_steps'"):
        load_recipe("demo", ["--sft.max_step", "3"])
    with pytest.raises(ConfigError, match="set by the pipeline"):
        load_recipe("demo", ["--sft.model", "x"])
    with pytest.raises(ConfigError, match="built-in recipes: .*demo"):
        load_recipe("no-such-recipe")
    real, _ = load_recipe(ROOT / "recipes" / "sciresearcher-8b.yaml")
    assert real.student.model == "models/Qwen3-8B" and real.sft.launch.accelerate == "fsdp"


def test_stage_keys_follow_config_and_inputs(tmp_path: Path, small_recipe: Callable[..., Path]):
    recipe, path = load_recipe(small_recipe())
    base = {p.stage.name: p.key for p in plan(recipe, path, tmp_path / "p")}
    changed, _ = load_recipe(path, ["--filter.max_per_task", "3"])
    after = {p.stage.name: p.key for p in plan(changed, path, tmp_path / "p")}
    same = [n for n in base if base[n] == after[n]]
    assert same == ["world", "synth", "clean", "split", "teacher"]  # upstream of filter unchanged, the rest moves
    reseeded, _ = load_recipe(path, ["--seed", "1"])
    assert {p.stage.name: p.key for p in plan(reseeded, path, tmp_path / "p")}["world"] == base["world"]
    assert plan(recipe, path, tmp_path / "p", until="split")[-1].stage.name == "split"
    with pytest.raises(ConfigError, match="unknown stage"):
        plan(recipe, path, tmp_path / "p", start="nope")


def test_a_setting_left_at_its_default_is_not_in_any_key(tmp_path: Path, small_recipe: Callable[..., Path]):
    """Keys hash what differs from the defaults: a release that adds a setting (its default keeping the old
    behaviour) reuses finished stages, as spelling a default out does; another value moves the key."""
    recipe, path = load_recipe(small_recipe())
    keys = {p.stage.name: p.key for p in plan(recipe, path, tmp_path / "p")}
    spelled, _ = load_recipe(path, ["--teacher.rollout.llm.loop_stop", "0", "--teacher.rollout.llm.local_batch",
                                    "1"])
    assert {p.stage.name: p.key for p in plan(spelled, path, tmp_path / "p")} == keys
    other, _ = load_recipe(path, ["--teacher.rollout.llm.loop_stop", "96"])
    assert {p.stage.name: p.key for p in plan(other, path, tmp_path / "p")}["teacher"] != keys["teacher"]
    from pydantic import BaseModel

    from sciresearcher.pipeline.stage import dump

    class Before(BaseModel):
        lr: float = 1e-4

    class After(Before):  # the next release's config: one more setting, defaulting to the old behaviour
        loop_stop: int = 0

    assert dump(After(lr=3e-3)) == dump(Before(lr=3e-3)) == {"lr": 3e-3}
    assert dump(After(lr=3e-3, loop_stop=96)) != dump(Before(lr=3e-3))


def test_cpu_matmul_moves_the_model_stages_keys_only_when_set(tmp_path: Path, small_recipe: Callable[..., Path]):
    """`cpu_matmul: bf16` trains and generates with other kernels, so the student and everything after it are
    new stages; the data stages before it are not, and `ieee` spelled out is the default's key."""
    recipe, path = load_recipe(small_recipe())
    keys = {p.stage.name: p.key for p in plan(recipe, path, tmp_path / "p")}
    spelled, _ = load_recipe(path, ["--cpu_matmul", "ieee"])
    assert {p.stage.name: p.key for p in plan(spelled, path, tmp_path / "p")} == keys
    fast, _ = load_recipe(path, ["--cpu_matmul", "bf16"])
    moved = {p.stage.name for p in plan(fast, path, tmp_path / "p") if p.key != keys[p.stage.name]}
    assert moved == {"base", "export", "sft", "grpo", "eval", "report"}
    with pytest.raises(ConfigError, match="cpu_matmul"):
        load_recipe(path, ["--cpu_matmul", "tf32"])


def test_dry_run_prints_the_real_scale_plan_with_calls_tokens_and_cost():
    result = runner.invoke(app, ["pipeline", str(ROOT / "recipes" / "sciresearcher-8b.yaml"), "--dry-run"],
                           env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    out = result.output
    for stage in ("world", "synth", "clean", "split", "teacher", "filter", "base", "export", "sft", "grpo", "eval",
                  "report"):
        assert f"│ {stage} " in out, stage
    assert "claude-sonnet-4-5" in out and "o3-mini" in out and "estimated cost of the stages still to run: $" in out
    total = out.split("estimated cost")[1].splitlines()[0]
    assert "$0.00" not in total
    # priced by llm/prices with the discounts a run gets: cached agent turns, batched writer and judge calls
    assert "(cache)" in out and "(batch)" in out
    estimate, listed = (float(x.replace(",", "")) for x in re.findall(r"\$([\d,]+\.\d\d)", total))
    assert 0 < estimate < listed


def test_dry_run_prices_come_from_the_recipes_table_over_the_shipped_one(tmp_path: Path):
    from sciresearcher.pipeline.plan import load_prices
    from sciresearcher.pipeline.recipe import load_recipe

    (tmp_path / "prices.yaml").write_text("claude-sonnet-4-5: {input: 1.0, output: 2.0}\n")
    text = (ROOT / "recipes" / "sciresearcher-8b.yaml").read_text().replace("prices: prices.yaml", "prices: prices.yaml")
    (tmp_path / "r.yaml").write_text(text)
    recipe, path = load_recipe(tmp_path / "r.yaml")
    table = load_prices(recipe, path)
    assert table["claude-sonnet-4-5"].input == 1.0 and table["gpt-4.1"].input == 2.0  # theirs win; the rest shipped


def test_the_plan_counts_the_teachers_rollouts_of_guided_rl_tasks():
    """With GRPO guided on an rl split, the teacher also rolls out the rl tasks: the dry run's estimate says so."""
    from types import SimpleNamespace

    from sciresearcher.pipeline.plan import estimate, load_prices

    path = ROOT / "recipes" / "sciresearcher-8b.yaml"
    teacher = SimpleNamespace(stage=next(stage for stage in STAGES if stage.name == "teacher"))

    def teacher_calls(*overrides: str) -> float:
        recipe, _ = load_recipe(path, list(overrides))
        rows = estimate(recipe, path, teacher, load_prices(recipe, path)).rows
        return next(r["calls"] for r in rows if r["who"] == "teacher")

    plain = teacher_calls("--split.rl_from_train", "200")
    guided = teacher_calls("--split.rl_from_train", "200", "--grpo.guidance", "{when: all_failed}")
    recipe, _ = load_recipe(path)
    turns, samples = recipe.estimates.turns_per_trajectory, recipe.teacher.rollout.samples
    assert guided - plain == pytest.approx(200 * samples * turns)


def test_the_plan_counts_fictional_tasks_in_train_alone():
    from sciresearcher.pipeline.plan import task_counts

    uncapped = ["--split.max_tasks", "{train: 100000, validation: 100000, test: 100000}"]
    plain = task_counts(load_recipe("demo", uncapped)[0])
    recipe, _ = load_recipe("demo", [*uncapped, "--synth.computational.fictional", "{elements: 50, tasks: 200}"])
    counts = task_counts(recipe)
    assert counts["train"] - plain["train"] == pytest.approx(200 * recipe.estimates.kept_fraction)
    assert counts["test"] == plain["test"] and counts["validation"] == plain["validation"]
    # a quarter of them to rl (made-up entities only GRPO sees): train keeps the rest
    recipe, _ = load_recipe("demo", [*uncapped, "--synth.computational.fictional", "{elements: 50, tasks: 200}",
                                     "--split.train_only_rl", "0.25"])
    to_rl = task_counts(recipe)
    assert to_rl["rl"] == pytest.approx(50 * recipe.estimates.kept_fraction)
    assert to_rl["train"] - plain["train"] == pytest.approx(150 * recipe.estimates.kept_fraction)
    # made-up stock records' tasks count with the elements' (both are cut by train_only_rl)
    recipe, _ = load_recipe("demo", [*uncapped, "--synth.computational.fictional",
                                     "{elements: 50, tasks: 200, stocks: 20, stock_tasks: 40}",
                                     "--split.train_only_rl", "0.25"])
    both = task_counts(recipe)
    assert both["rl"] == pytest.approx(60 * recipe.estimates.kept_fraction)
    assert both["train"] - plain["train"] == pytest.approx(180 * recipe.estimates.kept_fraction)


def test_sft_token_checks_only_rows_the_export_did_not_check_against_its_model():
    """The export refuses rows that are not token-exact for the tokenizer it is given; SFT checks them again only
    when that tokenizer was another model's, or the export did not check."""
    from sciresearcher.pipeline.model_stages import sft_checks_tokens

    demo, _ = load_recipe("demo")
    assert not sft_checks_tokens(demo, "/runs/07-base/model")
    unchecked = demo.model_copy(update={"export": demo.export.model_copy(update={"check_tokens": False})})
    assert sft_checks_tokens(unchecked, "/runs/07-base/model")
    other = demo.model_copy(update={"export": demo.export.model_copy(update={"tokenizer": "/models/other"})})
    assert sft_checks_tokens(other, "/runs/07-base/model")
    assert not sft_checks_tokens(other.model_copy(update={"sft": demo.sft.model_copy(update={"check_tokens": False})}),
                                 "/runs/07-base/model")
