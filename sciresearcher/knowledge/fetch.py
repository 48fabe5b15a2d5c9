"""Fetching a URL or DOI to a Document: HTML, PDF or JATS XML, chosen by sniffing the content.

`fetch_document("url:https://..." | "https://..." | "doi:10.x/y", http)` downloads with the shared
`SourceHttp` (size cap `max_fetch_bytes`, a total deadline, retries, blocklist, and the SSRF guard of
`netguard.py`: internal addresses are refused on every hop unless `fetch_allow` lists them), then looks at the bytes and the
content type: `%PDF` -> pymupdf, `<article` JATS -> the JATS parser, HTML -> trafilatura, plain text as
is. A DOI goes to its Unpaywall open-access copy when a contact email is configured, else to doi.org.
Failures raise `SourceError`/`DataError`; the read tool turns them into text for the agent.
"""

from __future__ import annotations

import logging
import os
from urllib.parse import quote

from sciresearcher.errors import DataError, SourceError
from sciresearcher.knowledge.loaders import parse_html, parse_jats, parse_pdf_bytes
from sciresearcher.knowledge.sources.base import normalise_doi
from sciresearcher.knowledge.sources.http import CachedResponse, SourceHttp
from sciresearcher.records import Document

log = logging.getLogger(__name__)


def sniff(resp: CachedResponse) -> str:
    """pdf | jats | html | text, from the first bytes and the Content-Type header."""
    head = resp.content[:2048].lstrip()
    ctype = resp.headers.get("content-type", "").lower()
    if head.startswith(b"%PDF") or "application/pdf" in ctype:
        return "pdf"
    lower = head.lower()
    if b"<html" in lower or b"<!doctype html" in lower or "html" in ctype:
        return "html"
    body = resp.content[:20000].lower()
    if b"<article-meta" in body or (b"<article" in lower and b"<body" not in lower) or b"jats" in lower:
        return "jats"
    return "text"


def to_document(resp: CachedResponse, doc_id: str) -> Document:
    kind = sniff(resp)
    if kind == "pdf":
        return parse_pdf_bytes(resp.content, doc_id=doc_id, url=resp.url, source="web")
    if kind == "jats":
        doc = parse_jats(resp.content, source="web")
        return doc.model_copy(update={"id": doc_id, "url": doc.url or resp.url})
    if kind == "html":
        return parse_html(resp.text, doc_id=doc_id, url=resp.url, source="web")
    text = resp.text.strip()
    if not text:
        raise DataError(f"{resp.url} returned an empty body")
    return Document(id=doc_id, title=resp.url, text=text, url=resp.url, source="web")


async def fetch_document(doc_id_or_url: str, http: SourceHttp) -> Document:
    """The Document behind a URL (`url:` prefix optional) or a DOI."""
    ident = doc_id_or_url.strip()
    if ident.lower().startswith("doi:") or ident.lower().startswith("10."):
        doi = normalise_doi(ident)
        email = os.environ.get(http.config.email_env)
        url = None
        if email:
            try:
                meta = await http.get(f"https://api.unpaywall.org/v2/{quote(doi or '', safe='/')}", params={"email": email})
                best = meta.json().get("best_oa_location") or {}
                url = best.get("url_for_pdf") or best.get("url")
            except SourceError as exc:
                log.info("unpaywall lookup failed for %s: %s", doi, exc)
        url = url or f"https://doi.org/{doi}"
        resp = await http.get(url, cache=True)
        return to_document(resp, f"doi:{doi}").model_copy(update={"doi": doi})
    url = ident[4:] if ident.lower().startswith("url:") else ident
    if not url.lower().startswith(("http://", "https://")):
        raise SourceError(f"cannot fetch {ident!r}: not a URL or DOI",
                          hint="give an id from search results, a DOI (doi:10....) or an http(s) URL")
    resp = await http.get(url, cache=True)
    return to_document(resp, f"url:{url}")
