"""The main agent's `read(doc_id_or_url, goal)` tool: the frozen reader sub-agent.

Steps: resolve the id (local index, configured sources, or a DOI/URL fetch) to the full text; run
three-level evidence selection for the goal (`knowledge/evidence.py`); then, when a reader LLM is
configured, ask it for a short goal-focused summary that quotes the selected passages verbatim with their
locators; without an LLM (or when the LLM call fails) return the selected passages themselves. What the
sub-agent did (the evidence, and the LLM exchange with its usage) is recorded with `record_subcall`, so it
lands in the trajectory's `subcalls` and is never trained on. A document that cannot be read raises
`ToolError` with the text the model sees (the loop counts it as a failed tool call).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sciresearcher.agent.subcalls import record_subcall
from sciresearcher.agent.tools import truncate
from sciresearcher.errors import SciResearcherError, ToolError
from sciresearcher.knowledge.evidence import EvidenceSelector, Selection
from sciresearcher.llm.base import LLMClient
from sciresearcher.records import Document, Evidence, Message, SubCall, Usage

if TYPE_CHECKING:
    from sciresearcher.knowledge.resolve import DocumentResolver

log = logging.getLogger(__name__)

READER_SYSTEM = (
    "You are a careful scientific reader. You get a reading goal and numbered passages selected from one "
    "document. Write a short answer to the goal (at most 150 words) using only these passages. Support every "
    "claim with a verbatim quote in double quotes followed by its label and locator in brackets, e.g. "
    "\"...\" [S2; paragraph 3, sentence 1]. Keep numbers and units exactly as written. If the passages do "
    "not answer the goal, say so plainly and say what they do contain. No outside knowledge."
)


def _label(ev: Evidence) -> str:
    return ev.locator.label()


def format_selection(doc: Document, goal: str, sel: Selection, *, paragraphs: bool = True) -> str:
    head = f"Document: {doc.id}" + (f" | {doc.title}" if doc.title else "") + (f" ({doc.year})" if doc.year else "")
    lines = [head]
    if doc.url:
        lines.append(f"URL: {doc.url}")
    lines.append(f"Goal: {goal}")
    if not sel.sentences and not sel.paragraphs:
        lines.append("The document has no readable text.")
        return "\n".join(lines)
    lines.append("\nMost relevant sentences:")
    for i, ev in enumerate(sel.sentences, 1):
        lines.append(f"[S{i}] ({_label(ev)}) {ev.text}")
    if paragraphs and sel.paragraphs:
        lines.append("\nMost relevant paragraphs:")
        for i, ev in enumerate(sel.paragraphs, 1):
            lines.append(f"[P{i}] ({_label(ev)}) {ev.text}")
    return "\n".join(lines)


def _cut(text: str, max_chars: int) -> str:
    return truncate(text, max_chars)[0]


def make_read_tool(resolver: DocumentResolver, llm: LLMClient | None = None, *, selector: EvidenceSelector | None = None,
                   max_chars: int = 6000, max_tokens: int = 600, sampling: dict[str, Any] | None = None,
                   paragraphs: bool = True) -> Callable[..., Any]:
    """Builds the `read` tool over `resolver` (local index, sources, fetch); `llm` writes summaries when given."""
    selector = selector or EvidenceSelector()
    sampling = {"temperature": 0.0, "max_tokens": max_tokens, **(sampling or {})}

    async def read(doc_id_or_url: str, goal: str) -> str:
        """Read a document and extract the evidence it holds for a goal (a reader sub-agent does this).

        Returns the most relevant sentences and paragraphs with their locations (section, paragraph,
        sentence), or a short summary with verbatim quotes when a reader model is configured.

        Args:
            doc_id_or_url: An id exactly as printed by `search` (e.g. "pmid:12345", "doi:10.1000/xyz"), a DOI, or an http(s) URL.
            goal: What you want to learn from this document, e.g. "the reported Km of the enzyme for glucose".
        """
        started = time.perf_counter()
        goal = (goal or "").strip() or "the main findings"
        try:
            doc = await resolver.resolve(doc_id_or_url)
        except SciResearcherError as exc:
            msg = f"Could not read {doc_id_or_url!r}: {exc}"
            record_subcall(SubCall(tool="read", kind="fetch", input=doc_id_or_url, output=msg, error=str(exc),
                                   elapsed_s=time.perf_counter() - started))
            raise ToolError(msg) from exc
        sel = await asyncio.to_thread(selector.select, goal, [doc])
        evidence = sel.sentences + sel.paragraphs
        passages = format_selection(doc, goal, sel, paragraphs=paragraphs)
        if llm is None:
            record_subcall(SubCall(tool="read", kind="evidence", input=f"{doc.id} | {goal}", output=passages,
                                   evidence=evidence, elapsed_s=time.perf_counter() - started))
            return _cut(passages, max_chars)
        messages = [Message.system(READER_SYSTEM), Message.user(f"Goal: {goal}\n\n{passages}")]
        try:
            result = await llm.chat(messages, **sampling)
        except Exception as exc:  # noqa: BLE001 - a failed sub-agent call must not end the trajectory
            log.warning("reader LLM failed: %s", exc)
            record_subcall(SubCall(tool="read", kind="llm", input=f"{doc.id} | {goal}", output=passages,
                                   messages=messages, evidence=evidence, error=f"{type(exc).__name__}: {exc}",
                                   elapsed_s=time.perf_counter() - started))
            return _cut(f"(reader model unavailable: {type(exc).__name__}; selected passages follow)\n"
                            + passages, max_chars)
        summary = (result.message.content or "").strip()
        record_subcall(SubCall(tool="read", kind="llm", input=f"{doc.id} | {goal}", output=summary,
                               messages=messages + [result.message], evidence=evidence,
                               usage=result.usage or Usage(), elapsed_s=time.perf_counter() - started))
        head = f"Document: {doc.id}" + (f" | {doc.title}" if doc.title else "") + (f"\nURL: {doc.url}" if doc.url else "")
        quotes = "\n".join(f"[S{i}] ({_label(ev)}) {ev.text}" for i, ev in enumerate(sel.sentences, 1))
        text = f"{head}\nGoal: {goal}\n\nSummary:\n{summary or '(empty summary)'}\n\nSelected sentences:\n{quotes}"
        return _cut(text, max_chars)

    read.__name__ = "read"
    return read
