"""Seed selection: abbreviation terms, the generic filter, recency and specificity, the model's frontier rating."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

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
    assert names == ["CRISPR-Cas Systems", "Bloodletting"]  # same rarity: the one first named late first
    crispr = seeds[0]
    assert crispr.novelty == round(18 / 19, 4) and crispr.n_docs == 2 and crispr.doc_ids == ["d18", "d19"]
    assert crispr.frontier is None and crispr.specificity == 1.0 and seeds[1].novelty == 0.0


def test_the_frontier_score_uses_mentions_over_the_years_not_only_the_year():
    # 'Ferroptosis' is named more and more in the later papers and repeatedly by them; 'Bloodletting' was named
    # once each by two recent papers: recency alone would rank it first
    named = (12, 16, 17, 18)
    docs = [Document(id=f"d{i}", year=2000 + i, metadata={"mesh": ["Ferroptosis"] if i in named else
                                                           (["Bloodletting"] if i >= 18 else [])},
                     text=("Ferroptosis is iron-dependent cell death. Ferroptosis needs lipid peroxides, and "
                           "blocking ferroptosis protects neurons. " if i in named else "")
                     + ("Bloodletting was mentioned." if i >= 18 else "")) for i in range(20)]
    seeds = asyncio.run(select_seeds(docs, SeedConfig(max_doc_share=0.5)))
    assert [s.entity for s in seeds] == ["Ferroptosis", "Bloodletting"]
    assert seeds[0].growth > 0.5 and seeds[0].focus > seeds[1].focus


def test_junk_terms_are_dropped():
    from sciresearcher.synth.seed_filter import junk_reason

    for term, why in (("Correction", "boilerplate"), (("provided here for reference Originally published uncorrected "
                      "article (PDF)"), "boilerplate"), ("Argentina", "place"), ("Florida", "place"),
                      ("World Health Organization (WHO)", "organisation"), ("Police", "organisation"),
                      ("Risk ratios (RRs)", "statistic"), ("Root Mean Squared Error (RMSE)", "statistic"),
                      ("Tandem Mass Spectrometry", "technique"), ("Travel", "non-science")):
        assert why in (junk_reason(term) or "").replace("method", "technique method"), term
    for term in ("mitochondrial permeability transition pore (PTP)", "Leptin", "Sendai virus (SeV)",
                 "Epidermal growth factor receptor (EGFR)", "cytochalasin B (CB)"):
        assert junk_reason(term) is None, term


def test_keywords_the_text_does_not_name_are_not_counted():
    docs = [Document(id=f"d{i}", text="Stones were removed by shock waves.", year=2000,
                     metadata={"mesh": ["Kidney Calculi", "Lithotripsy"]}) for i in range(3)]
    assert asyncio.run(select_seeds(docs, SeedConfig(max_doc_share=1.0))) == []
    docs[0] = docs[0].model_copy(update={"text": "Lithotripsy removed the kidney calculi."})
    docs[1] = docs[1].model_copy(update={"text": "After lithotripsy, kidney calculi cleared."})
    seeds = asyncio.run(select_seeds(docs, SeedConfig(max_doc_share=1.0)))
    assert {s.entity for s in seeds} == {"Kidney Calculi", "Lithotripsy"} and all(s.n_docs == 2 for s in seeds)
    loose = asyncio.run(select_seeds(docs, SeedConfig(max_doc_share=1.0, require_in_text=False)))
    assert all(s.n_docs == 2 for s in loose)  # the score counts the documents whose text names a term


def test_the_model_rating_reorders_the_pool():
    docs = [_doc(i, 2000 + i, (["CRISPR-Cas Systems"] if i >= 18 else []) + (["Bloodletting"] if i < 2 else [])
                 ) for i in range(20)]
    rater = ScriptedLLM(lambda m, t: "Sure: " + json.dumps({"crispr-cas systems": 0, "Bloodletting": 10}))
    seeds = asyncio.run(select_seeds(docs, SeedConfig(max_doc_share=0.5, weight_frontier=5.0), rater))
    assert [s.entity for s in seeds] == ["Bloodletting", "CRISPR-Cas Systems"]  # rating keys matched ignoring case
    assert seeds[0].frontier == 1.0 and "Rate how central" in rater.requests[0].messages[0].content


def test_rated_and_unrated_seeds_share_one_scale():
    docs = [_doc(i, 2000 + i, (["CRISPR-Cas Systems"] if i >= 18 else []) + (["Bloodletting"] if i < 2 else [])
                 ) for i in range(20)]
    # the model rates one term as highly as the corpus does and leaves the other out: neither sinks
    rater = ScriptedLLM(lambda m, t: json.dumps({"Bloodletting": 5}))
    seeds = asyncio.run(select_seeds(docs, SeedConfig(max_doc_share=0.5), rater))
    unrated = next(s for s in seeds if s.frontier is None)
    assert unrated.score == unrated.offline and all(0 <= s.score <= 1 for s in seeds)


@pytest.mark.parametrize("corpus", ["pubmedqa", "plos"])
def test_real_corpus_top_seeds_are_research_entities(shared_data, corpus):
    """Top 30 of each shared corpus against the hand-labelled list: at most 10% junk, every seed labelled."""
    from sciresearcher.knowledge.loaders import load_file

    labels = json.loads((Path(__file__).parent / "seed_labels.json").read_text())[corpus]
    docs = load_file(shared_data / "corpus" / f"{corpus}.jsonl")
    seeds = asyncio.run(select_seeds(docs, SeedConfig(top_k=30)))
    assert len(seeds) == 30 and all(s.n_docs >= 2 for s in seeds)
    assert seeds == sorted(seeds, key=lambda s: -s.score)
    unlabelled = [s.entity for s in seeds if s.entity not in labels]
    assert unlabelled == []
    junk = [s.entity for s in seeds if labels[s.entity] == "junk"]
    assert len(junk) <= 3, junk
