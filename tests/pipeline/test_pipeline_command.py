"""`sciresearcher pipeline`: recipes, stage keys, skipping unchanged stages, resuming a SIGKILLed run, --dry-run."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from sciresearcher.cli.app import app
from sciresearcher.data.rejection import read_trajectories
from sciresearcher.errors import ConfigError
from sciresearcher.pipeline.model_stages import grpo_run_config, pass_rates
from sciresearcher.pipeline.recipe import builtin_recipes, load_recipe
from sciresearcher.pipeline.runner import plan
from sciresearcher.pipeline.stage import Context, StageResult
from sciresearcher.pipeline.stages import STAGES
from sciresearcher.records import Grade, Policy, Trajectory

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

# A small offline recipe: 30 tasks of one template, a dozen to train on, the reference policy as the teacher.
SMALL = {
    "name": "small",
    "synth": {"computational": {"n": 30, "templates": ["element_atoms"], "sandbox": {"preload": []}}},
    "clean": {"eval_sets": [], "dedup": False},
    "split": {"max_tasks": {"train": 14, "validation": 4, "test": 4}},
    "teacher": {"policy": "reference", "rollout": {"concurrency": 1, "tools": {
        "knowledge": {"mode": "bm25", "top_k": 2, "read_paragraphs": False, "evidence": {"use_dense": False}},
        "sandbox": {"preload": [], "blocked_modules": ["mendeleev", "chemicals"]}}}},
    "filter": {"min_tool_calls": 3, "max_tool_errors": 0, "screen": None},
}


def _recipe(tmp_path: Path, **changes: object) -> Path:
    data = json.loads(json.dumps(SMALL))
    data["out"] = str(tmp_path / "p")
    data.update(changes)
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _pipeline(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "160"}
    return subprocess.run([sys.executable, "-m", "sciresearcher", "pipeline", *args, "-q"], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=600, check=False, **kw)  # type: ignore[call-overload]


def test_recipes_are_typed_and_unknown_keys_are_errors(tmp_path: Path):
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


def test_stage_keys_follow_config_and_inputs(tmp_path: Path):
    recipe, path = load_recipe(_recipe(tmp_path))
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


def test_a_setting_left_at_its_default_is_not_in_any_key(tmp_path: Path):
    """Keys hash what differs from the defaults: a release that adds a setting (its default keeping the old
    behaviour) reuses finished stages, as spelling a default out does; another value moves the key."""
    recipe, path = load_recipe(_recipe(tmp_path))
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


def test_a_sigkilled_pipeline_resumes_without_redoing_finished_stages_or_records(tmp_path: Path):
    """Kill -9 in the middle of the teacher stage, run again: earlier stages are skipped, the teacher resumes at
    the record where it stopped (no trajectory is rolled out twice), and the rest of the pipeline runs."""
    recipe = _recipe(tmp_path)
    root = tmp_path / "p"
    records = root / "05-teacher" / "trajectories.jsonl"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "sciresearcher", "pipeline", str(recipe), "--until", "filter", "-q"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 400
    while time.time() < deadline and proc.poll() is None:
        if records.is_file() and records.read_text().count("\n") >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"the pipeline ended before it could be killed: {proc.stderr.read()[-2000:]}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {d.name: json.loads((d / "stage.json").read_text()) for d in sorted(root.glob("0[1-4]-*"))}
    assert all(s["status"] == "done" for s in before.values()) and len(before) == 4
    assert json.loads((root / "05-teacher" / "stage.json").read_text())["status"] == "running"
    done_lines = [line for line in records.read_text().splitlines(keepends=True) if line.endswith("\n")]

    result = _pipeline(str(recipe), "--until", "filter")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.count("unchanged, skipped") == 4 and "teacher" in result.stderr and "resuming" in result.stderr
    after = {d.name: json.loads((d / "stage.json").read_text()) for d in sorted(root.glob("0[1-4]-*"))}
    assert after == before  # the finished stages were not run again (same start times, same outputs)
    text = records.read_text()
    assert text.startswith("".join(done_lines))  # finished records kept byte for byte
    ids = [json.loads(line)["id"] for line in text.splitlines()]
    train = (root / "04-split" / "train.jsonl").read_text().count("\n")
    assert len(ids) == len(set(ids)) == train  # every task once: none redone, none lost
    filtered = json.loads((root / "06-filter" / "stage.json").read_text())
    assert filtered["status"] == "done" and filtered["figures"]["kept"] == train

    again = _pipeline(str(recipe), "--until", "filter")
    assert again.returncode == 0 and again.stderr.count("unchanged, skipped") == 6
    changed = _pipeline(str(recipe), "--until", "filter", "--filter.max_per_task", "3")
    assert changed.returncode == 0 and changed.stderr.count("unchanged, skipped") == 5
    assert (root / "06-filter.previous" / "kept.jsonl").is_file()  # the old run is kept aside
    redo = _pipeline(str(recipe), "--until", "split", "--from", "split")
    assert redo.returncode == 0 and redo.stderr.count("unchanged, skipped") == 3 and "redo" in redo.stderr


def test_fictional_elements_are_trained_on_and_never_evaluated(tmp_path: Path):
    """Fictional element tasks land in train only, their documents in the training index and not in the world's
    (the evaluation's), and the reference policy solves them through the real tools like the real ones."""
    synth = {"computational": {**SMALL["synth"]["computational"], "fictional": {"elements": 6, "tasks": 8}}}
    recipe = _recipe(tmp_path, synth=synth, split={"max_tasks": {"train": 40, "validation": 4, "test": 4}})
    result = _pipeline(str(recipe), "--until", "filter")
    assert result.returncode == 0, result.stderr[-3000:]
    root = tmp_path / "p"

    def ids(path: Path) -> list[str]:
        return [json.loads(line)["id"] for line in path.read_text().splitlines()]

    train = [json.loads(line) for line in (root / "04-split" / "train.jsonl").read_text().splitlines()]
    made_up = [t for t in train if t["evidence"][0]["doc_id"].startswith("fictional:element:")]
    assert len(made_up) == 8
    for name in ("validation", "test"):
        assert "fictional:" not in (root / "04-split" / f"{name}.jsonl").read_text()
    assert sum(i.startswith("fictional:") for i in ids(root / "04-split" / "train_documents.jsonl")) == 6
    assert not any(i.startswith("fictional:") for i in ids(root / "01-world" / "documents.jsonl"))
    kept = {t.task_id: t for t in read_trajectories([root / "06-filter" / "kept.jsonl"])}
    for task in made_up:  # searched, read by the id search printed, computed: kept like any other
        calls = [c for m in kept[task["id"]].messages if m.role == "assistant" for c in (m.tool_calls or [])]
        doc = task["evidence"][0]["doc_id"]
        assert any(c.function.name == "read" and doc in c.function.arguments for c in calls)


def test_train_only_rl_gives_grpo_made_up_elements_and_stocks_that_sft_never_sees(tmp_path: Path):
    """`split.train_only_rl`: half the made-up elements and stock records go to the rl split; with guidance the
    teacher solves their tasks too, and the filter keeps those trajectories as guidance, never as SFT's."""
    synth = {"computational": {**SMALL["synth"]["computational"],
                               "fictional": {"elements": 6, "tasks": 8, "stocks": 4, "stock_tasks": 6}}}
    recipe = _recipe(tmp_path, synth=synth, split={"max_tasks": {"train": 40, "validation": 4, "test": 4},
                                                   "train_only_rl": 0.5},
                     grpo={"guidance": {"when": "all_failed"}})
    result = _pipeline(str(recipe), "--until", "filter")
    assert result.returncode == 0, result.stderr[-3000:]
    root = tmp_path / "p"
    tasks = {name: [json.loads(line) for line in (root / "04-split" / f"{name}.jsonl").read_text().splitlines()]
             for name in ("train", "rl", "validation", "test")}
    rl_docs = {t["evidence"][0]["doc_id"] for t in tasks["rl"]}
    train_docs = {t["evidence"][0]["doc_id"] for t in tasks["train"]}
    for kind in ("element", "stock"):  # each namespace of made-up entities is cut on its own
        assert any(d.startswith(f"fictional:{kind}:") for d in rl_docs)
        assert any(d.startswith(f"fictional:{kind}:") for d in train_docs)
    assert all(d.startswith("fictional:") for d in rl_docs) and not rl_docs & train_docs
    for name in ("validation", "test"):
        assert not any(t["evidence"][0]["doc_id"].startswith("fictional:") for t in tasks[name])
    rl_ids = {t["id"] for t in tasks["rl"]}
    kept_rl = {json.loads(line)["task_id"] for line in (root / "06-filter" / "guidance.jsonl").open()}
    kept_sft = {json.loads(line)["task_id"] for line in (root / "06-filter" / "kept.jsonl").open()}
    assert kept_rl == rl_ids and not kept_sft & rl_ids
    teacher = {name: {json.loads(line)["task_id"] for line in (root / "05-teacher" / name).open()}
               for name in ("trajectories.jsonl", "rl/trajectories.jsonl")}
    assert teacher["rl/trajectories.jsonl"] == rl_ids and not teacher["trajectories.jsonl"] & rl_ids
    # the rl entities' documents: not in the student's texts before GRPO (train_documents feeds its tokenizer and
    # copy pretraining), only in GRPO's index, which the guided teacher searched to solve the rl tasks
    student_docs = {json.loads(line)["id"] for line in (root / "04-split" / "train_documents.jsonl").open()}
    assert train_docs <= student_docs and not rl_docs & student_docs
    split = json.loads((root / "04-split" / "stage.json").read_text())
    assert split["outputs"]["rl_index"] == str(root / "04-split" / "rl_index")
    assert split["figures"]["rl_only_docs"] == len(rl_docs)
    indexed = {name: [json.loads(line)["id"] for line in (root / "04-split" / name / "documents.jsonl").open()]
               for name in ("train_index", "rl_index")}  # the rl index: the training one, extended
    assert set(indexed["train_index"]) == student_docs and set(indexed["rl_index"]) == student_docs | rl_docs
    assert indexed["rl_index"][:len(indexed["train_index"])] == indexed["train_index"]


def test_an_rl_split_left_empty_stops_the_pipeline_at_the_split_with_what_to_change(tmp_path: Path):
    recipe = _recipe(tmp_path, split={"max_tasks": {"train": 14, "validation": 4, "test": 4}, "train_only_rl": 0.5})
    result = _pipeline(str(recipe), "--until", "export")  # no made-up elements: nothing for train_only_rl to send
    assert result.returncode != 0
    assert "no task landed in it" in result.stderr and "synth.computational.fictional" in result.stderr
    assert not (tmp_path / "p" / "05-teacher").exists()


def test_the_whole_pipeline_ends_with_the_models_table_and_the_report(tmp_path: Path):
    """world to report with the smallest settings: SFT and GRPO of a tiny student, three models evaluated on the
    same held-out tasks, a table on the terminal and one HTML report comparing them."""
    fractions = {"train": 0.55, "rl": 0.15, "validation": 0.15, "test": 0.15}  # GRPO on entities SFT never saw
    recipe = _recipe(tmp_path, split={"fractions": fractions, "max_tasks": {"train": 14, "validation": 4, "test": 4}},
                     student={"tiny": {"hidden_size": 32, "num_layers": 2, "num_heads": 2, "num_kv_heads": 1,
                                                 "vocab_size": 600, "max_positions": 4096,
                                                 "copy_pretrain": {"steps": 3, "batch_size": 2, "seq_len": 64,
                                                                   "max_span": 12, "pseudo_words": 0.3}}},
                     sft={"max_steps": 2, "per_device_train_batch_size": 2, "max_length": 4096},
                     grpo={"max_steps": 1, "num_generations": 2, "per_device_train_batch_size": 2,
                           "max_completion_length": 16, "max_tool_calling_iterations": 1,
                           "tools": SMALL["teacher"]["rollout"]["tools"],
                           # GRPO on the tasks the SFT model's greedy rollout fails, out of a pool of 2, each group
                           # guided by the teacher's trajectory of its rl task
                           "prompt_filter": {"samples": 1, "max_pass": 0.0, "pool": 2},
                           "guidance": {"when": "always"}},
                     eval={"splits": ["test"], "rollout": {"tools": SMALL["teacher"]["rollout"]["tools"],
                                                           "agent": {"max_turns": 2, "sampling": {"max_tokens": 8}}}})
    result = _pipeline(str(recipe))
    assert result.returncode == 0, result.stderr[-3000:]
    root = tmp_path / "p"
    ids = {name: [json.loads(line)["id"] for line in (root / "04-split" / f"{name}.jsonl").read_text().splitlines()]
           for name in ("train", "rl")}
    rl_prompts = [json.loads(line)["id"] for line in (root / "08-export" / "rl" / "train.jsonl").read_text().splitlines()]
    assert ids["rl"] and rl_prompts == ids["rl"] and not set(ids["rl"]) & set(ids["train"])
    rates = pass_rates(read_trajectories([root / "10-grpo" / "prompt-filter" / "rollouts" / "trajectories.jsonl"]))
    grpo_tasks = [json.loads(line)["id"] for line in (root / "10-grpo" / "tasks.jsonl").read_text().splitlines()]
    assert len(rates) == 2 and set(rates) <= set(ids["rl"])  # the pool: 2 of the rl tasks, each rolled out once
    assert grpo_tasks == [t for t in ids["rl"] if t in rates and rates[t] == 0.0]
    # the teacher rolled out the rl tasks in a run of their own; their trajectories are guidance rows, never SFT's
    teacher_tasks = {json.loads(line)["task_id"] for line in (root / "05-teacher" / "rl" / "trajectories.jsonl").open()}
    assert set(ids["rl"]) == teacher_tasks
    kept_rl = {json.loads(line)["task_id"] for line in (root / "06-filter" / "guidance.jsonl").open()}
    kept_sft = {json.loads(line)["task_id"] for line in (root / "06-filter" / "kept.jsonl").open()}
    assert kept_rl and kept_rl <= set(ids["rl"]) and not kept_sft & set(ids["rl"])
    sft_rows = (root / "08-export" / "sft" / "train.jsonl").read_text()
    guide_rows = (root / "08-export" / "guidance" / "train.jsonl").read_text().splitlines()
    assert len(guide_rows) == len(kept_rl)
    rl_questions = [json.loads(line)["question"] for line in (root / "04-split" / "rl.jsonl").open()]
    assert not any(json.dumps(q)[1:-1] in sft_rows for q in rl_questions)
    assert f"guidance: {len(grpo_tasks)} of {len(grpo_tasks)} GRPO prompts have a trajectory" in \
        (root / "10-grpo" / "run.log").read_text()
    grpo_stage = json.loads((root / "10-grpo" / "stage.json").read_text())["figures"]
    assert grpo_stage["filter_tried"] == 2 and grpo_stage["filter_kept"] == len(grpo_tasks)
    base = json.loads((root / "07-base" / "stage.json").read_text())
    assert "->" in base["figures"]["copy_acc"]  # copy pretraining ran on the training documents
    runs = json.loads((root / "11-eval" / "runs.json").read_text())
    assert set(runs) == {"base", "sft", "grpo"}
    for by in runs.values():
        test = by["test"]
        assert test["tasks"] == 4 and 0.0 <= test["accuracy"] <= 1.0 and test["tool_calls"] is not None
    report = root / "12-report" / "report.html"
    assert report.is_file() and "SFT" in report.read_text()
    out = result.stdout
    assert "accuracy on tasks the models never trained on" in out and "SFT + GRPO" in out and "tool calls" in out
    assert f"report: {report}" in out.replace("\n", "")


def test_prompt_filter_bounds_are_checked_and_pass_rates_count_ungraded_samples_as_wrong(tmp_path: Path):
    with pytest.raises(ConfigError, match="max_pass 0.2 is below min_pass 0.5"):
        load_recipe(_recipe(tmp_path, grpo={"prompt_filter": {"min_pass": 0.5, "max_pass": 0.2}}))
    policy = Policy(backend="local", model="m")
    samples = [("a", True), ("a", False), ("a", None), ("a", True), ("b", False)]
    trajectories = [Trajectory(id=f"{task}#{i}", task_id=task, sample_index=i, policy=policy,
                               grade=None if ok is None else Grade(correct=ok, method="numeric"))
                    for i, (task, ok) in enumerate(samples)]
    assert pass_rates(trajectories) == {"a": 0.5, "b": 0.0}


def test_guided_grpo_reads_the_exports_sft_rows(tmp_path: Path):
    """`grpo.guidance` without trajectories guides with the export's guidance rows (the rl split's tasks) or its SFT
    rows (GRPO on SFT's tasks); named trajectories are kept as they are."""
    results = {"export": StageResult({"sft_train": str(tmp_path / "08-export" / "sft" / "train.jsonl")}, {}),
               "sft": StageResult({"model": str(tmp_path / "09-sft" / "final")}, {}),
               "split": StageResult({"train_index": str(tmp_path / "04-split" / "index")}, {})}
    recipe, _ = load_recipe(_recipe(tmp_path, grpo={"guidance": {"when": "always"}}))
    cfg = grpo_run_config(Context(recipe, tmp_path / "r.yaml", tmp_path, dict(results)), tmp_path / "10-grpo", "t.jsonl")
    assert cfg.guidance is not None and cfg.guidance.when == "always"
    assert cfg.guidance.trajectories == results["export"].outputs["sft_train"]
    with_rl = {**results, "export": StageResult({**results["export"].outputs, "guidance_rows": "g.jsonl"}, {})}
    cfg = grpo_run_config(Context(recipe, tmp_path / "r.yaml", tmp_path, with_rl), tmp_path / "10-grpo", "t.jsonl")
    assert cfg.guidance.trajectories == "g.jsonl"  # an rl split's tasks: the teacher's trajectories of them
    named, _ = load_recipe(_recipe(tmp_path, grpo={"guidance": {"trajectories": "mine.jsonl"}}))
    cfg = grpo_run_config(Context(named, tmp_path / "r.yaml", tmp_path, dict(results)), tmp_path / "10-grpo", "t.jsonl")
    assert cfg.guidance.trajectories == "mine.jsonl" and cfg.guidance.when == "all_failed"
    # the teacher's key changes when it must also roll out the rl split (a resumed pipeline redoes it), only then
    teacher = next(stage for stage in STAGES if stage.name == "teacher")
    rl_guided, _ = load_recipe(_recipe(tmp_path, split={"rl_from_train": 3}, grpo={"guidance": {}}))
    assert teacher.config(rl_guided)["guides_rl"] is True and "guides_rl" not in teacher.config(recipe)
    unguided, _ = load_recipe(_recipe(tmp_path))
    cfg = grpo_run_config(Context(unguided, tmp_path / "r.yaml", tmp_path, dict(results)), tmp_path / "g", "t.jsonl")
    assert cfg.guidance is None and cfg.tools.knowledge.index == tmp_path / "04-split" / "index"
    # GRPO searches the index with the rl split's own entities where the split made one
    rl_split = {**results, "split": StageResult({**results["split"].outputs, "rl_index": "rl_index"}, {})}
    cfg = grpo_run_config(Context(unguided, tmp_path / "r.yaml", tmp_path, rl_split), tmp_path / "g", "t.jsonl")
    assert cfg.tools.knowledge.index == Path("rl_index")


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
