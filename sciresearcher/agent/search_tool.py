"""The main agent's `search(query)` tool: ranked hits from the local index and the configured sources.

`make_search_tool(index, backends, ...)` returns an async callable named `search` whose text output lists
hits as `[n] id (year) title / url / snippet`, local index first, then each source in configured order,
with duplicate ids removed. A failing source is reported in one line and the others still answer; a
query matching the blocklist is refused. Each call is recorded as a `search` sub-call. A call that cannot
search (empty or blocked query, nothing configured, every source failed) raises `ToolError` with the text
the model sees, so the loop counts it as a failed call. Reading a hit is `read`'s job.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from sciresearcher.agent.subcalls import record_subcall
from sciresearcher.errors import SciResearcherError, ToolError
from sciresearcher.knowledge.sources.base import SearchHit
from sciresearcher.knowledge.sources.http import Blocklist
from sciresearcher.records import Evidence, SubCall

log = logging.getLogger(__name__)

NOT_CONFIGURED = (
    "No search source is configured. Build a local index with `sciresearcher index build SOURCES... --out DIR` "
    "and set knowledge.index=DIR, or enable online sources with knowledge.backends=[europepmc, ncbi, arxiv, "
    "openalex, semanticscholar, crossref, serper, tavily, brave, searxng]."
)


def format_hits(hits: Sequence[SearchHit], max_snippet: int = 300) -> str:
    lines = []
    for n, h in enumerate(hits, 1):
        year = f" ({h.year})" if h.year else ""
        lines.append(f"[{n}] {h.id}{year} {h.title or '(untitled)'}")
        if h.url:
            lines.append(f"    {h.url}")
        if h.snippet:
            text = h.snippet if len(h.snippet) <= max_snippet else h.snippet[: max_snippet - 1] + "…"
            lines.append(f"    {text}")
    return "\n".join(lines)


def make_search_tool(index: Any | None = None, backends: Sequence[Any] = (), *, top_k: int = 8,
                     mode: str = "hybrid", weight: float = 0.5, blocklist: Sequence[str] = (),
                     per_backend: int | None = None, snippet_chars: int = 300) -> Callable[..., Any]:
    """Builds the `search` tool over a `LocalIndex` and/or `SearchBackend`s."""
    block = Blocklist(list(blocklist))
    per_source = per_backend or top_k

    def _local(query: str) -> list[SearchHit]:
        return [SearchHit(id=h.doc_id, title=h.title, snippet=h.snippet, year=h.year, url=h.url,
                          source="local", score=h.score) for h in index.search(query, k=top_k, mode=mode, weight=weight)]

    async def search(query: str) -> str:
        """Search the scientific literature (local index and configured scholarly/web sources).

        Returns ranked hits with their id, year, title, url and a snippet; pass an id to `read` to get
        the evidence a document holds for your goal.

        Args:
            query: Keywords or a question, e.g. "IC50 of imatinib against ABL1 kinase".
        """
        started = time.perf_counter()
        query = (query or "").strip()
        if not query:
            raise ToolError("Empty query: give keywords or a question to search for.")
        if index is None and not backends:
            raise ToolError(NOT_CONFIGURED)
        if block.match(query):
            raise ToolError("This query is blocked by the configured blocklist; rephrase it without the blocked terms.")
        notes: list[str] = []
        hits: list[SearchHit] = []
        if index is not None:
            try:
                hits.extend(await asyncio.to_thread(_local, query))
            except SciResearcherError as exc:
                notes.append(f"local index: failed ({str(exc).splitlines()[0]})")
        results = await asyncio.gather(*(b.search(query, per_source) for b in backends), return_exceptions=True)
        for backend, res in zip(backends, results):
            if isinstance(res, BaseException):
                log.warning("search backend %s failed: %s", backend.name, res)
                notes.append(f"{backend.name}: failed ({str(res).splitlines()[0] if str(res) else type(res).__name__})")
            else:
                hits.extend(res)
        seen: set[str] = set()
        unique = []
        for h in hits:
            if h.id in seen or (h.url and block.match(h.url)):
                continue
            seen.add(h.id)
            unique.append(h)
        text = format_hits(unique, snippet_chars) if unique else f"No results for {query!r}. Try other keywords or synonyms."
        if notes:
            text += "\n\nSources that failed: " + "; ".join(notes)
        record_subcall(SubCall(
            tool="search", kind="search", input=query, output=text, elapsed_s=time.perf_counter() - started,
            evidence=[Evidence(doc_id=h.id, level="document", text=h.snippet or h.title, score=h.score or 0.0,
                               url=h.url, title=h.title or None) for h in unique[:top_k]],
            error="; ".join(notes) or None,
        ))
        if notes and not unique and len(notes) == len(backends) + (index is not None):
            raise ToolError(text)  # every source failed: a failed call, not an empty result
        return text

    search.__name__ = "search"
    return search
