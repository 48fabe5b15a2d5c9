"""The conceptual pipeline: seed fact -> question -> anchor-based multi-hop augmentation -> evidence synthesis.

For each seed entity (`seeds.py`), the LLM writer turns one sentence that names it into a question with a short
answer stated in that sentence. Each hop then (1) asks the writer for an *anchor*: an entity in the current
question other than the answer; (2) runs a separate search sub-agent: the local index is searched for the
anchor, documents already in the chain are excluded, and the sentence that best states a fact about the anchor
is selected (three-level evidence selection, lexical); (3) asks the writer to replace the anchor by an indirect
description built only from that fact. A hop is accepted only when the anchor really occurs in the question, the
rewritten question no longer names it, the answer does not leak into the question, and the fact comes from a
document not used before. The evidence chain (seed sentence + one sentence per hop) becomes `Task.evidence`,
the hops `Task.provenance.hops`, and a reasoning trace is written to `metadata["reasoning"]`.

Verification (`verify_conceptual`): *answerable*: the writer, given only the evidence chain, reaches the answer;
*non-trivial*: a solver with no tools does not; *unique*: passages retrieved for the final question do not
support a different answer, as judged by the writer. Every model call goes through an `LLMClient`, so tests
drive it with the scripted LLM. Without a model this pipeline cannot write (the offline writer covers
computational tasks).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sciresearcher.data.overlap import contains_phrase
from sciresearcher.errors import ProviderError
from sciresearcher.llm.base import LLMClient
from sciresearcher.records import Document, Evidence, Hop, Message, Provenance, SolverVote, Task
from sciresearcher.synth.seeds import Seed

if TYPE_CHECKING:
    from sciresearcher.knowledge.evidence import EvidenceSelector

log = logging.getLogger(__name__)

SEED_PROMPT = """You write research questions grounded in the literature.
Entity: {entity}
Sentence (from {doc_id}): "{sentence}"

Write one question about {entity} whose answer is a short fact (a name, term, number or short phrase) stated in
the sentence. The answer must be written in the sentence. Reply with JSON only:
{{"question": "...", "answer": "..."}}"""

ANCHOR_PROMPT = """Question: "{question}"
Answer (must stay hidden): "{answer}"

Pick one specific entity named in the question (not the answer, not a generic word) that could be replaced by
an indirect description. Copy it exactly as written in the question. Reply with JSON only: {{"anchor": "..."}}"""

REWRITE_PROMPT = """Question: "{question}"
Anchor to hide: "{anchor}"
Fact about the anchor (from {doc_id}): "{fact}"

Describe the anchor indirectly using only this fact, without naming it, and rewrite the question with the
description in place of the anchor. Keep everything else, and keep the same answer. Reply with JSON only:
{{"description": "...", "question": "..."}}"""

ANSWERABLE_PROMPT = """Answer the question using only the evidence below. Reply in this format:
Explanation: <reasoning from the evidence>
Answer: <short answer>
Confidence: <0-100%>

Evidence:
{evidence}

Question: {question}"""

UNIQUE_PROMPT = """Question: "{question}"
Proposed answer: "{answer}"

Passages retrieved for the question:
{passages}

