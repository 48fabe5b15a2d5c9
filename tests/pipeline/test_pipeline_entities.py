"""Where the pipeline's entities go: made-up elements and stocks to train (or to GRPO's rl split alone), never to
evaluation; the rl split's own documents kept out of what the student reads before GRPO; an rl split left empty
stops the pipeline at the split with what to change."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

from sciresearcher.data.rejection import read_trajectories


def test_fictional_elements_are_trained_on_and_never_evaluated(
    tmp_path: Path, small_recipe: Callable[..., Path], run_pipeline: Callable[..., CompletedProcess[str]],
    small: dict[str, Any],
):
    """Fictional element tasks land in train only, their documents in the training index and not in the world's
    (the evaluation's), and the reference policy solves them through the real tools like the real ones."""
    synth = {"computational": {**small["synth"]["computational"], "fictional": {"elements": 6, "tasks": 8}}}
    recipe = small_recipe(synth=synth, split={"max_tasks": {"train": 40, "validation": 4, "test": 4}})
    result = run_pipeline(str(recipe), "--until", "filter")
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


def test_train_only_rl_gives_grpo_made_up_elements_and_stocks_that_sft_never_sees(
    tmp_path: Path, small_recipe: Callable[..., Path], run_pipeline: Callable[..., CompletedProcess[str]],
    small: dict[str, Any],
):
    """`split.train_only_rl`: half the made-up elements and stock records go to the rl split; with guidance the
    teacher solves their tasks too, and the filter keeps those trajectories as guidance, never as SFT's."""
    synth = {"computational": {**small["synth"]["computational"],
                               "fictional": {"elements": 6, "tasks": 8, "stocks": 4, "stock_tasks": 6}}}
    recipe = small_recipe(synth=synth, split={"max_tasks": {"train": 40, "validation": 4, "test": 4},
                                                   "train_only_rl": 0.5},
                     grpo={"guidance": {"when": "all_failed"}})
    result = run_pipeline(str(recipe), "--until", "filter")
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


def test_an_rl_split_left_empty_stops_the_pipeline_at_the_split_with_what_to_change(
    tmp_path: Path, small_recipe: Callable[..., Path], run_pipeline: Callable[..., CompletedProcess[str]],
):
    recipe = small_recipe(split={"max_tasks": {"train": 14, "validation": 4, "test": 4}, "train_only_rl": 0.5})
    result = run_pipeline(str(recipe), "--until", "export")  # no made-up elements: nothing for train_only_rl to send
    assert result.returncode != 0
    assert "no task landed in it" in result.stderr and "synth.computational.fictional" in result.stderr
    assert not (tmp_path / "p" / "05-teacher").exists()


def test_made_up_entities_with_real_form_ids_stay_training_only(
    tmp_path: Path, small_recipe: Callable[..., Path], run_pipeline: Callable[..., CompletedProcess[str]],
    small: dict[str, Any],
):
    """`synth.computational.fictional.ids: real`: made-up elements and stocks under the real documents' id form
    are still known as made up by the split (the synthesis's list): half to rl, half to train, none to evaluation,
    the rl ones in GRPO's index alone."""
    synth = {"computational": {**small["synth"]["computational"], "fictional": {
        "ids": "real", "elements": 6, "tasks": 8, "stocks": 4, "stock_tasks": 6}}}
    recipe = small_recipe(synth=synth, split={"max_tasks": {"train": 40, "validation": 4, "test": 4},
                                              "train_only_rl": 0.5})
    result = run_pipeline(str(recipe), "--until", "split")
    assert result.returncode == 0, result.stderr[-3000:]
    root = tmp_path / "p"
    made_up = {json.loads(line)["id"] for line in (root / "02-synth" / "fictional_documents.jsonl").open()}
    assert len(made_up) == 10 and all(i.startswith(("mendeleev:element:", "record:stock:ST-")) for i in made_up)
    docs = {name: {e["doc_id"] for line in (root / "04-split" / f"{name}.jsonl").open()
                   for e in json.loads(line)["evidence"]} for name in ("train", "rl", "validation", "test")}
    assert docs["rl"] and docs["rl"] <= made_up and docs["train"] & made_up
    assert not (docs["validation"] | docs["test"]) & made_up
    student = {json.loads(line)["id"] for line in (root / "04-split" / "train_documents.jsonl").open()}
    rl_index = {json.loads(line)["id"] for line in (root / "04-split" / "rl_index" / "documents.jsonl").open()}
    assert not student & docs["rl"] and docs["rl"] <= rl_index and docs["train"] & made_up <= student
    world = {json.loads(line)["id"] for line in (root / "01-world" / "documents.jsonl").open()}
    assert not world & made_up


def test_rl_counterfactual_re_poses_sfts_tasks_over_changed_documents_only_grpo_searches(
    tmp_path: Path, small_recipe: Callable[..., Path], run_pipeline: Callable[..., CompletedProcess[str]],
    small: dict[str, Any],
):
    """`split.rl_counterfactual`: the rl split is the train tasks re-posed over copies of their documents with other
    values; GRPO's index holds the copies in place of the originals, the teacher's SFT index and the student's texts
    keep the real ones, and the guided teacher solves the re-posed tasks by reading the copies."""
    plain = small_recipe(out=str(tmp_path / "plain"))
    assert run_pipeline(str(plain), "--until", "export").returncode == 0
    recipe = small_recipe(split={**small["split"], "rl_counterfactual": {"low": 0.6, "high": 1.6}},
                          grpo={"guidance": {"when": "all_failed"}})
    result = run_pipeline(str(recipe), "--until", "export")
    assert result.returncode == 0, result.stderr[-3000:]
    root, before = tmp_path / "p", tmp_path / "plain"

    def rows(path: Path) -> list[dict[str, Any]]:
        return [json.loads(line) for line in path.read_text().splitlines()]

    train, rl = rows(root / "04-split" / "train.jsonl"), rows(root / "04-split" / "rl.jsonl")
    assert [t["id"] + "-cf" for t in train] == [t["id"] for t in rl]
    assert [t["question"] for t in train] == [t["question"] for t in rl]
    assert all(a["answer"] != b["answer"] for a, b in zip(train, rl, strict=True))
    # SFT's side is the run without the option, byte for byte: the student's texts, its index and its rows
    assert [(t["id"], t["answer"]) for t in train] == [(t["id"], t["answer"])
                                                       for t in rows(before / "04-split" / "train.jsonl")]
    for same in ("04-split/train_documents.jsonl", "08-export/sft/train.jsonl"):
        assert (root / same).read_bytes() == (before / same).read_bytes(), same
    changed = {d["id"]: d for d in rows(root / "04-split" / "counterfactual_documents.jsonl")}
    indexed = {name: {d["id"]: d for d in rows(root / "04-split" / name / "documents.jsonl")}
               for name in ("train_index", "rl_index")}
    assert changed and set(indexed["rl_index"]) == set(indexed["train_index"])
    for doc_id, doc in changed.items():
        assert indexed["rl_index"][doc_id]["sentences"] == doc["sentences"]
        assert indexed["train_index"][doc_id]["sentences"] != doc["sentences"]
    assert not any("counterfactual of" in line for line in (root / "01-world" / "documents.jsonl").open())
    # the teacher, searching GRPO's index, solves every re-posed task from the changed values it reads
    guided = read_trajectories([root / "06-filter" / "guidance.jsonl"])
    assert {t.task_id for t in guided} == {t["id"] for t in rl}
    by_id = {t["id"]: t for t in rl}
    for t in guided:
        assert t.grade is not None and t.grade.correct and t.final is not None and by_id[t.task_id]["answer"] in (t.final.answer or "")
        outputs = "".join(m.content or "" for m in t.messages if m.role == "tool")
        cited = by_id[t.task_id]["evidence"][0]
        assert cited["text"] in outputs and cited["text"] == changed[cited["doc_id"]]["sentences"][
            cited["locator"]["sentence"]]
    guide_rows = (root / "08-export" / "guidance" / "train.jsonl").read_text()
    assert len(guide_rows.splitlines()) == len(rl)
    assert json.loads((root / "04-split" / "stage.json").read_text())["figures"]["counterfactual_docs"] == len(changed)
