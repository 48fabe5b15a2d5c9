"""Counterfactual documents and the tasks re-posed over them: each changed value is written where the original was,
with its digits, and the re-posed task's answer is what its own reference solution prints from the new values."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from sciresearcher.data.counterfactual import (
    CounterfactualConfig,
    counterfactual_tasks,
    evaluate,
    fmt,
    number_pattern,
    significant_digits,
)
from sciresearcher.errors import DataError
from sciresearcher.records import Document
from sciresearcher.synth import facts
from sciresearcher.synth.computational import run_synthesis
from sciresearcher.synth.config import SynthConfig
from sciresearcher.tasks.files import read_tasks


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[list, list[Document]]:
    """Real offline tasks of the demo's three shapes, verified in the sandbox, and the documents they cite."""
    out = tmp_path_factory.mktemp("synth") / "run"
    config = SynthConfig(n=12, seed=5, templates=["element_atoms", "mm_rate", "serial_dilution"])
    assert asyncio.run(run_synthesis(config, out, show_progress=False))["kept"] == 12
    docs = [Document.model_validate_json(line) for line in (out / "facts.jsonl").open()]
    return read_tasks(out / "tasks.jsonl"), docs


def _printed(solution: str) -> float:
    done = subprocess.run([sys.executable, "-I", "-c", solution], capture_output=True, text=True, timeout=30, check=True)
    return float(done.stdout.strip())


def test_every_cited_value_changes_in_its_sentence_and_the_answer_follows(synthesized):
    tasks, docs = synthesized
    re_posed, changed = counterfactual_tasks(tasks, docs, CounterfactualConfig())
    assert len(re_posed) == len(tasks) and [t.id for t in re_posed] == [t.id + "-cf" for t in tasks]
    originals = {d.id: d for d in docs}
    for doc in changed.values():  # the same id, a new value in the sentence that stated the old one, same digits
        before = originals[doc.id]
        assert doc.metadata["counterfactual"] and doc.source.startswith("counterfactual of ")
        reverted = list(doc.sentences)
        for prop, old in doc.metadata["counterfactual"].items():
            f = doc.metadata["facts"][prop]
            new, sentence = f["value"], doc.sentences[f["sentence"]]
            assert fmt(new) in sentence and fmt(old) not in sentence and sentence in doc.text
            assert significant_digits(fmt(new)) == significant_digits(fmt(old))
            assert 0.45 <= new / old <= 2.05 and abs(new / old - 1) >= 0.08
            reverted[f["sentence"]] = number_pattern(fmt(new)).sub(fmt(old), reverted[f["sentence"]], count=1)
        assert reverted == before.sentences  # nothing else changed (a sentence may state two of the values)
        assert doc.text.count(" ") == before.text.count(" ")
    for old, new in zip(tasks, re_posed, strict=True):
        assert new.question == old.question and new.metadata["counterfactual_of"] == old.id
        assert new.answer != old.answer
        # the rewritten reference solution, run as Python, prints the new answer from the new values
        assert _printed(new.metadata["solution"]) == pytest.approx(float(new.answer), rel=5e-4)
        assert _printed(old.metadata["solution"]) == pytest.approx(float(old.answer), rel=5e-4)
        for e in new.evidence:  # the evidence quotes the changed documents
            assert e.text == changed[e.doc_id].sentences[e.locator.sentence]


def test_a_share_of_documents_changes_and_tasks_over_the_others_stay_as_they_are(synthesized):
    tasks, docs = synthesized
    config = CounterfactualConfig(share=0.5, seed=3)
    re_posed, changed = counterfactual_tasks(tasks, docs, config)
    again, _ = counterfactual_tasks(tasks, docs, config)
    assert [t.model_dump() for t in again] == [t.model_dump() for t in re_posed]  # seeded
    other, _ = counterfactual_tasks(tasks, docs, config.model_copy(update={"seed": 4}))
    assert [t.answer for t in other] != [t.answer for t in re_posed]
    kept = [t for t in re_posed if not t.id.endswith("-cf")]
    assert 0 < len(kept) < len(tasks)
    by_id = {t.id: t for t in tasks}
    for t in kept:  # untouched, and citing no changed document
        assert t.model_dump() == by_id[t.id].model_dump()
        assert not {e.doc_id for e in t.evidence} & set(changed)


def test_tasks_without_cited_numbers_are_refused_by_name():
    doc = Document(id="d", title="D", text="Nothing numeric here.", sentences=["Nothing numeric here."])
    with pytest.raises(DataError, match="no document of the 0 tasks"):
        counterfactual_tasks([], [doc], CounterfactualConfig())


def test_numbers_are_written_as_the_fact_documents_write_them():
    for value in (11.3, 207.2, 6.02214076e23, 0.000123456789, 1200.0, 2.0):
        assert fmt(value) == facts.fmt(value)


def test_numbers_are_matched_whole():
    assert [bool(number_pattern("2.7").search(t)) for t in ("is 2.7 g/cm3.", "is 12.7 g", "is 2.75 g", "(2.7)",
                                                          "was 2.7.")] == [True, False, False, True, True]
    assert number_pattern("3").findall("atomic number 13 and 3 g/cm3") == ["3"]


def test_formulas_are_evaluated_without_eval():
    assert evaluate("V * rho / A * N_A / 1e23", {"V": 2.0, "rho": 3.0, "A": 6.0, "N_A": 1e23}) == 1.0
    assert evaluate("math.log10(x) - -1", {"x": 100.0}) == 3.0
    assert evaluate("2 * math.pi * x", {"x": 0.5}) == pytest.approx(3.14159265)
    for hostile in ("__import__('os').system('true')", "().__class__", "open('f')", "x.real", "[x]", "y + 1",
                    "math.__dict__", "x(1)", "math.pi(1)", "math.sqrt", "2 ** 10 ** 10", "x / 0", "math.log(-x)"):
        with pytest.raises(DataError):
            evaluate(hostile, {"x": 1.0})


def test_significant_digits_and_config_bounds():
    assert [significant_digits(s) for s in ("11.3", "207.2", "0.0899", "1200", "6.02214e+23", "5")] == [3, 4, 3, 2, 6, 1]
    with pytest.raises(ValidationError, match="must be below"):
        CounterfactualConfig(low=2.0, high=1.5)
    with pytest.raises(ValidationError, match="no factor at least"):
        CounterfactualConfig(low=0.95, high=1.05)


def test_the_documents_written_are_valid_records(synthesized, tmp_path: Path):
    tasks, docs = synthesized
    _, changed = counterfactual_tasks(tasks, docs, CounterfactualConfig())
    path = tmp_path / "cf.jsonl"
    path.write_text("".join(d.model_dump_json() + "\n" for d in changed.values()))
    back = [Document.model_validate(json.loads(line)) for line in path.open()]
    assert [d.id for d in back] == list(changed)
