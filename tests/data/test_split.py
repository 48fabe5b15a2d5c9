"""Splitting tasks by entity: no test document in a train task, seeded caps, and training corpora without the
documents evaluation items rest on."""

from __future__ import annotations

import pytest

from sciresearcher.data.split import (
    SplitConfig,
    held_out_documents,
    split_by_entity,
    task_documents,
    training_documents,
)
from sciresearcher.records import Document, Evidence, Task


def _task(i: int, *docs: str) -> Task:
    return Task(id=f"t{i}", question=f"q{i}", answer="1",
                evidence=[Evidence(doc_id=d, level="sentence", text="x") for d in docs])


def _tasks() -> list[Task]:
    elements = [f"mendeleev:element:E{i}" for i in range(20)]
    compounds = [f"chemicals:cas:{i}-00-0" for i in range(20)]
    out = [_task(i, elements[i % 20]) for i in range(100)]
    out += [_task(100 + i, compounds[i % 20]) for i in range(100)]
    out += [_task(200 + i, elements[i % 20], compounds[(i * 7) % 20]) for i in range(60)]
    return out


def test_no_test_or_validation_document_appears_in_a_train_task():
    split = split_by_entity(_tasks(), SplitConfig(seed=3))
    docs = {name: set().union(*(task_documents(t) for t in ts)) for name, ts in split.tasks.items()}
    assert docs["train"] and docs["validation"] and docs["test"]
    assert not docs["train"] & docs["test"] and not docs["train"] & docs["validation"]
    assert not docs["validation"] & docs["test"]
    # each namespace contributes to every split (elements and compounds alike)
    for name in ("train", "test"):
        assert any(d.startswith("mendeleev") for d in docs[name]) and any(d.startswith("chemicals") for d in docs[name])
    assert split.straddling, "two-document tasks across splits are dropped, not leaked"
    assert all(t.split == name for name, ts in split.tasks.items() for t in ts)


def test_an_rl_split_has_entities_of_its_own_and_stays_in_the_training_index():
    """GRPO's tasks (rl) cite no document of an SFT (train) task nor of a held-out one; their documents are not
    held out, so the training index keeps them for GRPO's tools."""
    fractions = {"train": 0.55, "rl": 0.15, "validation": 0.15, "test": 0.15}
    split = split_by_entity(_tasks(), SplitConfig(seed=3, fractions=fractions))
    docs = {name: set().union(*(task_documents(t) for t in ts)) for name, ts in split.tasks.items()}
    assert set(docs) == {"train", "rl", "validation", "test"} and all(docs.values())
    for a, a_docs in docs.items():
        for b, b_docs in docs.items():
            assert a == b or not a_docs & b_docs, (a, b)
    assert all(t.split == "rl" for t in split.tasks["rl"])
    held = held_out_documents(split.tasks["validation"] + split.tasks["test"])
    assert not held & docs["rl"] and docs["test"] <= held
    # without an rl share the assignment is the three-way one it always was
    plain = split_by_entity(_tasks(), SplitConfig(seed=3))
    assert set(plain.tasks) == {"train", "validation", "test"}


def test_rl_from_train_takes_what_the_train_cap_leaves_out_first():
    """GRPO's tasks about SFT's entities, questions SFT never sees: the tasks the train cap left out, so SFT's own
    tasks are the same as without them; past those, from train's own."""
    capped = SplitConfig(seed=3, max_tasks={"train": 60})
    plain = split_by_entity(_tasks(), capped)
    left = plain.capped["train"]
    assert left > 10
    split = split_by_entity(_tasks(), capped.model_copy(update={"rl_from_train": 10}))
    train_ids, rl_ids = [t.id for t in split.tasks["train"]], [t.id for t in split.tasks["rl"]]
    assert train_ids == [t.id for t in plain.tasks["train"]], "SFT's tasks do not change"
    assert len(rl_ids) == 10 and not set(rl_ids) & set(train_ids) and all(t.split == "rl" for t in split.tasks["rl"])
    docs = {name: set().union(*(task_documents(t) for t in split.tasks[name])) for name in ("train", "rl", "test")}
    assert all(split.documents[d] == "train" for d in docs["rl"]), "rl tasks are about train entities"
    assert not docs["rl"] & docs["test"], "no held-out document in an rl task"
    assert rl_ids == [t.id for t in split_by_entity(_tasks(), capped.model_copy(update={"rl_from_train": 10}))
                      .tasks["rl"]], "seeded"
    # more than the cap left out: the rest comes from train, which shrinks by as many
    more = split_by_entity(_tasks(), capped.model_copy(update={"rl_from_train": left + 5}))
    assert len(more.tasks["rl"]) == left + 5 and len(more.tasks["train"]) == 55
    assert not {t.id for t in more.tasks["rl"]} & {t.id for t in more.tasks["train"]}
    with pytest.raises(ValueError, match="fractions.rl and rl_from_train"):
        SplitConfig(fractions={"train": 0.55, "rl": 0.15, "validation": 0.15, "test": 0.15}, rl_from_train=5)


def test_the_split_is_seeded_and_capped():
    config = SplitConfig(seed=1, max_tasks={"test": 10})
    a, b = split_by_entity(_tasks(), config), split_by_entity(_tasks(), config)
    assert [t.id for t in a.tasks["test"]] == [t.id for t in b.tasks["test"]] and len(a.tasks["test"]) == 10
    assert a.capped["test"] > 0
    other = split_by_entity(_tasks(), SplitConfig(seed=2))
    assert {t.id for t in other.tasks["train"]} != {t.id for t in a.tasks["train"]}