Does any passage support a different answer that also fits every constraint of the question? Reply with JSON
only: {{"other_answer": null}} or {{"other_answer": "..."}}"""


def parse_json_reply(text: str) -> dict[str, Any] | None:
    """The first JSON object in a reply (models wrap it in prose or fences), or None."""
    text = re.sub(r"<think>.*?</think>", "", text or "", flags=re.DOTALL)
    start = text.find("{")
    while start >= 0:
        depth = 0
        for end in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                try:
                    value = json.loads(text[start:end + 1])
                    return value if isinstance(value, dict) else None
                except json.JSONDecodeError:
                    break
        start = text.find("{", start + 1)
    return None


async def ask_json(llm: LLMClient, prompt: str, keys: tuple[str, ...]) -> dict[str, Any] | None:
    """One writer call; None when the reply has no JSON object with `keys` (the caller records why)."""
    result = await llm.chat([Message(role="user", content=prompt)], temperature=0.0)
    value = parse_json_reply(result.message.content or "")
    if value is None or any(k not in value for k in keys):
        return None
    return value


@dataclass
class Chain:
    """A question under construction and everything that grounds it."""

    seed: Seed
    question: str
    answer: str
    evidence: list[Evidence]
    hops: list[Hop] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def doc_ids(self) -> set[str]:
        return {e.doc_id for e in self.evidence}


class SearchSubAgent:
    """Finds a sentence stating a fact about an entity in documents not yet used (index search + selection)."""

    def __init__(self, index: Any, k: int = 10) -> None:
        from sciresearcher.knowledge.evidence import EvidenceSelector

        self.index = index
        self.k = k
        self.selector = EvidenceSelector(use_dense=False)

    def find(self, entity: str, exclude: set[str]) -> Evidence | None:
        hits = [h for h in self.index.search(entity, k=self.k, mode="bm25") if h.doc_id not in exclude]
        docs = [d for d in (self.index.get(h.doc_id) for h in hits) if d is not None]
        if not docs:
            return None
        for ev in self.selector.sentences(entity, docs, k=5):
            if contains_phrase(ev.text, entity):
                return ev
        return None


def seed_sentence(seed: Seed, docs: dict[str, Document], selector: Any) -> Evidence | None:
    """The sentence of a seed's documents that best states something about it and names it."""
    named = [docs[i] for i in seed.doc_ids if i in docs]
    short = re.sub(r"\s*\([^)]*\)$", "", seed.entity)  # 'long form (ABBR)' -> 'long form'
    for ev in selector.sentences(short, named, k=10):
        if contains_phrase(ev.text, short) and len(ev.text.split()) >= 8:
            return ev
    return None


async def start_chain(seed: Seed, docs: dict[str, Document], writer: LLMClient, selector: EvidenceSelector) -> Chain | str:
    """The seed question, or why none could be written."""
    ev = seed_sentence(seed, docs, selector)
    if ev is None:
        return "no sentence in the seed's documents names it"
    reply = await ask_json(writer, SEED_PROMPT.format(entity=seed.entity, doc_id=ev.doc_id, sentence=ev.text),
                           ("question", "answer"))
    if reply is None:
        return "the writer's seed question was not JSON with question and answer"
    question, answer = str(reply["question"]).strip(), str(reply["answer"]).strip()
    if not contains_phrase(ev.text, answer):
        return f"the answer {answer!r} is not written in the seed sentence"
    if contains_phrase(question, answer):
        return "the seed question gives its answer away"
    return Chain(seed, question, answer, [ev])


async def add_hop(chain: Chain, search: SearchSubAgent, writer: LLMClient) -> str | None:
    """One anchor-based hop; None on success, else why it was refused (the chain is unchanged then)."""
    reply = await ask_json(writer, ANCHOR_PROMPT.format(question=chain.question, answer=chain.answer), ("anchor",))
    anchor = str(reply["anchor"]).strip() if reply else ""
    if not anchor or not contains_phrase(chain.question, anchor):
        return f"anchor {anchor!r} does not occur in the question"
    if contains_phrase(anchor, chain.answer) or contains_phrase(chain.answer, anchor):
        return f"anchor {anchor!r} is the answer"
    fact = search.find(anchor, exclude=chain.doc_ids)
    if fact is None:
        return f"no other source states a fact about {anchor!r}"
    reply = await ask_json(writer, REWRITE_PROMPT.format(question=chain.question, anchor=anchor, doc_id=fact.doc_id,
                                                          fact=fact.text), ("description", "question"))
    if reply is None:
        return "the writer's rewrite was not JSON with description and question"
    question, description = str(reply["question"]).strip(), str(reply["description"]).strip()
    if contains_phrase(question, anchor):
        return f"the rewritten question still names {anchor!r}"
    if contains_phrase(question, chain.answer):
        return "the rewritten question gives its answer away"
    chain.question = question
    chain.evidence.append(fact)
    chain.hops.append(Hop(anchor=anchor, description=description, fact=fact.text, source_doc_id=fact.doc_id))
    return None


