"""Recorded teacher trajectories for `teacher_cost.py`: deterministic, built from real PLOS papers.

Each recording is a 10-turn deep-research trajectory as a teacher model writes it: a question about one
paper; nine assistant turns, each a short piece of visible reasoning and one tool call (search, read, read,
python, search, read, read, python, read), with the tool result the agent got back; and a final answer in
HLE's format. Search results are formatted hits (title, snippet) from other papers of the corpus, read
results are goal-focused passages from the paper (the reader sub-agent's output), python results are short
program outputs. Tool results are sized so the prompt grows from the stable prefix (about 2k tokens) to
about 20k tokens at the last turn, as the issue describes; every size is a parameter.

The stable prefix is SciResearcher's real system prompt and tool schemas plus a worked example (teacher
prompts for trajectory synthesis usually show one), shared by every trajectory. Without the corpus (../shared
/data/corpus/plos.jsonl) the text comes from a small built-in vocabulary instead, with the same sizes.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sciresearcher.agent.prompts import SYSTEM_PROMPT
from sciresearcher.llm.cache_sim import text_tokens

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "corpus" / "plos.jsonl"
TOOLS_ORDER = ("search", "read", "read", "python", "search", "read", "read", "python", "read")
SCHEMAS = [
    {"type": "function", "function": {"name": "search", "description": "Search papers and sources. Returns ranked "
     "hits with id, title, snippet, year and url.", "parameters": {"type": "object", "properties": {
         "query": {"type": "string", "description": "what to look for"}}, "required": ["query"]}}},
    {"type": "function", "function": {"name": "read", "description": "Read one document (id or URL) and return the "
     "evidence relevant to a goal, with quotes and locators.", "parameters": {"type": "object", "properties": {
         "doc_id": {"type": "string", "description": "a search hit's id or a URL"},
         "goal": {"type": "string", "description": "what to extract"}}, "required": ["doc_id", "goal"]}}},
    {"type": "function", "function": {"name": "python", "description": "Run Python code in a persistent sandbox "
     "(numpy, scipy, sympy, pandas, rdkit, biopython) and return its output.", "parameters": {
         "type": "object", "properties": {"code": {"type": "string", "description": "the program"}},
         "required": ["code"]}}},
]
_WORDS = ["enzyme", "kinetics", "binding", "affinity", "substrate", "concentration", "cohort", "incidence", "expression", "assay", "mutant", "phenotype", "inhibitor", "dose", "response", "significant", "increase", "measured", "reported", "samples", "patients", "protein", "activity", "cells", "tissue", "pathway", "regulation", "observed", "median", "interval", "ratio"]


@dataclass
class Recording:
    question: str
    turns: list[dict[str, Any]]  # {"content", "tool_calls": [{"name", "arguments"}], "output_tokens"}
    results: list[str]  # the tool result after each tool turn
    paper: dict[str, Any] = field(default_factory=dict)


def _papers(n: int, rng: random.Random) -> list[dict[str, Any]]:
    if CORPUS.is_file():
        docs = [json.loads(line) for line in CORPUS.open(encoding="utf-8")]
        docs = [d for d in docs if len(d.get("text") or "") > 20_000]
        rng.shuffle(docs)
        return docs[:n] + docs[n:n + 40]
    fake = []
    for i in range(n + 40):
        words = [rng.choice(_WORDS) for _ in range(12_000)]
        text = ". ".join(" ".join(words[j:j + 18]).capitalize() for j in range(0, len(words), 18)) + "."
        fake.append({"id": f"doi:10.0000/fake.{i}", "title": f"Study {i} of {rng.choice(_WORDS)} {rng.choice(_WORDS)}",
                     "text": text, "year": 2000 + i % 24})
    return fake


def _sentences(text: str) -> list[str]:
    return [s.strip() + "." for s in text.replace("\n", " ").split(". ") if 60 < len(s) < 400]


def _take(sentences: list[str], tokens: int, rng: random.Random) -> str:
    out: list[str] = []
    start = rng.randrange(max(1, len(sentences) - 200))
    for s in sentences[start:] + sentences[:start]:
        if text_tokens(" ".join(out)) >= tokens:
            break
        out.append(s)
    return " ".join(out)


def stable_prefix(tokens: int, rng: random.Random, papers: list[dict[str, Any]]) -> str:
    """The system prompt: SciResearcher's own, plus a worked example filling it to about `tokens` tokens
    (tool schemas go in the request's `tools`, and count towards the prefix too)."""
    schema_tokens = text_tokens(SCHEMAS)
    example_tokens = max(0, tokens - text_tokens(SYSTEM_PROMPT) - schema_tokens - 60)
    example = _take(_sentences(papers[-1]["text"]), example_tokens, rng)
    return (f"{SYSTEM_PROMPT}\n\nA worked example of the research process (evidence quoted from a paper, then "
            f"computed):\n{example}")


def record(n: int, *, prefix_tokens: int = 2000, final_tokens: int = 20_000, seed: int = 0,
           ) -> tuple[str, list[Recording]]:
    """(system prompt, `n` recordings): 10 turns each, the prompt growing to about `final_tokens`."""
    rng = random.Random(seed)
    papers = _papers(n, rng)
    system = stable_prefix(prefix_tokens, rng, papers)
    others = papers[n:]
    recordings = []
    for paper in papers[:n]:
        sents = _sentences(paper["text"])
        fact = next((s for s in sents if any(c.isdigit() for c in s)), sents[0])
        question = (f"A study titled \"{paper['title']}\" reports a quantitative result. Using the literature, "
                    f"find the value described here and compute what it implies: {fact[:300]} "
                    "Give the answer with its units.")
        n_tools = len(TOOLS_ORDER)
        turn_out = 220  # tokens of visible reasoning and the call, per assistant turn
        growth = final_tokens - prefix_tokens - text_tokens(question) - n_tools * turn_out
        fixed = {"search": 900, "python": 300}
        n_read = TOOLS_ORDER.count("read")
        read_size = max(500, (growth - sum(fixed.get(t, 0) for t in TOOLS_ORDER)) // n_read)
        turns, results = [], []
        for i, tool in enumerate(TOOLS_ORDER):
            thought = (f"Step {i + 1}. " + _take(sents, 120, rng) + f" Next I will use {tool} to check this.")
            if tool == "search":
                args = {"query": " ".join(paper["title"].split()[:8]) + f" {rng.choice(_WORDS)}"}
                hits = []
                for j, other in enumerate(rng.sample(others, k=min(12, len(others)))):
                    snippet = _take(_sentences(other["text"]), 70, rng)[:300]
                    hits.append(f"[{j + 1}] {other['id']} ({other.get('year', '')}) {other['title']}\n    {snippet}")
                    if text_tokens("\n".join(hits)) >= fixed["search"]:
                        break
                result = "\n".join(hits)
            elif tool == "read":
                args = {"doc_id": paper["id"], "goal": f"the measured values behind: {fact[:120]}"}
                result = f"Evidence from {paper['id']} for the goal:\n" + _take(sents, read_size, rng)
            else:
                args = {"code": "import numpy as np\nvals = np.array([0.42, 0.57, 0.61])\n"
                        "print(vals.mean(), vals.std(ddof=1), np.log2(vals[2] / vals[0]))"}
                result = "0.5333333333333333 0.1001665279\n0.5382848792\n" + _take(sents, fixed["python"] - 30, rng)
            turns.append({"content": thought, "tool_calls": [{"name": tool, "arguments": args}],
                          "output_tokens": turn_out})
            results.append(result)
        final = ("Explanation: " + _take(sents, 250, rng) + "\nAnswer: 1.45 (fold change)\nConfidence: 78%")
        turns.append({"content": final, "output_tokens": text_tokens(final) + 10})
        recordings.append(Recording(question=question, turns=turns, results=results, paper=paper))
    return system, recordings
