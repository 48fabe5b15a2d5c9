"""`sciresearcher pipeline` end to end: world to report with the smallest settings, the models table on the
terminal and the HTML report."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

from sciresearcher.data.rejection import read_trajectories
from sciresearcher.pipeline.model_stages import pass_rates
from sciresearcher.train.cpu_matmul import cpu_has_bf16


def test_the_whole_pipeline_ends_with_the_models_table_and_the_report(
    tmp_path: Path, small_recipe: Callable[..., Path], run_pipeline: Callable[..., CompletedProcess[str]],
    small: dict[str, Any],
):
    """world to report with the smallest settings: SFT and GRPO of a tiny student, three models evaluated on the
    same held-out tasks, a table on the terminal and one HTML report comparing them."""
    fractions = {"train": 0.55, "rl": 0.15, "validation": 0.15, "test": 0.15}  # GRPO on entities SFT never saw
    recipe = small_recipe(split={"fractions": fractions, "max_tasks": {"train": 14, "validation": 4, "test": 4}},
                     student={"tiny": {"hidden_size": 32, "num_layers": 2, "num_heads": 2, "num_kv_heads": 1,
                                                 "vocab_size": 600, "max_positions": 4096,
                                                 "copy_pretrain": {"steps": 3, "batch_size": 2, "seq_len": 64,
                                                                   "max_span": 12, "pseudo_words": 0.3}}},
                     sft={"max_steps": 2, "per_device_train_batch_size": 2, "max_length": 4096},
                     grpo={"max_steps": 1, "num_generations": 2, "per_device_train_batch_size": 2,
                           "max_completion_length": 16, "max_tool_calling_iterations": 1,
                           "tools": small["teacher"]["rollout"]["tools"],
                           # GRPO on the tasks the SFT model's greedy rollout fails, out of a pool of 2, each group
                           # guided by the teacher's trajectory of its rl task
                           "prompt_filter": {"samples": 1, "max_pass": 0.0, "pool": 2},
                           "guidance": {"when": "always"},
                           "lora": {"enabled": True, "r": 4, "alpha": 8}},  # merged for the eval stage
                     eval={"splits": ["test"], "rollout": {"tools": small["teacher"]["rollout"]["tools"],
                                                           "agent": {"max_turns": 2, "sampling": {"max_tokens": 8}}}},
                     cpu_matmul="bf16")  # the demo's kernels (train/cpu_matmul.py), in every model stage
    result = run_pipeline(str(recipe))
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
    assert "check_tokens: false" in (root / "09-sft" / "config.yaml").read_text()  # the export checked its rows
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
    assert base["figures"]["cpu_matmul"] == ("bf16" if cpu_has_bf16() else "ieee")  # what ran, on this CPU
    # each training stage's pace (seconds a step), what a seed's minutes depend on from one machine to the next
    assert base["figures"]["copy_s_per_step"] > 0 and grpo_stage["s_per_step"] > 0
    assert json.loads((root / "09-sft" / "stage.json").read_text())["figures"]["s_per_step"] > 0
    grpo_model = Path(json.loads((root / "10-grpo" / "stage.json").read_text())["outputs"]["model"])
    assert grpo_model == root / "10-grpo" / "merged" and (grpo_model / "config.json").is_file()
    assert (root / "10-grpo" / "final" / "adapter_config.json").is_file()  # the adapter itself stays
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
