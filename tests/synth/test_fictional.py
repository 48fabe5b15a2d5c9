"""Fictional elements and stock records: made-up names and values that only a document gives, drafted into real element tasks and
verified like the real ones (answerable from the cited sentence, the reference solution run in the sandbox)."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from pydantic import ValidationError

from sciresearcher.synth.computational import run_synthesis
from sciresearcher.synth.config import SynthConfig
from sciresearcher.synth.facts import fact
from sciresearcher.synth.fictional import (
    NAMESPACE,
    REAL_FORM,
    REAL_SYMBOLS,
    STOCK_NAMESPACE,
    fictional_elements,
    fictional_stocks,
)
from sciresearcher.synth.records_bio import bio_records
from sciresearcher.tasks.files import read_tasks


def test_fictional_elements_are_seeded_distinct_and_say_they_are_made_up():
    docs = fictional_elements(60, seed=4)
    assert [d.model_dump() for d in docs] == [d.model_dump() for d in fictional_elements(60, seed=4)]
    assert [d.id for d in docs] != [d.id for d in fictional_elements(60, seed=5)]
    symbols = [d.metadata["symbol"] for d in docs]
    assert len(set(symbols)) == 60 and not set(symbols) & REAL_SYMBOLS
    assert len({d.metadata["name"] for d in docs}) == 60
    for doc in docs:
        name = doc.metadata["name"]
        assert doc.id == f"{NAMESPACE}:{doc.metadata['symbol']}" and 4 <= len(name) <= 8
        assert "fictional" in doc.sentences[0] and doc.metadata["fictional"] is True
        for prop in ("atomic_weight", "density"):  # the value is written in the sentence it cites
            f = fact(doc, prop)
            assert f is not None and f.value > 0 and f"{f.value:.7g}" in f.text and name.lower() in f.text


def test_fictional_stocks_are_seeded_with_codes_no_real_record_has_and_say_they_are_made_up():
    docs = fictional_stocks(80, seed=1)
    assert [d.model_dump() for d in docs] == [d.model_dump() for d in fictional_stocks(80, seed=1)]
    assert [d.id for d in docs] != [d.id for d in fictional_stocks(80, seed=2)]
    real = {d.metadata["code"] for d in bio_records() if d.metadata.get("record") == "stock"}
    codes = [d.metadata["code"] for d in docs]
    assert len(set(codes)) == 80 and not set(codes) & real
    for doc in docs:
        code = doc.metadata["code"]
        assert doc.id == f"{STOCK_NAMESPACE}:{code}" and doc.metadata["fictional"] is True
        assert "fictional" in doc.sentences[1] and code in doc.title and doc.metadata["reagent"] in doc.title
        f = fact(doc, "conc")  # the value is written in the sentence it cites, which reads like a real record's
        assert f is not None and 10 <= f.value <= 2000 and f"{f.value:g}" in f.text
        assert f.text.startswith(f"Stock record {code}: the {doc.metadata['reagent']} stock solution was ")
    with pytest.raises(ValueError, match="at most 5000"):
        fictional_stocks(5001)


def test_fictional_stock_tasks_are_serial_dilutions_that_pass_verification(tmp_path):
    config = SynthConfig(n=4, seed=3, templates=["element_atoms"], fictional={"stocks": 5, "stock_tasks": 6})
    summary = asyncio.run(run_synthesis(config, tmp_path / "run", show_progress=False))
    assert summary["kept"] == 10 and summary["rejected"] == 0
    tasks = read_tasks(tmp_path / "run" / "tasks.jsonl")
    made_up = [t for t in tasks if t.evidence[0].doc_id.startswith("fictional:")]
    assert len(made_up) == 6 and {t.metadata["template"] for t in made_up} == {"serial_dilution"}
    assert all(t.evidence[0].doc_id.startswith(f"{STOCK_NAMESPACE}:ST-") for t in made_up)
    for task in made_up:  # every volume follows a word a copying student can find it by; none opens the question
        given = [v["value"] for v in task.metadata["variables"].values() if v.get("given")]
        assert len(given) == 4 and task.question[0].isalpha(), task.question
        assert all(re.search(rf"[a-z:] {value:g} [um]L\b", task.question) for value in given), task.question
    written = [json.loads(line)["id"] for line in (tmp_path / "run" / "fictional_documents.jsonl").open()]
    assert len(written) == 5 and all(i.startswith(STOCK_NAMESPACE) for i in written)  # no element was asked for


def test_fictional_tasks_follow_the_real_ones_and_pass_verification(tmp_path):
    base = SynthConfig(n=6, seed=2, templates=["element_atoms", "mm_rate"])
    plain = asyncio.run(run_synthesis(base, tmp_path / "plain", show_progress=False))
    config = SynthConfig(**{**base.model_dump(), "fictional": {"elements": 5, "tasks": 4}})
    summary = asyncio.run(run_synthesis(config, tmp_path / "run", show_progress=False))
    assert plain["kept"] == 6 and summary["kept"] == 10 and summary["rejected"] == 0
    real = read_tasks(tmp_path / "plain" / "tasks.jsonl")
    tasks = read_tasks(tmp_path / "run" / "tasks.jsonl")
    made_up = [t for t in tasks if t.evidence[0].doc_id.startswith("fictional:")]
    assert len(made_up) == 4 and {t.metadata["template"] for t in made_up} == {"element_atoms"}
    # the real tasks are the ones a run without fictional elements drafts
    assert sorted(t.id for t in tasks if t not in made_up) == sorted(t.id for t in real)
    names = {json.loads(line)["metadata"]["name"]
             for line in (tmp_path / "run" / "fictional_documents.jsonl").read_text().splitlines()}
    assert len(names) == 5 and all(t.provenance.seed_entity in {n.lower() for n in names} for t in made_up)
    assert not (tmp_path / "plain" / "fictional_documents.jsonl").exists()


def test_made_up_ids_in_the_real_form_have_symbols_and_codes_no_real_document_has(tmp_path):
    """`fictional.ids: real`: the same made-up documents under the real ones' namespaces, verified like them."""
    config = SynthConfig(n=2, seed=3, templates=["element_atoms"],
                         fictional={"ids": "real", "elements": 4, "tasks": 4, "stocks": 3, "stock_tasks": 3})
    summary = asyncio.run(run_synthesis(config, tmp_path / "run", show_progress=False))
    assert summary["kept"] == 9 and summary["rejected"] == 0
    written = {json.loads(line)["id"]: json.loads(line) for line in (tmp_path / "run" / "fictional_documents.jsonl").open()}
    plain = fictional_elements(4, 3) + fictional_stocks(3, 3)
    assert sorted(written) == sorted(d.id.replace(NAMESPACE, REAL_FORM["element"]).replace(
        STOCK_NAMESPACE, REAL_FORM["stock"]) for d in plain)  # the same documents, other ids
    real_ids = {d.id for d in bio_records()} | {f"mendeleev:element:{s}" for s in REAL_SYMBOLS}
    assert not set(written) & real_ids and all("fictional" in " ".join(d["sentences"]) for d in written.values())
    cited = {t.evidence[0].doc_id for t in read_tasks(tmp_path / "run" / "tasks.jsonl")}
    assert set(written) <= cited and not any(i.startswith("fictional:") for i in cited)


def test_fictional_settings_that_cannot_work_are_refused():
    with pytest.raises(ValidationError, match="fictional.elements is 0"):
        SynthConfig(fictional={"tasks": 10})
    with pytest.raises(ValidationError, match="fictional.stocks is 0"):
        SynthConfig(fictional={"stock_tasks": 10})
    with pytest.raises(ValidationError, match="offline templates only"):
        SynthConfig(n=2, corpus=["papers.jsonl"], fictional={"elements": 3, "tasks": 2})
    with pytest.raises(ValidationError, match="offline templates only"):
        SynthConfig(n=2, corpus=["papers.jsonl"], fictional={"stocks": 3, "stock_tasks": 2})
