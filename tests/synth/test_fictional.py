"""Fictional elements: made-up names and values that only a document gives, drafted into real element tasks and
verified like the real ones (answerable from the cited sentence, the reference solution run in the sandbox)."""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic import ValidationError

from sciresearcher.synth.computational import run_synthesis
from sciresearcher.synth.config import SynthConfig
from sciresearcher.synth.facts import fact
from sciresearcher.synth.fictional import NAMESPACE, REAL_SYMBOLS, fictional_elements
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


def test_fictional_settings_that_cannot_work_are_refused():
    with pytest.raises(ValidationError, match="fictional.elements is 0"):
        SynthConfig(fictional={"tasks": 10})
    with pytest.raises(ValidationError, match="offline templates only"):
        SynthConfig(n=2, corpus=["papers.jsonl"], fictional={"elements": 3, "tasks": 2})
