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
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sciresearcher.data.overlap import contains_phrase, normalised
from sciresearcher.errors import ProviderError
from sciresearcher.llm.base import LLMClient
from sciresearcher.records import Document, Evidence, Hop, Message, Provenance, SolverVote, Task
from sciresearcher.synth.answer_match import answer_matches
from sciresearcher.synth.mentions import identifies, names, split_entity, surface_forms
from sciresearcher.synth.seeds import Seed
from sciresearcher.synth.structured import parse_json_reply

__all__ = ["parse_json_reply"]

if TYPE_CHECKING:
    from sciresearcher.grade.outcome import Judge
    from sciresearcher.knowledge.evidence import EvidenceSelector

log = logging.getLogger(__name__)

SEED_PROMPT = """You write research questions grounded in the literature.
Entity: {entity}
Document {doc_id}: "{title}", which opens: "{opening}"
Sentence (from {doc_id}): "{sentence}"

Write one question about {entity} whose answer is a short fact (a name, term, number or short phrase) stated in
the sentence. The answer must be written in the sentence. The question must identify the study it comes from
(its population, setting or design, as the document describes them: "In a cohort of 312 patients undergoing
pancreatectomy ..."), so a reader could find the document by searching for it. Reply with JSON only.

Example: Entity: Leptin. Sentence: "In 48 obese adolescents, leptin fell by a third after the 12-week diet."
{{"question": "In a 12-week dietary intervention in 48 obese adolescents, by what fraction did the circulating
adipocyte hormone studied fall?", "answer": "a third"}}

Reply: {{"question": "...", "answer": "..."}}"""

ANCHOR_PROMPT = """Question: "{question}"
Answer (must stay hidden): "{answer}"

Pick one specific entity named in the question (not the answer, not a generic word) that could be replaced by
an indirect description. Copy it exactly as written in the question.{avoid}
Example: for "Which hormone secreted by adipocytes falls after a 12-week diet in obese adolescents?" with answer
"leptin", a good anchor is "adipocytes" (a specific cell type), a poor one is "diet" (generic).
Reply with JSON only: {{"anchor": "..."}}"""

REWRITE_PROMPT = """Question: "{question}"
Anchor to hide: "{anchor}"
Fact about the anchor (from {doc_id}): "{fact}"

Describe the anchor indirectly using only this fact, without naming it, so that the description picks out
this anchor and no other (someone searching the literature for the description should find this fact), and
rewrite the question with the description in place of the anchor. Keep everything else, and keep the same
answer. Example: anchor "adipocytes", fact "Adipocytes are the cells that store triglycerides in white adipose
tissue." -> description "the triglyceride-storing cells of white adipose tissue".
Reply with JSON only: {{"description": "...", "question": "..."}}"""

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


async def ask_json(llm: LLMClient, prompt: str, keys: tuple[str, ...], temperature: float = 0.0
                   ) -> dict[str, Any] | None:
    """One writer call (with one repair round and structured output where supported: `structured.py`); None
    when no JSON object with `keys` came back; {"declined": reason} when the writer declined."""
    from sciresearcher.synth.structured import ask_structured

    return await ask_structured(llm, prompt, keys, temperature=temperature)


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
    """Finds a sentence that identifies an entity (defines it, or states a property of it as its subject) in
    documents not yet used: index search by every surface form, then three-level selection."""

    def __init__(self, index: Any, k: int = 10) -> None:
        from sciresearcher.knowledge.evidence import EvidenceSelector

        self.index = index
        self.k = k
        self.selector = EvidenceSelector(use_dense=False)

    def find(self, entity: str, exclude: set[str]) -> Evidence | None:
        forms = surface_forms(entity)
        query = " ".join(dict.fromkeys([split_entity(entity)[0], *forms[:2]]))
        hits = [h for h in self.index.search(query, k=self.k, mode="bm25") if h.doc_id not in exclude]
        docs = [d for d in (self.index.get(h.doc_id) for h in dict.fromkeys(hits)) if d is not None]
        if not docs:
            return None
        named = [ev for ev in self.selector.sentences(query, docs, k=12) if names(ev.text, entity)]
        return next((ev for ev in named if identifies(ev.text, entity)), None)

    def finds_document(self, description: str, doc_id: str, k: int = 10) -> bool:
        """Whether searching the index for a description brings up the document it was built from."""
        return any(h.doc_id == doc_id for h in self.index.search(description, k=k, mode="bm25"))


def seed_sentence(seed: Seed, docs: dict[str, Document], selector: Any) -> Evidence | None:
    """The sentence of a seed's documents that best states something about it and names it."""
    named = [docs[i] for i in seed.doc_ids if i in docs]
    short = split_entity(seed.entity)[0]
    for ev in selector.sentences(short, named, k=10):
        if names(ev.text, seed.entity) and len(ev.text.split()) >= 8:
            return ev
    return None


def identifies_study(question: str, doc: Document | None, sentence: str) -> bool:
    """Whether a question carries enough of its document's own words (title, opening, the cited sentence) for a
    reader to find the study: at least two distinctive words beyond the seed sentence's."""
    if doc is None:
        return True
    context = f"{doc.title} {' '.join((doc.sentences or [])[:3]) or doc.text[:600]}"
    distinctive = {w for w in normalised(context).split() if len(w) >= 5} - set(normalised(sentence).split())
    return len(distinctive & set(normalised(question).split())) >= 2


