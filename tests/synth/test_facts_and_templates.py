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
    from sciresearcher.synth.fact_corpus import fact_documents

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
            assert (f.value if isinstance(f.value, str) else fmt(f.value)) in f.text, (doc.id, prop)
            n += 1
    kinds = {d.metadata.get("record", d.metadata["kind"]) for d in docs}
    assert len(docs) > 1000 and n > 2500
    assert {"element", "compound", "antoine", "isotopes", "vp", "rho", "pep", "orf", "assay", "buf", "hwe"} <= kinds


def test_no_document_states_a_boiling_point_that_does_not_exist(docs):
    by_name = {d.metadata.get("name"): d for d in docs if d.metadata["kind"] == "compound"}
    for name in ("carbon dioxide", "acetylene", "urea"):  # sublime, sublime, decompose at 1 atm
        assert fact(by_name[name], "boiling_point") is None, name
    assert fact(by_name["ethanol"], "boiling_point") is not None


def test_fact_documents_load_as_a_corpus(tmp_path, docs):
    path = write_jsonl_atomic(tmp_path / "facts.jsonl", docs)
    loaded = load_file(path)
    assert [d.id for d in loaded] == [d.id for d in docs] and loaded[0].sentences == docs[0].sentences


def test_drafts_are_seeded_distinct_and_cover_every_template(docs):
    config = SynthConfig(n=93, seed=3)
    drafts = draft_tasks(config, docs)
    assert [d.id for d in drafts] == [d.id for d in draft_tasks(config, docs)]
    assert len({d.id for d in drafts}) == 93 and {d.template for d in drafts} == set(TEMPLATES)
    assert len(TEMPLATES) >= 20 and {d.domain for d in drafts} == {"chemistry", "biology"}
    assert len({(d.template, d.entities) for d in drafts}) == 93  # no (shape, entity set) twice
    assert [d.id for d in drafts] != [d.id for d in draft_tasks(SynthConfig(n=93, seed=4), docs)]
    for d in drafts:  # difficulty means something: medium and hard need 3+ operations
        assert d.difficulty == "easy" or d.operations >= 3, (d.template, d.formula)
    only = draft_tasks(SynthConfig(n=5, templates=["boiling_gap"]), docs)
    assert {d.template for d in only} == {"boiling_gap"}


def test_a_task_carries_its_evidence_solution_and_provenance(docs):
    draft = next(d for d in draft_tasks(SynthConfig(n=40), docs) if d.template == "mass_percent")
    task = to_task(draft, 0.01)
    assert task.answer_type == "numeric" and task.tolerance >= 0.01 and task.unit == "%"
    assert task.difficulty == "medium" and len(task.evidence) == 2 and task.metadata["operations"] == 3
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


def test_biology_shapes_compute_with_biopython_in_the_reference_solution(docs):
    drafts = draft_tasks(SynthConfig(n=31 * 3, seed=5), docs)
    draft = next(d for d in drafts if d.template == "protein_mg_per_ml")
    task = to_task(draft, 0.01)
    assert task.category == "biology" and len(task.metadata["documents"]) == 2
    assert "from Bio.SeqUtils.ProtParam import ProteinAnalysis" in task.metadata["solution"]
    seq = next(v["value"] for v in task.metadata["variables"].values() if isinstance(v["value"], str))
    assert seq in task.metadata["solution"] and seq not in task.question
    namespace: dict = {}
    exec(task.metadata["solution"].replace("print(repr(answer))", ""), namespace)  # noqa: S102 - our own code
    assert namespace["answer"] == pytest.approx(task.metadata["exact_answer"])
