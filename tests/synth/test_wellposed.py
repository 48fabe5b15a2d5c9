"""The independent well-posedness checks, the sources' spread, and the reference-value solver."""

from __future__ import annotations

import pytest

from sciresearcher.synth.computational import draft_tasks, to_task
from sciresearcher.synth.config import SynthConfig
from sciresearcher.synth.reference_solver import answerable_without_documents, reference_answer
from sciresearcher.synth.wellposed import check_task

pytest.importorskip("chemicals")
pytest.importorskip("mendeleev")


@pytest.fixture(scope="module")
def tasks():
    from sciresearcher.synth.fact_corpus import fact_documents

    return [to_task(d, 0.01) for d in draft_tasks(SynthConfig(n=186, seed=2), fact_documents())]


def _with(task, **meta):
    return task.model_copy(update={"metadata": {**task.metadata, **meta}})


def test_drafted_tasks_are_well_posed(tasks):
    assert [(t.metadata["template"], check_task(t)) for t in tasks if check_task(t)] == []


def test_ill_posed_conditions_are_rejected_with_a_reason(tasks):
    gap = next(t for t in tasks if t.metadata["template"] == "boiling_gap")
    co2, urea, pyridine = "124-38-9", "57-13-6", "110-86-1"
    assert "sublimes" in check_task(_with(gap, state={"normal_boiling": [co2]}))[0]
    assert "decomposes" in check_task(_with(gap, state={"normal_boiling": [urea]}))[0]
    saturated = check_task(_with(gap, state={"gas": {"cas": pyridine, "T": 350.0, "P": 101325.0}}))
    assert "above the saturation pressure" in saturated[0]
    outside = check_task(_with(gap, state={"correlation": {"cas": pyridine, "T": 900.0}}))
    assert "outside the correlation's fitted range" in outside[0]
    assert "not a liquid" in check_task(_with(gap, state={"liquid": {"cas": pyridine, "T": 450.0}}))[0]
    assert "does not dilute" in check_task(_with(gap, state={"dilution": [0.1, 2.0]}))[0]


def test_tolerance_covers_the_spread_of_the_sources(tasks):
    gap = next(t for t in tasks if t.metadata["template"] == "boiling_gap")
    assert gap.tolerance >= gap.metadata["source_spread"]
    if gap.metadata["source_spread"] > 0.001:
        narrow = gap.model_copy(update={"tolerance": gap.metadata["source_spread"] / 10})
        assert any("narrower than the sources' spread" in r for r in check_task(narrow))


def test_the_reference_solver_answers_table_tasks_but_not_record_tasks(tasks):
    by_shape = {}
    for t in tasks:
        by_shape.setdefault(t.metadata["template"], []).append(answerable_without_documents(t))
    assert all(by_shape["antoine_pressure"]) and all(by_shape["mass_percent"])
    for shape in ("liquid_moles", "clausius_enthalpy", "peptide_nmol", "mm_rate", "buffer_ph", "hwe_inbreeding"):
        assert not any(by_shape[shape]), shape
    record = next(t for t in tasks if t.metadata["template"] == "buffer_ph")
    assert reference_answer(record) is None  # the acid and base amounts are the record's own
    assert sum(answerable_without_documents(t) for t in tasks) / len(tasks) <= 0.30


def test_a_model_written_negative_percent_change_is_not_ill_posed(tasks):
    share = next(t for t in tasks if t.metadata["template"] == "mass_percent")
    assert "outside 0-100" in check_task(share.model_copy(update={"answer": "-12.5"}))[0]
    change = share.model_copy(update={"answer": "-12.5", "metadata": {"template": "llm", "variables": {}}})
    assert check_task(change) == []