async def start_chain(seed: Seed, docs: dict[str, Document], writer: LLMClient, selector: EvidenceSelector) -> Chain | str:
    """The seed question, or why none could be written."""
    ev = seed_sentence(seed, docs, selector)
    if ev is None:
        return "no sentence in the seed's documents names it"
    doc = docs.get(ev.doc_id)
    opening = " ".join((doc.sentences or [])[:2]) if doc and doc.sentences else (doc.text[:300] if doc else "")
    reply = await ask_json(writer, SEED_PROMPT.format(entity=seed.entity, doc_id=ev.doc_id, sentence=ev.text,
                                                      title=(doc.title if doc else "") or "(untitled)",
                                                      opening=opening), ("question", "answer"))
    if reply is None:
        return "the writer's seed question was not JSON with question and answer"
    if reply.get("declined"):
        return f"declined: {reply['declined']}"
    question, answer = str(reply["question"]).strip(), str(reply["answer"]).strip()
    if not (names(ev.text, answer) or contains_phrase(ev.text, answer) or answer_matches(answer, ev.text)):
        return f"the answer {answer!r} is not written in the seed sentence"
    if names(question, answer):
        return "the seed question gives its answer away"
    if not identifies_study(question, doc, ev.text):
        return "the seed question does not identify its study"
    return Chain(seed, question, answer, [ev])


async def add_hop(chain: Chain, search: SearchSubAgent, writer: LLMClient, tried: list[str] | None = None) -> str | None:
    """One anchor-based hop; None on success, else why it was refused (the chain is unchanged then). `tried`
    lists the anchors and failures of earlier attempts: the request states them and asks for another anchor."""
    avoid = ""
    if tried:
        avoid = ("\nEarlier attempts failed: " + "; ".join(tried[-3:]) + ". Pick a different entity from those.")
    prompt = ANCHOR_PROMPT.format(question=chain.question, answer=chain.answer, avoid=avoid)
    reply = await ask_json(writer, prompt, ("anchor",), temperature=0.7 if tried else 0.0)
    if reply is not None and reply.get("declined"):
        return f"declined: {reply['declined']}"
    anchor = str(reply["anchor"]).strip() if reply else ""
    if not anchor or not names(chain.question, anchor):
        return f"anchor {anchor!r} does not occur in the question"
    if answer_matches(chain.answer, anchor) or answer_matches(anchor, chain.answer):
        return f"anchor {anchor!r} is the answer"
    fact = search.find(anchor, exclude=chain.doc_ids)
    if fact is None:
        return f"no other source has a sentence that identifies {anchor!r}"
    reply = await ask_json(writer, REWRITE_PROMPT.format(question=chain.question, anchor=anchor, doc_id=fact.doc_id,
                                                          fact=fact.text), ("description", "question"))
    if reply is None or reply.get("declined"):
        return f"the writer's rewrite for {anchor!r} was not JSON with description and question"
    question, description = str(reply["question"]).strip(), str(reply["description"]).strip()
    if names(question, anchor):
        return f"the rewritten question still names {anchor!r}"
    if names(question, chain.answer):
        return "the rewritten question gives its answer away"
    if not search.finds_document(description, fact.doc_id):
        return f"the description of {anchor!r} does not lead to its source {fact.doc_id} (ambiguous)"
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
            tried: list[str] = []
            for _ in range(max_attempts):
                why = await add_hop(chain, search, writer, tried)
                if why is None:
                    break
                chain.failures.append(why)
                tried.append(why)
            else:
                return f"hop {len(chain.hops) + 1} failed {max_attempts} times (last: {chain.failures[-1]})"
        return chain
    except ProviderError as exc:
        return f"writer failed: {exc}"


async def verify_conceptual(task: Task, writer: LLMClient, search: SearchSubAgent, solver: LLMClient | None = None,
                            agent_config: Any = None, judge: Judge | None = None) -> tuple[Task, list[str]]:
    """Answerable from the evidence, non-trivial without tools (when a solver is given), unique. Answers are
    graded by the judge when one is given, else by `answer_match` (abbreviations, parentheticals, spellings)."""
    from sciresearcher.agent.config import AgentConfig
    from sciresearcher.synth.answer_match import grade_answer_text
    from sciresearcher.synth.verify import no_tool_attempt, verification_of

    passed, failed, votes = [], [], []
    evidence = "\n".join(f"[{i + 1}] ({e.doc_id}) {e.text}" for i, e in enumerate(task.evidence))
    reply = await writer.chat([Message(role="user", content=ANSWERABLE_PROMPT.format(
        evidence=evidence, question=task.question))], temperature=0.0)
    ok = await grade_answer_text(task, reply.message.content or "", judge)
    (passed if ok else failed).append("answerable" if ok else "answerable: the evidence chain does not yield it")
    if solver is not None:
        attempt: SolverVote = await no_tool_attempt(task, solver, agent_config or AgentConfig())
        agrees = attempt.answer is not None and await grade_answer_text(
            task, f"Answer: {attempt.answer}", judge)
        attempt = attempt.model_copy(update={"agrees": agrees})
        votes.append(attempt)
        (failed if agrees else passed).append("non_trivial: answered right without tools" if agrees else "non_trivial")
    hits = search.index.search(task.question, k=5, mode="bm25")
    passages = "\n".join(f"- ({h.doc_id}) {h.text[:600]}" for h in hits) or "(none)"
    unique = await ask_json(writer, UNIQUE_PROMPT.format(question=task.question, answer=task.answer,
                                                          passages=passages), ("other_answer",))
    other = None if unique is None else unique.get("other_answer")
    if unique is None:
        failed.append("unique: the check's reply was not JSON with other_answer")
    elif other not in (None, "", "null", "None") and not answer_matches(task.answer, str(other)):
        failed.append(f"unique: retrieved passages support another answer ({other})")
    else:
        passed.append("unique")
    return task.model_copy(update={"verification": verification_of(passed, failed, votes)}), failed
