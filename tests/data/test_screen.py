"""Task screening against the real eval sets in ../shared/data, and near-duplicate removal."""

from __future__ import annotations

import json

import pytest

from sciresearcher.data.config import ScreenConfig
from sciresearcher.data.screen import load_eval_sets, screen_tasks
from sciresearcher.errors import ConfigError, DataError
from sciresearcher.records import Task
from sciresearcher.tasks.files import read_tasks


@pytest.fixture(scope="module")
def eval_sets(shared_data):
    return load_eval_sets(["auto"])


def test_auto_loads_what_is_at_hand_and_names_what_is_not(eval_sets):
    assert {"supergpqa-hard-bio", "pubmedqa", "scibench", "scifact"} <= set(eval_sets.tasks)
    assert len(eval_sets.tasks["supergpqa-hard-bio"]) == 92
    assert "hle-bio-chem-gold" in eval_sets.skipped and "=FILE" in eval_sets.skipped["hle-bio-chem-gold"]


def test_copied_and_wrapped_eval_questions_are_removed_and_named(eval_sets):
    gpqa = eval_sets.tasks["supergpqa-hard-bio"][3]
    sci = eval_sets.tasks["scibench"][10]
    tasks = [
        Task(id="copy", question=gpqa.question, answer="A", options=gpqa.options, answer_type="multipleChoice"),
        Task(id="wrapped", question="Use the ideal gas law here. " + sci.question + " Give three figures.",
             answer="1"),
        Task(id="fresh", question="Which kinase phosphorylates glucose in hepatocytes under high glucose load, "
             "and how does its Km compare with that of hexokinase I?", answer="glucokinase"),
    ]
    result = screen_tasks(tasks, ScreenConfig(), eval_sets)
    assert [t.id for t in result.kept] == ["fresh"]
    removed = {r["id"]: r for r in result.removed}
    assert removed["copy"]["match"]["source"] == "supergpqa-hard-bio"
    assert removed["copy"]["match"]["item_id"] == gpqa.id and removed["copy"]["match"]["overlap"] == 1.0
    assert removed["wrapped"]["match"] == {**removed["wrapped"]["match"], "source": "scibench", "item_id": sci.id}
    assert result.kept[0].verification.filters_passed == ["not_contaminated", "not_duplicate"]


def test_unrelated_real_questions_pass_the_screen(eval_sets):
    """SciFact claims are not in the other sets: at the default threshold almost none may be flagged."""
    claims = eval_sets.tasks["scifact"][:300]
    others = type(eval_sets)(tasks={k: v for k, v in eval_sets.tasks.items() if k != "scifact"})
    result = screen_tasks(claims, ScreenConfig(dedup=False), others)
    assert len(result.removed) <= 3, result.removed[:3]


def test_near_duplicates_keep_the_first(eval_sets):
    base = "In Arabidopsis thaliana, which photoreceptor mediates the shade avoidance response to a low red to " \
           "far-red ratio, and which transcription factors does it release?"
    tasks = [Task(id="a", question=base, answer="phyB"),
             Task(id="b", question=base.replace("Arabidopsis thaliana", "A. thaliana"), answer="phyB"),
             Task(id="c", question="What is the pKa of the imidazole side chain of free histidine in water?",
                  answer="6.0")]
    result = screen_tasks(tasks, ScreenConfig(), eval_sets)
    assert [t.id for t in result.kept] == ["a", "c"]
    assert result.removed == [{"id": "b", "reason": "duplicate", "match": result.removed[0]["match"]}]
    assert result.removed[0]["match"]["item_id"] == "a"
    assert [t.id for t in screen_tasks(tasks, ScreenConfig(dedup=False), eval_sets).kept] == ["a", "b", "c"]


def test_an_eval_set_from_a_file_and_a_named_one_that_is_missing(tmp_path, shared_data):
    hle = tmp_path / "hle.jsonl"
    hle.write_text(json.dumps({"id": "h1", "question": "Name the rate-limiting enzyme of cholesterol synthesis in "
                               "mammalian liver cells.", "answer": "HMG-CoA reductase",
                               "answer_type": "exactMatch", "category": "Biology/Medicine"}) + "\n")
    sets = load_eval_sets([f"hle-bio-chem-gold={hle}"])
    assert list(sets.tasks) == ["hle-bio-chem-gold"] and sets.skipped == {}
    with pytest.raises(ConfigError, match="trqa-lit.*cannot be loaded"):
        load_eval_sets(["trqa-lit"])
    with pytest.raises(ConfigError, match="no-such-set"):
        load_eval_sets(["no-such-set"])


def test_read_tasks_names_the_bad_line_and_duplicate_ids(tmp_path):
    good = Task(id="t1", question="q?", answer="a").model_dump_json()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(good + "\n" + json.dumps({"id": "t2", "answer": "x"}) + "\n")
    with pytest.raises(DataError, match=r"bad.jsonl:2: not a Task record"):
        read_tasks(bad)
    dup = tmp_path / "dup.jsonl"
    dup.write_text(good + "\n" + good + "\n")
    with pytest.raises(DataError, match="'t1' appears more than once"):
        read_tasks(dup)
