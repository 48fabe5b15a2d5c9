"""Task screening against the real eval sets in ../shared/data, and near-duplicate removal."""

from __future__ import annotations

import json

import pytest

from sciresearcher.data.config import ScreenConfig
from sciresearcher.data.screen import EvalSets, load_eval_sets, screen_tasks
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


def test_numeric_variants_are_dropped_but_other_entities_and_identifiers_kept():
    from sciresearcher.data.variants import skeleton

    assert skeleton("Dilute 2.5 mL of PEP-0017 to 1,200 uL at -4 °C") == "dilute # ml of pep 0017 to # ul at # c"
    q = "A {v} L vessel holds {m} g of {x} vapour at {t} K. What is the pressure in bar?"
    tasks = [Task(id="a", question=q.format(v=2, m=1.5, x="toluene", t=400), answer="1"),
             Task(id="b", question=q.format(v=7.25, m=0.3, x="toluene", t=512), answer="2"),
             Task(id="c", question=q.format(v=2, m=1.5, x="benzene", t=400), answer="3"),
             Task(id="d", question="How many nmol of peptide PEP-0017 are in 2 mg?", answer="4"),
             Task(id="e", question="How many nmol of peptide PEP-0018 are in 2 mg?", answer="5"),
             Task(id="f", question="How many nmol of peptide PEP-0017 are in 3.5 mg?", answer="6")]
    result = screen_tasks(tasks, ScreenConfig(eval_sets=[]), EvalSets())
    assert [t.id for t in result.kept] == ["a", "c", "d", "e"]
    assert {(r["id"], r["reason"], r["match"]["item_id"]) for r in result.removed} == {
        ("b", "numeric_variant", "a"), ("f", "numeric_variant", "d")}
    # with recorded entity sets, the same wording about other entities is not a variant
    tagged = [t.model_copy(update={"metadata": {"entities": [t.id]}}) for t in tasks[:2]]
    assert len(screen_tasks(tagged, ScreenConfig(eval_sets=[]), EvalSets()).kept) == 2


def test_minhash_index_finds_near_duplicates_at_scale():
    pytest.importorskip("datasketch")
    from sciresearcher.data.variants import NearDuplicateIndex

    index = NearDuplicateIndex(threshold=0.6)
    for i in range(2000):
        index.add(f"t{i}", f"Which enzyme number {i} catalyses step {i % 7} of pathway {i * 31 % 97} in cell type {i}?")
    index.add("x", "Which kinase phosphorylates glucose in hepatocytes under a high glucose load in fasting rats?")
    found = index.find("Which kinase phosphorylates glucose in hepatocytes under a high glucose load in fed rats?")
    assert found is not None and found[0] == "x" and found[1] >= 0.6
    assert index.find("Name the enzyme that fixes carbon dioxide in the Calvin cycle.") is None
    tasks = [Task(id="a", question="Which kinase phosphorylates glucose in hepatocytes under a high glucose load?",
                  answer="GCK"),
             Task(id="b", question="Which kinase phosphorylates glucose in the hepatocytes under a high glucose load?",
                  answer="GCK")]
    result = screen_tasks(tasks, ScreenConfig(eval_sets=[], near_duplicate_index="minhash", minhash_threshold=0.5),
                          EvalSets())
    assert [t.id for t in result.kept] == ["a"] and result.removed[0]["reason"] == "duplicate"
