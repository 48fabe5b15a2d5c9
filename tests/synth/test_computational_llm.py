"""The model writer of the computational pipeline on real PubMedQA abstracts, with a scripted writer."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from sciresearcher.knowledge.evidence import EvidenceSelector
from sciresearcher.records import Message
from sciresearcher.synth.computational import run_synthesis
from sciresearcher.synth.computational_llm import quantitative_sentences, task_from_reply
from sciresearcher.synth.config import SynthConfig
from sciresearcher.synth.verify import numbers_in
from sciresearcher.testing import ScriptedLLM


def sum_writer(lie: bool = False) -> ScriptedLLM:
    """Picks the first number of the first two numbered sentences that have one; asks for their sum."""

    def reply(messages: list[Message], tools: object) -> str:
        lines = re.findall(r"^\[(\d+)\] (.*)$", messages[-1].content, re.MULTILINE)
        picked = [(int(i), numbers_in(text)[0]) for i, text in lines if numbers_in(text)][:2]
        values = [{"name": f"v{k}", "value": v + (1000 if lie else 0), "unit": "", "sentence": i}
                  for k, (i, v) in enumerate(picked)]
        total = sum(v["value"] for v in values)
        texts = dict(lines)
        subjects = [max(re.findall(r"[A-Za-z]{5,}", texts[str(i)]), key=len) for i, _ in picked]
        question = f"In this study, what is the sum of the reported {subjects[0]} and {subjects[-1]} quantities?"
        return "```json\n" + json.dumps({"question": question, "values": values, "solution": "print(v0 + v1)",
                                         "answer": total, "unit": ""}) + "\n```"

    return ScriptedLLM(reply)


@pytest.fixture(scope="module")
def corpus(shared_data, tmp_path_factory):
    lines = (shared_data / "corpus" / "pubmedqa.jsonl").read_text().splitlines()[:40]
    path = tmp_path_factory.mktemp("corpus") / "papers.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_quantitative_sentences_have_numbers(corpus):
    from sciresearcher.knowledge.loaders import load_file

    selector = EvidenceSelector(use_dense=False)
    found = [quantitative_sentences(d, selector) for d in load_file(corpus)]
    assert sum(bool(f) for f in found) >= 30  # most abstracts report numbers
    assert all(numbers_in(e.text) for f in found for e in f)


def test_model_written_problems_are_verified_in_the_sandbox(corpus, tmp_path):
    config = SynthConfig(n=6, corpus=[str(corpus)])
    summary = asyncio.run(run_synthesis(config, tmp_path / "run", writer=sum_writer(), show_progress=False))
    assert summary["kept"] >= 4 and summary["kept"] + summary["rejected"] == 6
    task = json.loads((tmp_path / "run" / "tasks.jsonl").read_text().splitlines()[0])
    assert task["provenance"]["writer_model"] == "scripted" and task["metadata"]["template"] == "llm"
    assert task["verification"]["filters_passed"] == ["well_posed", "answerable", "reference_solution"]
    assert len(task["evidence"]) == 2 and "print(v0 + v1)" in task["metadata"]["solution"]
    assert not (tmp_path / "run" / "facts.jsonl").exists()
    lying = asyncio.run(run_synthesis(config, tmp_path / "lie", writer=sum_writer(lie=True), show_progress=False))
    assert lying["kept"] == 0
    assert all(r.startswith("written") for r in lying["reasons"])  # refused before verification


def test_replies_are_refused_with_a_reason(corpus):
    from sciresearcher.knowledge.loaders import load_file

    selector = EvidenceSelector(use_dense=False)
    doc = next(d for d in load_file(corpus) if quantitative_sentences(d, selector))
    ev = quantitative_sentences(doc, selector)
    n = numbers_in(ev[0].text)[0]
    subject = max(re.findall(r"[A-Za-z]{5,}", ev[0].text), key=len)
    good = {"question": f"What is the {subject} value?", "values": [{"name": "a", "value": n, "sentence": 1}],
            "solution": "print(a)", "answer": n}

    def why(**change):
        return task_from_reply({**good, **change}, doc, ev, 1, 0.01, "m")

    assert not isinstance(why(), str)
    assert "fewer than 2" in task_from_reply(good, doc, ev, 2, 0.01, "m")
    assert "not a Python identifier" in why(values=[{"name": "2x", "value": n, "sentence": 1}])
    assert "not written in sentence 1" in why(values=[{"name": "a", "value": n + 0.123, "sentence": 1}])
    assert "states the value" in why(question=f"Given {n}, what is the {subject}?")
    assert "does not say what the values of sentence 1 measure" in why(question="What is the first value?")
    assert "not a number" in why(answer="lots")
    assert "not JSON" in task_from_reply(None, doc, ev, 1, 0.01, "m")


def test_the_model_writer_needs_papers(tmp_path):
    from sciresearcher.errors import ConfigError

    with pytest.raises(ConfigError, match="needs papers"):
        asyncio.run(run_synthesis(SynthConfig(n=1), tmp_path / "r", writer=sum_writer(), show_progress=False))
