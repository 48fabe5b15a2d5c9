"""The conceptual pipeline on a real BM25 index of PubMedQA abstracts, with a scripted writer."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from sciresearcher.records import Message
from sciresearcher.synth.conceptual import (
    SearchSubAgent,
    add_hop,
    build_chain,
    chain_to_task,
    parse_json_reply,
    verify_conceptual,
)
from sciresearcher.synth.mentions import identifies, names
from sciresearcher.synth.seeds import SeedConfig, select_seeds
from sciresearcher.testing import ScriptedLLM, final_answer_text


class Writer:
    """Scripted writer: answers each prompt kind plausibly and remembers question -> answer."""

    def __init__(self, rewrite_keeps_anchor: bool = False) -> None:
        self.answers: dict[str, str] = {}
        self.rewrite_keeps_anchor = rewrite_keeps_anchor
        self.llm = ScriptedLLM(self.reply)

    def reply(self, messages: list[Message], tools: object) -> str:
        p = messages[-1].content
        if p.startswith("You write research questions"):
            entity = re.search(r"Entity: (.*)", p).group(1)
            sentence = re.search(r'Sentence \(from [^)]*\): "(.*?)"\n', p, re.DOTALL).group(1)
            opening = re.search(r'which opens: "(.*?)"\n', p, re.DOTALL).group(1)
            answer = max((w for w in re.findall(r"[A-Za-z]{7,}", sentence) if w.lower() not in entity.lower()),
                         key=len)
            study = " ".join(w for w in re.findall(r"[A-Za-z]{6,}", opening)
                             if w.lower() not in sentence.lower())[:80]
            question = f"In the study on {study}, which term does the literature on {entity} use here?"
            self.answers[question] = answer
            return json.dumps({"question": question, "answer": answer})
        if "Pick one specific entity" in p:
            question = re.search(r'Question: "(.*)"', p).group(1)
            return json.dumps({"anchor": re.search(r"literature on (.*) use here", question).group(1)})
        if "Anchor to hide" in p:
            question = re.search(r'Question: "(.*)"', p).group(1)
            anchor = re.search(r'Anchor to hide: "(.*)"', p).group(1)
            fact_words = re.search(r'Fact about the anchor .*?: "(.*)"', p, re.DOTALL).group(1).split()[:4]
            description = "the subject of a report beginning '" + " ".join(fact_words) + "'"
            new = question if self.rewrite_keeps_anchor else question.replace(anchor, description)
            self.answers[new] = self.answers[question]
            return "Here you go:\n```json\n" + json.dumps({"description": description, "question": new}) + "\n```"
        if p.startswith("Answer the question using only the evidence"):
            question = p.rsplit("Question: ", 1)[1].strip()
            return final_answer_text(self.answers[question])
        if "Does any passage support a different answer" in p:
            return json.dumps({"other_answer": None})
        raise AssertionError(p[:80])


@pytest.fixture(scope="module")
def corpus(shared_data, tmp_path_factory):
    from sciresearcher.knowledge.index_build import build_index
    from sciresearcher.knowledge.loaders import load_file

    docs = load_file(shared_data / "corpus" / "pubmedqa.jsonl")[:400]
    index = build_index(docs, tmp_path_factory.mktemp("idx") / "index", dense=False)
    seeds = asyncio.run(select_seeds(docs, SeedConfig(top_k=40, use_keywords=True, max_doc_share=0.05)))
    return {d.id: d for d in docs}, SearchSubAgent(index), seeds


def test_parse_json_reply_finds_the_object_in_prose():
    assert parse_json_reply('<think>{"x": 0}</think> Sure! {"a": {"b": 1}} trailing') == {"a": {"b": 1}}
    assert parse_json_reply("no json") is None and parse_json_reply('{"a": 1') is None


def test_one_hop_chain_grounds_each_step_in_a_different_source(corpus):
    docs, search, seeds = corpus
    writer = Writer()
    chain = None
    for seed in seeds:  # the first seed whose entity another abstract also states a fact about
        chain = asyncio.run(build_chain(seed, docs, search, writer.llm, hops=1))
        if not isinstance(chain, str):
            break
    assert not isinstance(chain, str), chain
    hop = chain.hops[0]
    assert hop.anchor == chain.seed.entity and hop.anchor not in chain.question
    assert len(chain.evidence) == 2 and chain.evidence[0].doc_id != hop.source_doc_id
    assert hop.fact == chain.evidence[1].text and names(hop.fact, hop.anchor) and identifies(hop.fact, hop.anchor)
    assert chain.answer in chain.evidence[0].text and chain.answer not in chain.question
    task = chain_to_task(chain, "scripted", "biology")
    assert task.provenance.pipeline == "conceptual" and task.provenance.hops == chain.hops
    assert task.difficulty == "1-hop" and "So the answer is" in task.metadata["reasoning"]
    checked, failed = asyncio.run(verify_conceptual(task, writer.llm, search))
    assert failed == [] and checked.verification.filters_passed == ["answerable", "unique"]


def test_refused_hops_are_recorded_and_the_chain_left_unchanged(corpus):
    docs, search, seeds = corpus
    writer = Writer(rewrite_keeps_anchor=True)
    outcomes = [asyncio.run(build_chain(seed, docs, search, writer.llm, hops=1, max_attempts=2)) for seed in seeds[:15]]
    assert all(isinstance(c, str) for c in outcomes)  # a rewrite that keeps the anchor never makes a hop
    refused = [c for c in outcomes if c.startswith("hop 1 failed 2 times")]
    assert refused and any("still names" in c for c in refused), outcomes


def test_anchor_must_occur_in_the_question_and_verification_catches_other_answers(corpus):
    docs, search, seeds = corpus
    from sciresearcher.synth.conceptual import Chain

    ev = search.selector.sentences("apoptosis", list(docs.values())[:20], k=1)[0]
    chain = Chain(seeds[0], "Which pathway is described?", "apoptosis", [ev])
    wrong = ScriptedLLM([json.dumps({"anchor": "ribosome"})])
    assert "does not occur in the question" in asyncio.run(add_hop(chain, search, wrong))
    assert chain.hops == [] and len(chain.evidence) == 1
    task = chain_to_task(chain, "scripted")
    other = ScriptedLLM(["Explanation: x\nAnswer: necrosis\nConfidence: 50%", json.dumps({"other_answer": "necrosis"})])
    _, failed = asyncio.run(verify_conceptual(task, other, search))
    assert failed[0].startswith("answerable") and failed[1].startswith("unique: retrieved passages support")
    # with a judge configured, the judge decides whether the evidence-only answer is right
    from sciresearcher.grade.judge import HLEJudge

    verdict = json.dumps({"extracted_final_answer": "cell death by apoptosis", "reasoning": "same", "correct": "yes",
                          "confidence": 90, "strict": True})
    judge = HLEJudge(ScriptedLLM([verdict]))
    writer = ScriptedLLM(["Explanation: x\nAnswer: cell death by apoptosis\nConfidence: 80%",
                          json.dumps({"other_answer": None})])
    judged, failed = asyncio.run(verify_conceptual(task, writer, search, judge=judge))
    assert failed == [] and judge.llm.calls == 1 and judged.verification.filters_passed == ["answerable", "unique"]


def test_run_conceptual_writes_a_resumable_run(shared_data, tmp_path):
    from sciresearcher.synth.conceptual_run import run_conceptual
    from sciresearcher.synth.config import ConceptualConfig

    corpus_file = tmp_path / "corpus.jsonl"
    lines = (shared_data / "corpus" / "pubmedqa.jsonl").read_text().splitlines()
    corpus_file.write_text("\n".join(lines) + "\n")
    config = ConceptualConfig(corpus=[str(corpus_file)], n=12, hops=1, seeds=SeedConfig(max_doc_share=0.05))
    writer = Writer()
    summary = asyncio.run(run_conceptual(config, tmp_path / "run", writer=writer.llm, show_progress=False))
    assert summary["attempted"] == 12 and summary["kept"] >= 1, summary
    assert summary["kept"] + summary["rejected"] == 12
    rows = (tmp_path / "run" / "tasks.jsonl").read_text().splitlines()
    assert len(rows) == summary["kept"] and (tmp_path / "run" / "seeds.jsonl").is_file()
    assert summary["yields"]["seeds"] == 12 and summary["yields"]["verified"] == summary["kept"]
    # rejection reasons are counted by their whole first sentence (never cut mid-word), and run.log has the counts
    rejected = [json.loads(x) for x in (tmp_path / "run" / "rejected.jsonl").read_text().splitlines()]
    assert set(summary["reasons"]) == {f"{r['stage']}: {r['reasons'][0].split(':')[0]}" for r in rejected}
    assert "wrote summary.json: seeds=" in (tmp_path / "run" / "run.log").read_text()
    calls = writer.llm.calls
    again = asyncio.run(run_conceptual(config, tmp_path / "run", writer=writer.llm, show_progress=False))
    assert again["kept"] == summary["kept"] and writer.llm.calls == calls  # nothing redone
    # the seeds file `synth seeds` writes is what `synth conceptual --seeds` takes
    from_file = config.model_copy(update={"seeds_file": str(tmp_path / "run" / "seeds.jsonl"), "n": 2})
    third = asyncio.run(run_conceptual(from_file, tmp_path / "from-file", writer=Writer().llm, show_progress=False))
    first_two = [json.loads(x)["entity"] for x in (tmp_path / "run" / "seeds.jsonl").read_text().splitlines()[:2]]
    assert third["attempted"] == 2 and [json.loads(x)["entity"] for x in (
        tmp_path / "from-file" / "seeds.jsonl").read_text().splitlines()[:2]] == first_two


def test_without_a_writer_it_says_how_to_configure_one(tmp_path):
    from sciresearcher.errors import ConfigError
    from sciresearcher.synth.conceptual_run import run_conceptual
    from sciresearcher.synth.config import ConceptualConfig

    with pytest.raises(ConfigError, match="needs a writer model"):
        asyncio.run(run_conceptual(ConceptualConfig(corpus=["x"]), tmp_path / "r"))
