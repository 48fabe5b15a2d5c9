"""The conceptual pipeline with a writer and a solver answering as strong chat models do (recorded replies).

Real OpenAI-compatible clients talk to `llm.testserver`; the replies (fixtures/strong_conceptual_replies.json) were
written by hand for the prompts this pipeline sends for one PubMedQA seed: fenced and prose-wrapped JSON, a
first anchor no other abstract identifies (the retry states the failure and asks for another), and answers a
careful model writes ("Insufficient response to, or toxicity of, first-line chemotherapy" for the gold
"insufficient response or toxicity"). None of them may be refused for how it is written.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from sciresearcher.llm import make_client
from sciresearcher.llm.config import LLMConfig
from sciresearcher.llm.testserver import OpenAITestServer
from sciresearcher.synth.conceptual import SearchSubAgent, build_chain, chain_to_task, verify_conceptual
from sciresearcher.synth.seeds import Seed

REPLIES = json.loads((Path(__file__).parent / "fixtures" / "strong_conceptual_replies.json").read_text())
SEED_DOC = "pmid:28407529"


def writer_reply(body: dict) -> str:
    prompt = body["messages"][-1]["content"]
    if prompt.startswith("You write research questions"):
        return REPLIES["seed"]
    if "Pick one specific entity" in prompt:
        return REPLIES["anchor_retry" if "Earlier attempts failed" in prompt else "anchor_first"]
    if "Anchor to hide" in prompt:
        return REPLIES["rewrite"]
    if prompt.startswith("Answer the question using only the evidence"):
        return REPLIES["answerable"]
    if "Does any passage support a different answer" in prompt:
        return REPLIES["unique"]
    raise AssertionError(prompt[:120])


@pytest.fixture(scope="module")
def corpus(shared_data, tmp_path_factory):
    from sciresearcher.knowledge.index_build import build_index
    from sciresearcher.knowledge.loaders import load_file

    docs = load_file(shared_data / "corpus" / "pubmedqa.jsonl")
    index = build_index(docs, tmp_path_factory.mktemp("idx") / "index", dense=False)
    return {d.id: d for d in docs}, SearchSubAgent(index)


def test_strong_replies_make_a_verified_two_source_task(corpus):
    docs, search = corpus
    seed = Seed("preoperative chemotherapy (PCT)", 0.8, 1.0, 0.9, 0.5, 0.9, None, 2, [SEED_DOC])
    with OpenAITestServer(writer_reply, model="writer") as w, \
            OpenAITestServer(lambda body: REPLIES["no_tools"], model="solver") as s:
        writer = make_client(LLMConfig(backend="openai", base_url=w.base_url, model="writer"))
        solver = make_client(LLMConfig(backend="openai", base_url=s.base_url, model="solver"))
        chain = asyncio.run(build_chain(seed, docs, search, writer, hops=1))
        assert not isinstance(chain, str), chain
        task = chain_to_task(chain, "writer", "biology")
        checked, failed = asyncio.run(verify_conceptual(task, writer, search, solver))
        anchor_prompts = [r["messages"][-1]["content"] for r in w.requests
                          if "Pick one specific entity" in r["messages"][-1]["content"]]
    assert failed == [], failed
    assert checked.verification.filters_passed == ["answerable", "non_trivial", "unique"]
    assert chain.hops[0].anchor == "liver metastases" and chain.hops[0].source_doc_id != SEED_DOC
    assert "colorectal liver metastases" in chain.failures[0]  # the first anchor, refused with its reason
    assert len(anchor_prompts) == 2 and "Earlier attempts failed" in anchor_prompts[1]
    assert anchor_prompts[0] != anchor_prompts[1]  # never the identical request
    assert task.answer == "insufficient response or toxicity" and len(task.evidence) == 2
