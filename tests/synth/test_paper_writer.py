"""The offline paper writer on samples of the shared PLOS and PubMedQA corpora."""

from __future__ import annotations

import asyncio
import json

import pytest

from sciresearcher.knowledge.evidence import EvidenceSelector
from sciresearcher.synth.computational import run_synthesis
from sciresearcher.synth.config import SynthConfig
from sciresearcher.synth.numbers import states
from sciresearcher.synth.paper_writer import paper_tasks, statements


@pytest.mark.parametrize(("corpus", "n"), [("pubmedqa", 60), ("plos", 15)])
def test_cited_tasks_from_a_corpus_sample(shared_data, corpus, n):
    from sciresearcher.knowledge.loaders import load_file

    docs = load_file(shared_data / "corpus" / f"{corpus}.jsonl")[:n]
    by_id = {d.id: d for d in docs}
    tasks = [t for d in docs for t in paper_tasks(d, EvidenceSelector(use_dense=False))]
    assert len(tasks) >= 2
    for task in tasks:
        sentence = task.evidence[0].text
        cited = [v for v in task.metadata["variables"].values() if "doc_id" in v]
        assert cited and all(states(v["value"], sentence) for v in cited)
        assert "___" in task.question and sentence in by_id[task.evidence[0].doc_id].text
        assert not any(states(v["value"], task.question.split('"')[0]) for v in cited)


def test_statement_rules():
    from sciresearcher.records import Evidence

    def kinds(text):
        return [s.kind for s in statements(Evidence(doc_id="d", level="sentence", text=text))]

    assert kinds("Mean HbA1c was 8.1 ± 1.2 % in the intervention group (n = 40) versus 7.2 ± 1.0 % in controls "
                 "(n = 38).") == ["pooled_sd", "cohens_d"]
    assert kinds("Serum ferritin fell from 210 ng/mL to 150 ng/mL after treatment.") == ["percent_change"]
    assert kinds("Patients aged 18 to 65 years were enrolled in 2010.") == []  # a range, a year
    assert kinds("Ketamine was given at 0.5 mg/kg.") == ["dose"]


def test_run_synthesis_writes_paper_tasks_offline(shared_data, tmp_path):
    lines = (shared_data / "corpus" / "pubmedqa.jsonl").read_text().splitlines()[:40]
    corpus = tmp_path / "papers.jsonl"
    corpus.write_text("\n".join(lines) + "\n")
    summary = asyncio.run(run_synthesis(SynthConfig(n=4, corpus=[str(corpus)]), tmp_path / "run",
                                        show_progress=False))
    assert summary["kept"] >= 3, summary
    task = json.loads((tmp_path / "run" / "tasks.jsonl").read_text().splitlines()[0])
    assert task["provenance"]["writer_model"] == "offline-paper-rules"
    assert task["verification"]["filters_passed"] == ["well_posed", "answerable", "reference_solution"]