def test_bad_fractions_are_config_errors():
    with pytest.raises(ValueError, match="sum to 1"):
        SplitConfig(fractions={"train": 0.5, "test": 0.2})
    with pytest.raises(ValueError, match="unknown split"):
        SplitConfig(fractions={"train": 0.5, "dev": 0.5})


def test_training_documents_drop_what_evaluation_items_rest_on():
    eval_item = Task(id="pubmedqa:1", question="q", answer="yes",
                     evidence=[Evidence(doc_id="pmid:123", level="document", text="abstract")])
    other = Task(id="x", question="q", answer="1", metadata={"doi": "10.1/abc"})
    docs = [Document(id="pmid:123", text="a"), Document(id="pmc:9", pmid="123", text="b"),
            Document(id="doi:10.1/ABC", text="c"), Document(id="local:7", doi="10.1/abc", text="d"),
            Document(id="pmid:999", text="kept")]
    kept, dropped = training_documents(docs, held_out_documents([eval_item, other]))
    assert [d.id for d in kept] == ["pmid:999"]
    assert sorted(dropped) == ["doi:10.1/ABC", "local:7", "pmc:9", "pmid:123"]


def test_fictional_documents_go_to_train_whole_and_leave_the_real_split_as_it_was():
    real = _tasks()
    fictional = [_task(500 + i, f"fictional:element:F{i % 30}") for i in range(90)]
    before = split_by_entity(real, SplitConfig(seed=3))
    after = split_by_entity(real + fictional, SplitConfig(seed=3))
    assert {t.id for t in after.tasks["train"]} >= {t.id for t in fictional}
    for name in ("validation", "test"):  # the held-out splits are the same tasks, made-up entities in none
        assert [t.id for t in after.tasks[name]] == [t.id for t in before.tasks[name]]
    assert {d for d, s in after.documents.items() if d.startswith("fictional:")} and all(
        s == "train" for d, s in after.documents.items() if d.startswith("fictional:"))
    # without the prefix the made-up namespace is cut like any other, so it would reach test
    cut = split_by_entity(real + fictional, SplitConfig(seed=3, train_only=[]))
    assert any(t.id.startswith("t5") and int(t.id[1:]) >= 500 for t in cut.tasks["test"])


def test_train_only_rl_sends_a_share_of_the_made_up_entities_to_rl_and_none_to_evaluation():
    real = _tasks()
    fictional = [_task(500 + i, f"fictional:element:F{i % 30}") for i in range(90)]
    before = split_by_entity(real + fictional, SplitConfig(seed=3))
    after = split_by_entity(real + fictional, SplitConfig(seed=3, train_only_rl=0.3))
    assert SplitConfig(train_only_rl=0.3).has_rl
    made_up = {d: s for d, s in after.documents.items() if d.startswith("fictional:")}
    assert sum(s == "rl" for s in made_up.values()) == 9 and set(made_up.values()) == {"train", "rl"}
    rl_docs = {d for d, s in made_up.items() if s == "rl"}
    assert {t.id for t in after.tasks["rl"]} == {t.id for t in fictional if t.evidence[0].doc_id in rl_docs}
    assert not {t.id for t in after.tasks["rl"]} & {t.id for t in after.tasks["train"]}
    for name in ("validation", "test"):  # evaluation is untouched; real entities never reach rl
        assert [t.id for t in after.tasks[name]] == [t.id for t in before.tasks[name]]
    assert [t.id for t in after.tasks["train"] if int(t.id[1:]) < 500] == [
        t.id for t in before.tasks["train"] if int(t.id[1:]) < 500]


def test_train_only_rl_is_one_source_of_the_rl_split_and_needs_train_only():
    with pytest.raises(ValueError, match="rl_from_train and train_only_rl"):
        SplitConfig(rl_from_train=5, train_only_rl=0.2)
    with pytest.raises(ValueError, match="train_only is empty"):
        SplitConfig(train_only=[], train_only_rl=0.2)


def test_made_up_documents_in_the_real_form_are_known_by_name_and_leave_the_real_cut_as_it_was():
    """Made-up elements whose ids have the real ones' form (`mendeleev:element:<symbol>`) share the real elements'
    namespace: named as made up, they are cut on their own (train, or rl with train_only_rl), never reach
    evaluation, and every real element keeps the split it has without them."""
    real = _tasks()
    made_up_ids = [f"mendeleev:element:M{i}" for i in range(30)]
    fictional = [_task(500 + i, made_up_ids[i % 30]) for i in range(90)]
    before = split_by_entity(real, SplitConfig(seed=3))
    for share, splits in ((0.0, {"train"}), (0.3, {"train", "rl"})):
        after = split_by_entity(real + fictional, SplitConfig(seed=3, train_only_rl=share), set(made_up_ids))
        assert {after.documents[d] for d in made_up_ids} == splits
        assert {d: s for d, s in after.documents.items() if d not in made_up_ids} == before.documents
        for name in ("validation", "test"):
            assert [t.id for t in after.tasks[name]] == [t.id for t in before.tasks[name]]
    # not named, they are real-looking ids like any other: cut into every split, evaluation included
    unnamed = split_by_entity(real + fictional, SplitConfig(seed=3))
    assert {unnamed.documents[d] for d in made_up_ids} == {"train", "validation", "test"}