def reasoning_trace(chain: Chain) -> str:
    lines = []
    for i, hop in enumerate(reversed(chain.hops), 1):
        lines.append(f"{i}. \"{hop.description}\" refers to {hop.anchor} ({hop.source_doc_id}: \"{hop.fact}\").")
    seed = chain.evidence[0]
    lines.append(f"{len(lines) + 1}. {seed.doc_id} states: \"{seed.text}\" So the answer is {chain.answer}.")
    return "\n".join(lines)


def chain_to_task(chain: Chain, writer_model: str, category: str | None = None) -> Task:
    key = json.dumps([chain.seed.entity, chain.question], sort_keys=True)
    return Task(
        id=f"concept-{hashlib.blake2b(key.encode(), digest_size=6).hexdigest()}", question=chain.question,
        answer=chain.answer, answer_type="exactMatch", category=category, evidence=chain.evidence,
        difficulty=f"{len(chain.hops)}-hop",
        provenance=Provenance(pipeline="conceptual", seed_entity=chain.seed.entity, hops=chain.hops,
                              writer_model=writer_model,
                              prompt_hash=hashlib.blake2b((SEED_PROMPT + ANCHOR_PROMPT + REWRITE_PROMPT).encode(),
                                                          digest_size=6).hexdigest(),
                              created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                              extra={"seed_score": chain.seed.score}),
        metadata={"reasoning": reasoning_trace(chain), "hop_failures": chain.failures},
    )


async def build_chain(seed: Seed, docs: dict[str, Document], search: SearchSubAgent, writer: LLMClient, hops: int,
                      max_attempts: int = 3) -> Chain | str:
    """A chain with exactly `hops` hops (each tried up to `max_attempts` times), or why it failed."""
    try:
        chain = await start_chain(seed, docs, writer, search.selector)
        if isinstance(chain, str):
            return chain
        while len(chain.hops) < hops:
            for _ in range(max_attempts):
                why = await add_hop(chain, search, writer)
                if why is None:
                    break
                chain.failures.append(why)
            else:
                return f"hop {len(chain.hops) + 1} failed {max_attempts} times (last: {chain.failures[-1]})"
        return chain
    except ProviderError as exc:
        return f"writer failed: {exc}"


async def verify_conceptual(task: Task, writer: LLMClient, search: SearchSubAgent, solver: LLMClient | None = None,
                            agent_config: Any = None) -> tuple[Task, list[str]]:
    """Answerable from the evidence, non-trivial without tools (when a solver is given), unique."""
    from sciresearcher.agent.config import AgentConfig
    from sciresearcher.grade.graders import grade
    from sciresearcher.synth.verify import no_tool_attempt, verification_of

    passed, failed, votes = [], [], []
    evidence = "\n".join(f"[{i + 1}] ({e.doc_id}) {e.text}" for i, e in enumerate(task.evidence))
    reply = await writer.chat([Message(role="user", content=ANSWERABLE_PROMPT.format(
        evidence=evidence, question=task.question))], temperature=0.0)
    ok = grade(task, reply.message.content or "").correct
    (passed if ok else failed).append("answerable" if ok else "answerable: the evidence chain does not yield it")
    if solver is not None:
        attempt: SolverVote = await no_tool_attempt(task, solver, agent_config or AgentConfig())
        votes.append(attempt)
        (failed if attempt.agrees else passed).append(
            "non_trivial: answered right without tools" if attempt.agrees else "non_trivial")
    hits = search.index.search(task.question, k=5, mode="bm25")
    passages = "\n".join(f"- ({h.doc_id}) {h.text[:600]}" for h in hits) or "(none)"
    unique = await ask_json(writer, UNIQUE_PROMPT.format(question=task.question, answer=task.answer,
                                                          passages=passages), ("other_answer",))
    if unique is None:
        failed.append("unique: the check's reply was not JSON with other_answer")
    elif unique["other_answer"] not in (None, "", "null") and not contains_phrase(str(unique["other_answer"]), task.answer):
        failed.append(f"unique: retrieved passages support another answer ({unique['other_answer']})")
    else:
        passed.append("unique")
    return task.model_copy(update={"verification": verification_of(passed, failed, votes)}), failed
