"""Fact documents from mendeleev and chemicals, and the template writer's drafts."""

from __future__ import annotations

import pytest

from sciresearcher.knowledge.loaders import load_file
from sciresearcher.runs import write_jsonl_atomic
from sciresearcher.synth.computational import draft_tasks, to_task
from sciresearcher.synth.config import SynthConfig
from sciresearcher.synth.facts import compound_documents, element_documents, fact, fmt
from sciresearcher.synth.templates import TEMPLATES

pytest.importorskip("mendeleev")
pytest.importorskip("chemicals")


@pytest.fixture(scope="module")
def docs():
    from sciresearcher.synth.facts import fact_documents

    return fact_documents()


def test_element_and_compound_facts_are_real_and_stated_in_their_sentence():
    iron = element_documents(("Fe",))[0]
    assert iron.id == "mendeleev:element:Fe" and iron.sentences[1] == "The standard atomic weight of iron is 55.845 g/mol."
    weight = fact(iron, "atomic_weight")
    assert weight.value == 55.845 and weight.unit == "g/mol" and weight.evidence().locator.sentence == 1
    assert fact(iron, "melting_point").value == 1811.15
    water = compound_documents(("water",))[0]
    assert water.id == "chemicals:cas:7732-18-5" and water.metadata["atoms"] == {"H": 2, "O": 1}
    assert fact(water, "molar_mass").value == pytest.approx(18.01528)
    assert fact(water, "critical_temperature").value == pytest.approx(647.096)
    neon = element_documents(("Ne",))[0]
    assert fact(neon, "density") is None  # gases are not given a g/cm3 density


def test_every_fact_value_is_written_in_its_sentence(docs):
    n = 0
    for doc in docs:
        for prop in doc.metadata["facts"]:
            f = fact(doc, prop)
            assert fmt(f.value) in f.text, (doc.id, prop)
            n += 1
    assert len(docs) == 66 and n > 250


def test_fact_documents_load_as_a_corpus(tmp_path, docs):
    path = write_jsonl_atomic(tmp_path / "facts.jsonl", docs)
    loaded = load_file(path)
    assert [d.id for d in loaded] == [d.id for d in docs] and loaded[0].sentences == docs[0].sentences


def test_drafts_are_seeded_distinct_and_cover_every_template(docs):
    config = SynthConfig(n=70, seed=3)
    drafts = draft_tasks(config, docs)
    assert [d.id for d in drafts] == [d.id for d in draft_tasks(config, docs)]
    assert len({d.id for d in drafts}) == 70 and {d.template for d in drafts} == set(TEMPLATES)
    assert [d.id for d in drafts] != [d.id for d in draft_tasks(SynthConfig(n=70, seed=4), docs)]
    only = draft_tasks(SynthConfig(n=5, templates=["boiling_gap"]), docs)
    assert {d.template for d in only} == {"boiling_gap"}


def test_a_task_carries_its_evidence_solution_and_provenance(docs):
    draft = next(d for d in draft_tasks(SynthConfig(n=40), docs) if d.template == "mass_percent")
    task = to_task(draft, 0.01)
    assert task.answer_type == "numeric" and task.tolerance == 0.01 and task.unit == "%"
    assert task.difficulty == "medium" and len(task.evidence) == 2
    assert {e.doc_id.split(":")[0] for e in task.evidence} == {"mendeleev", "chemicals"}
    assert task.provenance.pipeline == "computational" and task.provenance.extra["template"] == "mass_percent"
    assert float(task.answer) == pytest.approx(task.metadata["exact_answer"], rel=1e-3)
    namespace: dict = {}
    exec(task.metadata["solution"].replace("print(repr(answer))", ""), namespace)  # noqa: S102 - our own code
    assert namespace["answer"] == task.metadata["exact_answer"]


def test_unknown_templates_are_config_errors():
    from sciresearcher.config import load_config
    from sciresearcher.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown template"):
        load_config(SynthConfig, None, {"templates": ["nope"]})
