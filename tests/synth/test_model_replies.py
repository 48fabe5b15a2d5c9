"""The computational pipeline with model writers, replayed from replies written as a strong chat model answers.

Writer and solver are real OpenAI-compatible clients talking to `llm.testserver` on 127.0.0.1; the replies are
recorded fixtures (fixtures/strong_writer_replies.json): prose around JSON, a fenced object, a reply cut off and
repaired, a refusal, numbers written as words ("eight to ten per 100,000") and with flattened exponents ("104
p.f.u." = 10^4). The solver reaches the papers the way the student will (search, then read, over the run's
index of the corpus); the no-tool check gets no tools.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from sciresearcher.llm.config import LLMConfig
from sciresearcher.llm.testserver import OpenAITestServer
from sciresearcher.synth.computational import run_synthesis
from sciresearcher.synth.config import SolverConfig, SynthConfig

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "strong_writer_replies.json").read_text())


def _snippet(doc: dict, phrase: str, before: int = 2, after: int = 2) -> dict:
    """The paper cut to the sentences around a phrase (the writer sees a handful of sentences either way)."""
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z])", doc["text"])
    i = next(k for k, s in enumerate(sentences) if phrase in s)
    return {**doc, "text": " ".join(sentences[max(0, i - before):i + after + 1]), "sections": None}


@pytest.fixture(scope="module")
def corpus(shared_data, tmp_path_factory) -> Path:
    plos = [json.loads(line) for line in (shared_data / "corpus" / "plos.jsonl").read_text().splitlines()]
    pubmed = [json.loads(line) for line in (shared_data / "corpus" / "pubmedqa.jsonl").read_text().splitlines()]
    docs = [_snippet(next(d for d in plos if "eight to ten per 100,000" in d["text"]), "eight to ten per 100,000"),
            _snippet(next(d for d in plos if "104 p.f.u. virus per ear" in d["text"]), "104 p.f.u. virus per ear"),
            pubmed[3]]
    path = tmp_path_factory.mktemp("papers") / "papers.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    return path


def writer_reply(body: dict) -> str:
    messages = body["messages"]
    prompt = messages[0]["content"]
    repair = len(messages) > 1
    for case in FIXTURES["writer"]:
        line = next((m for m in re.finditer(r"^\[(\d+)\] (.*)$", prompt, re.MULTILINE) if case["key"] in m.group(2)), None)
        if line is not None:
            reply = case["replies"][1 if repair and len(case["replies"]) > 1 else 0]
            return reply.replace("{s}", line.group(1))
    return next(c for c in FIXTURES["writer"] if c["key"] == "DECLINE")["replies"][0]


def solver_reply(body: dict) -> str | dict:
    if not body.get("tools"):
        return FIXTURES["no_tools"]
    messages = body["messages"]
    question = next(m["content"] for m in messages if m["role"] == "user").lower()
    case = next(c for c in FIXTURES["solver"] if c["key"] in question)
    tool_outputs = [m["content"] for m in messages if m["role"] == "tool"]
    if not tool_outputs:
        return {"tool_calls": [{"name": "search", "arguments": {"query": case["search"]}}]}
    if len(tool_outputs) == 1:
        doc_id = re.search(r"doi:10\.1371/[\w.]+", tool_outputs[0]).group(0)
        return {"tool_calls": [{"name": "read", "arguments": {"doc_id_or_url": doc_id, "goal": case["search"]}}]}
    if case["evidence"] in tool_outputs[-1]:
        return case["final"]
    return "Explanation: The paper I read does not state the values.\nAnswer: unknown\nConfidence: 5%"


@pytest.mark.slow  # ~60 s: two solver runs per task with fresh sandboxes, an index build
def test_a_strong_writer_and_the_default_solver_keep_paper_grounded_tasks(corpus, tmp_path):
    with OpenAITestServer(writer_reply, model="writer") as w, OpenAITestServer(solver_reply, model="solver") as s:
        config = SynthConfig(
            n=3, corpus=[str(corpus)], writer=LLMConfig(backend="openai", base_url=w.base_url, model="writer"),
            solver=SolverConfig(llm=LLMConfig(backend="openai", base_url=s.base_url, model="solver"), samples=2,
                                min_agree=2, concurrency=3))
        summary = asyncio.run(run_synthesis(config, tmp_path / "run", show_progress=False))
        writer_requests, solver_requests = list(w.requests), list(s.requests)
    assert summary["kept"] == 2 and summary["rejected"] == 1, summary
    rejected = json.loads((tmp_path / "run" / "rejected.jsonl").read_text())
    assert rejected["reasons"][0].startswith("declined: I'm sorry, but I can't write")  # a decline, not "not JSON"
    tasks = [json.loads(line) for line in (tmp_path / "run" / "tasks.jsonl").read_text().splitlines()]
    by_answer = {t["answer"]: t for t in tasks}
    assert set(by_answer) == {"225", "2e+05"}
    flattened = by_answer["2e+05"]["metadata"]["variables"]["dose_per_ear"]
    assert flattened["value"] == 10000  # "104 p.f.u." read as 10^4
    for task in tasks:
        assert task["verification"]["filters_passed"] == ["well_posed", "answerable", "reference_solution",
                                                          "non_trivial", "solver_vote"]
        assert all(v["agrees"] for v in task["verification"]["solver_votes"][1:])
    # structured output was asked for, the cut-off reply was repaired once, the solver had search and read
    assert all(r.get("response_format", {}).get("type") == "json_schema" for r in writer_requests)
    assert any("could not be used" in r["messages"][-1]["content"] for r in writer_requests)
    tool_names = {t["function"]["name"] for r in solver_requests if r.get("tools") for t in r["tools"]}
    assert {"search", "read", "python"} <= tool_names
    assert any(not r.get("tools") for r in solver_requests)  # the no-tool check stays tool-free
