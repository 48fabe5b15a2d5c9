"""Resolving what the agent passes to `read` (an id from search results, a DOI, a URL) to a Document.

Order: the local index (exact id, then the same DOI, PMID or URL under another name: the URL `search` prints for
a local document resolves to that document, with no network call), then the first
configured backend that handles the id's namespace (`pmid:`, `pmcid:`, `arxiv:`, `doi:`, ...), then a
plain fetch for DOIs and URLs. Fetched documents are kept in a small in-memory cache for the session,
so reading the same paper for two goals downloads it once. Errors are SourceError/DataError.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from sciresearcher.errors import DataError, SourceError
from sciresearcher.knowledge.fetch import fetch_document
from sciresearcher.knowledge.sources.base import normalise_doi
from sciresearcher.knowledge.sources.http import SourceHttp
from sciresearcher.records import Document

log = logging.getLogger(__name__)


def _url_key(url: str) -> str:
    """A URL as an alias key: no `url:` prefix, scheme, `www.` or trailing slash, lower case."""
    key = url.strip().removeprefix("url:").lower()
    for prefix in ("https://", "http://", "www."):
        key = key.removeprefix(prefix)
    return "url:" + key.rstrip("/")


class DocumentResolver:
    def __init__(self, index: Any | None = None, backends: list[Any] | None = None,
                 http: SourceHttp | None = None, cache_size: int = 64) -> None:
        self.index = index
        self.backends = backends or []
        self._http = http
        self._cache: OrderedDict[str, Document] = OrderedDict()
        self._cache_size = cache_size
        self._alias: dict[str, str] = {}
        if index is not None:
            for d in index.documents:
                if d.doi:
                    self._alias[f"doi:{normalise_doi(d.doi)}"] = d.id
                if d.pmid:
                    self._alias[f"pmid:{d.pmid}"] = d.id
                if d.url:
                    self._alias[_url_key(d.url)] = d.id

    @property
    def http(self) -> SourceHttp:
        if self._http is None:
            self._http = SourceHttp()
        return self._http

    def local(self, ident: str) -> Document | None:
        if self.index is None:
            return None
        doc = self.index.get(ident)
        if doc is None:
            key = ident
            if ident.lower().startswith(("doi:", "10.", "https://doi.org/")):
                key = f"doi:{normalise_doi(ident)}"
            alias = self._alias.get(key) or self._alias.get(_url_key(ident))
            doc = self.index.get(alias) if alias else None
        return doc

    async def resolve(self, ident: str) -> Document:
        ident = ident.strip().strip("'\"<>[]")
        if not ident:
            raise SourceError("no document id given", hint="pass an id from the search results, a DOI or a URL")
        doc = self.local(ident)
        if doc is not None:
            return doc
        if ident in self._cache:
            self._cache.move_to_end(ident)
            return self._cache[ident]
        errors: list[str] = []
        is_web = ident.lower().startswith(("url:", "http://", "https://"))
        if not is_web:
            for backend in self.backends:
                if backend.handles(ident):
                    try:
                        doc = await backend.fetch(ident)
                        break
                    except (SourceError, DataError) as exc:
                        errors.append(f"{backend.name}: {str(exc).splitlines()[0]}")
        if doc is None and (is_web or ident.lower().startswith(("doi:", "10."))):
            try:
                doc = await fetch_document(ident, self.http)
            except (SourceError, DataError) as exc:
                errors.append(str(exc).splitlines()[0])
        if doc is None:
            where = "; ".join(errors) if errors else "not in the local index and no configured source handles it"
            raise SourceError(f"could not get {ident!r}: {where}",
                              hint="use an id exactly as `search` printed it, a DOI (doi:10....) or an http(s) URL")
        self._cache[ident] = doc
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return doc

    def resolve_sync(self, ident: str) -> Document:
        return asyncio.run(self.resolve(ident))
