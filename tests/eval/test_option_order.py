"""GPQA / LitQA2 options in a deterministic per-task seeded order in every path, graded per sample: a constant
letter scores near chance, a response carrying its sample_index is graded against that sample's order."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from released_helpers import write_jsonl
from typer.testing import CliRunner

from sciresearcher.agent.prompts import render_question
from sciresearcher.cli.eval import eval_app
from sciresearcher.tasks.benchmark import options_for_sample
from sciresearcher.tasks.registry import load_benchmark


def gpqa_file(path: Path, n: int = 40) -> Path:
    """n GPQA-format rows (the released columns; correct answer first, as GPQA writes it)."""
    rng = random.Random(7)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3",
                    "Subdomain", "High-level domain", "Record ID"])
        for i in range(n):
            value = rng.randint(2, 90)
            w.writerow([f"Item {i}: what is {value} + 1?", str(value + 1), str(value + 2), str(value - 1),
                        str(value + 10), "Arithmetic", "Chemistry", f"recGPQA{i:05d}"])
    return path


def score(*args: str) -> dict:
    result = CliRunner().invoke(eval_app, ["score", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout[result.stdout.index("{"):])


def test_gpqa_options_are_shuffled_per_task_at_load_and_stable(tmp_path: Path):
    path = gpqa_file(tmp_path / "gpqa_diamond.csv")
    first = load_benchmark("gpqa-diamond", path=path).tasks
    again = load_benchmark(str(path)).tasks
    assert [t.options for t in first] == [t.options for t in again]  # deterministic, whichever way it is named
    golds = [t.answer for t in first]
    assert len(set(golds)) == 4 and golds.count("A") < 20  # not always "A" even without a sample order
    for t in first:
        value = int(t.question.split("what is ")[1].split(" + 1")[0])
        assert t.options[ord(t.answer) - 65] == str(value + 1)  # the gold letter follows the correct answer
        assert "Choose exactly one option" in render_question(t)


def test_constant_letter_on_gpqa_scores_near_chance(tmp_path: Path):
    path = gpqa_file(tmp_path / "gpqa_diamond.csv")
    firsts = []
    for letter in "ABCD":
        rows = [{"task_id": f"recGPQA{i:05d}", "response": f"Answer: {letter}"} for i in range(40)]
        summary = score("-b", f"gpqa={path}", "-r", str(write_jsonl(tmp_path / f"{letter}.jsonl", rows)))
        assert 0.05 <= summary["first_sample_accuracy"] <= 0.5, (letter, summary["first_sample_accuracy"])
        firsts.append(summary["first_sample_accuracy"])
    assert sum(firsts) == 1.0  # sample 0 of each task has exactly one right letter
    # five constant "A" samples per task: each sample is graded in its own order, still near chance
    rows = [{"task_id": f"recGPQA{i:05d}", "response": "Answer: A"} for i in range(40) for _ in range(5)]
    summary = score("-b", f"gpqa={path}", "-r", str(write_jsonl(tmp_path / "five.jsonl", rows)), "--k", "1,5")
    assert 0.1 <= summary["mean_sample_accuracy"] <= 0.4 and summary["pass_at_k"]["5"] < 1.0


def test_a_response_is_graded_against_its_own_samples_order(tmp_path: Path):
    path = gpqa_file(tmp_path / "gpqa_diamond.csv", n=6)
    tasks = load_benchmark("gpqa-diamond", path=path).tasks
    right = {t.id: t.options[ord(t.answer) - 65] for t in tasks}
    rows = []
    for t in tasks:
        for index in (4, 1, 7):  # any order, any indices: each line names its sample
            shown, _ = options_for_sample(t, index, seed=3)
            rows.append({"task_id": t.id, "sample_index": index,
                         "response": f"Answer: {'ABCD'[shown.options.index(right[t.id])]}"})
    responses = write_jsonl(tmp_path / "r.jsonl", rows)
    assert score("-b", f"gpqa={path}", "-r", str(responses), "--seed", "3")["mean_sample_accuracy"] == 1.0
    other_seed = score("-b", f"gpqa={path}", "-r", str(responses), "--seed", "0")["mean_sample_accuracy"]
    assert other_seed < 0.7  # the letters only mean something in the order that sample was shown
    # the same answers as option texts do not depend on the order
    text_rows = [{**r, "response": f"Answer: {right[r['task_id']]}"} for r in rows]
    texts = write_jsonl(tmp_path / "t.jsonl", text_rows)
    assert score("-b", f"gpqa={path}", "-r", str(texts), "--seed", "0")["mean_sample_accuracy"] == 1.0


def test_a_repeated_sample_index_is_an_error(tmp_path: Path):
    path = gpqa_file(tmp_path / "gpqa_diamond.csv", n=2)
    rows = [{"task_id": "recGPQA00000", "sample_index": 0, "response": "A"},
            {"task_id": "recGPQA00000", "sample_index": 0, "response": "B"}]
    result = CliRunner().invoke(eval_app, ["score", "-b", f"gpqa={path}", "-r",
                                           str(write_jsonl(tmp_path / "r.jsonl", rows))])
    assert result.exit_code != 0 and "sample 0" in str(result.exception)
