"""Seed selection: abbreviation terms, the generic filter, recency and specificity, the model's frontier rating."""

from __future__ import annotations

import asyncio
import json

from sciresearcher.records import Document
from sciresearcher.synth.seeds import SeedConfig, abbreviation_terms, long_form, select_seeds
from sciresearcher.testing import ScriptedLLM


def test_abbreviation_long_forms():
    text = ("The role of programmed cell death (PCD) is known; mitochondrial permeability transition pore (PTP) "
            "opening was blocked by cyclosporine A (CsA). Cells that will not undergo PCD (NPCD) were counted "
            "in 2010 (n=4).")
    assert abbreviation_terms(text) == ["programmed cell death (PCD)", ("permeability transition pore "
                                        "(PTP)"), "cyclosporine A (CsA)"]
    assert long_form(["we", "used", "the", "visual", "analogue", "scale"], "VAS") == "visual analogue scale"
    assert long_form(["nothing", "matches", "here"], "XYZ") is None


def _doc(i: int, year: int, mesh: list[str], text: str = "") -> Document:
    return Document(id=f"d{i}", text=text or "Terms: " + "; ".join(mesh), year=year, metadata={"mesh": mesh})


def test_generic_terms_are_dropped_and_scores_rank_recent_specific_terms():
    docs = [_doc(i, 2000 + i, ["Humans", "Apoptosis"] + (["CRISPR-Cas Systems"] if i >= 18 else [])
                 + (["Bloodletting"] if i < 2 else [])) for i in range(20)]
    seeds = asyncio.run(select_seeds(docs, SeedConfig(max_doc_share=0.5)))
    names = [s.entity for s in seeds]
    assert "Humans" not in names and "Apoptosis" not in names  # a check tag; in every document
    assert names == ["CRISPR-Cas Systems", "Bloodletting"]  # same rarity: the recent one first
    crispr = seeds[0]
    assert crispr.recency == round(18.5 / 19, 4) and crispr.n_docs == 2 and crispr.doc_ids == ["d18", "d19"]
    assert crispr.frontier is None and 0 < crispr.specificity < 1


def test_keywords_the_text_does_not_name_are_not_counted():
    docs = [Document(id=f"d{i}", text="Stones were removed by shock waves.", year=2000,
                     metadata={"mesh": ["Kidney Calculi", "Lithotripsy"]}) for i in range(3)]
    assert asyncio.run(select_seeds(docs, SeedConfig(max_doc_share=1.0))) == []
    docs[0] = docs[0].model_copy(update={"text": "Lithotripsy removed the kidney calculi."})
    docs[1] = docs[1].model_copy(update={"text": "After lithotripsy, kidney calculi cleared."})
    seeds = asyncio.run(select_seeds(docs, SeedConfig(max_doc_share=1.0)))
    assert {s.entity for s in seeds} == {"Kidney Calculi", "Lithotripsy"} and all(s.n_docs == 2 for s in seeds)
    loose = asyncio.run(select_seeds(docs, SeedConfig(max_doc_share=1.0, require_in_text=False)))
    assert all(s.n_docs == 3 for s in loose)


def test_the_model_rating_reorders_the_pool():
    docs = [_doc(i, 2000 + i, (["CRISPR-Cas Systems"] if i >= 18 else []) + (["Bloodletting"] if i < 2 else [])
                 ) for i in range(20)]
    rater = ScriptedLLM(lambda m, t: "Sure: " + json.dumps({"CRISPR-Cas Systems": 0, "Bloodletting": 10}))
    seeds = asyncio.run(select_seeds(docs, SeedConfig(max_doc_share=0.5, weight_frontier=5.0), rater))
    assert [s.entity for s in seeds] == ["Bloodletting", "CRISPR-Cas Systems"]
    assert seeds[0].frontier == 1.0 and "Rate how central" in rater.requests[0].messages[0].content


def test_real_corpus_seeds_are_specific_and_have_two_sources(shared_data):
    from sciresearcher.knowledge.loaders import load_file

    docs = load_file(shared_data / "corpus" / "pubmedqa.jsonl")
    seeds = asyncio.run(select_seeds(docs, SeedConfig(top_k=50)))
    assert len(seeds) == 50 and all(s.n_docs >= 2 for s in seeds)
    assert not {s.entity for s in seeds} & {"Humans", "Female", "Male", "Adult", "Retrospective Studies"}
    assert seeds == sorted(seeds, key=lambda s: -s.score)
