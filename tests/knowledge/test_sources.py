"""Scholarly and web backends replayed from recorded responses (never live), retries, cache, blocklist."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from sciresearcher.errors import SourceError
from sciresearcher.knowledge.config import KnowledgeConfig
from sciresearcher.knowledge.sources import BACKENDS, make_backends
from sciresearcher.knowledge.sources.biomed import NCBI, EuropePMC
from sciresearcher.knowledge.sources.http import retry_after_seconds
from sciresearcher.knowledge.sources.scholarly import (
    ArXiv,
    Crossref,
    OpenAlex,
    SemanticScholar,
    openalex_abstract,
)
from sciresearcher.knowledge.sources.web import Brave, SearXNG, Serper, Tavily

JSON, XML = "application/json", "application/xml"


def run(coro):
    return asyncio.run(coro)


def test_europepmc_search_fetch_and_references(make_http, recorded):
    calls: list[httpx.Request] = []
    http = make_http({
        "www.ebi.ac.uk/europepmc/webservices/rest/search": (200, recorded("europepmc_search.json"), JSON),
        "www.ebi.ac.uk/europepmc/webservices/rest/PMC1234567/fullTextXML": (200, recorded("europepmc_fulltext.xml"), XML),
        "www.ebi.ac.uk/europepmc/webservices/rest/MED/15710326/references": (200, recorded("europepmc_references.json"), JSON),
    }, calls)
    epmc = EuropePMC(http)
    hits = run(epmc.search("imatinib ABL1 IC50", k=5))
    assert [h.id for h in hits] == ["pmcid:PMC1234567", "ppr:PPR123456"]
    assert hits[0].title == "Characterization of imatinib binding to ABL1 kinase."
    assert hits[0].year == 2005 and hits[0].doi == "10.1158/0008-5472.can-04-3123"
    assert calls[0].url.params["resultType"] == "core" and calls[0].url.params["format"] == "json"
    doc = run(epmc.fetch("pmcid:PMC1234567"))
    assert doc.sections[0].title == "Abstract"
    assert [s.title for s in doc.sections] == ["Abstract", "Introduction", "Results"]
    assert "0.25 µM" in doc.text and doc.year == 2005 and doc.pmid == "15710326"
    refs = run(epmc.references("pmid:15710326"))
    assert refs[0].id == "pmid:11287972" and refs[0].year == 2001


def test_ncbi_esearch_esummary_efetch_elink(make_http, recorded):
    base = "eutils.ncbi.nlm.nih.gov/entrez/eutils/"
    calls: list[httpx.Request] = []
    http = make_http({
        base + "esearch.fcgi": (200, recorded("ncbi_esearch.json"), JSON),
        base + "esummary.fcgi": (200, recorded("ncbi_esummary.json"), JSON),
        base + "efetch.fcgi": (200, recorded("ncbi_efetch.xml"), XML),
        base + "elink.fcgi": (200, recorded("ncbi_elink.json"), JSON),
    }, calls)
    ncbi = NCBI(http)
    hits = run(ncbi.search("imatinib ABL1"))
    assert [h.id for h in hits] == ["pmid:15710326", "pmid:11287972"]
    assert hits[0].doi == "10.1158/0008-5472.can-04-3123" and hits[1].year == 2001
    doc = run(ncbi.fetch("pmid:15710326"))
    assert doc.title.startswith("Characterization") and "RESULTS: The IC50" in doc.text and doc.year == 2005
    assert run(ncbi.elink("15710326")) == ["1234567"]
    assert all(c.url.params["tool"] == "sciresearcher" for c in calls)


def test_ncbi_key_comes_from_named_env_var(make_http, recorded, monkeypatch):
    monkeypatch.setenv("MY_NCBI_KEY", "secret-123")
    calls: list[httpx.Request] = []
    http = make_http({"eutils.ncbi.nlm.nih.gov/": (200, recorded("ncbi_esearch.json"), JSON)}, calls,
                     key_envs={"ncbi": "MY_NCBI_KEY"})
    run(NCBI(http).search("x"))
    assert calls[0].url.params["api_key"] == "secret-123"
    cached = "".join(p.read_text() for p in http.cache_dir.rglob("*.json"))
    assert "secret-123" not in cached  # keys never reach the cache


def test_arxiv_atom(make_http, recorded):
    http = make_http({"export.arxiv.org/api/query": (200, recorded("arxiv_query.xml"), "application/atom+xml")})
    hits = run(ArXiv(http).search("protein folding", k=2))
    assert hits[0].id == "arxiv:2401.01234v2" and hits[0].title == "Learning protein folding energy landscapes"
    assert hits[0].year == 2024 and hits[0].doi == "10.1000/example.2024"
    doc = run(ArXiv(http).fetch("arxiv:2401.01234v2"))
    assert "1.2 Å RMSD" in doc.text and doc.metadata["pdf_url"].endswith("2401.01234v2")


def test_openalex_semantic_scholar_crossref_unpaywall(make_http, recorded, monkeypatch):
    monkeypatch.setenv("SCIRESEARCHER_EMAIL", "me@example.org")
    http = make_http({
        "api.openalex.org/works": (200, recorded("openalex_works.json"), JSON),
        "api.semanticscholar.org/graph/v1/paper/search": (200, recorded("s2_search.json"), JSON),
        "api.crossref.org/works/10.1371": (200, recorded("crossref_work.json"), JSON),
        "api.crossref.org/works": (200, recorded("crossref_works.json"), JSON),
        "api.unpaywall.org/v2/": (200, recorded("unpaywall.json"), JSON),
    })
    oa = run(OpenAlex(http).search("open access", k=3))
    assert oa[0].id == "doi:10.7717/peerj.4375" and oa[0].snippet == "Despite growing interest in Open Access"
    assert oa[0].url == "https://peerj.com/articles/4375.pdf" and oa[0].year == 2018
    s2 = run(SemanticScholar(http).search("brain atlas"))
    assert [h.id for h in s2] == ["doi:10.1038/nrn3241", "s2:abc"] and s2[0].url == "https://example.org/atlas.pdf"
    cr = run(Crossref(http).search("stem cell debate"))
    assert cr[0].id == "doi:10.1371/journal.pbio.0020188" and cr[0].year == 2004
    assert "ethicists" in cr[0].snippet and "<jats" not in cr[0].snippet
    doc = run(Crossref(http).fetch("doi:10.1371/journal.pbio.0020188"))
    assert doc.metadata["oa_url"].endswith("type=printable") and doc.title.startswith("Taking")
    assert openalex_abstract({"b": [1], "a": [0, 2]}) == "a b a"


def test_web_backends_and_url_blocklist(make_http, recorded, monkeypatch):
    for env in ("SERPER_API_KEY", "TAVILY_API_KEY", "BRAVE_API_KEY"):
        monkeypatch.setenv(env, "k")
    calls: list[httpx.Request] = []
    http = make_http({
        "google.serper.dev/search": (200, recorded("serper_search.json"), JSON),
        "api.tavily.com/search": (200, recorded("tavily_search.json"), JSON),
        "api.search.brave.com/res/v1/web/search": (200, recorded("brave_search.json"), JSON),
        "searx.local/search": (200, recorded("searxng_search.json"), JSON),
    }, calls, blocklist=[r"huggingface\.co/datasets/cais/hle"], searxng_url="http://searx.local")
    serper = run(Serper(http).search("imatinib IC50", k=5))
    assert [h.url for h in serper] == ["https://en.wikipedia.org/wiki/Imatinib", "https://example.org/ic50"]
    assert serper[1].year == 2021 and serper[0].id == "url:https://en.wikipedia.org/wiki/Imatinib"
    assert calls[0].method == "POST" and calls[0].headers["X-API-KEY"] == "k"
    assert run(Tavily(http).search("imatinib"))[0].url == "https://example.org/imatinib"
    brave = run(Brave(http).search("imatinib"))
    assert brave[0].title == "Imatinib | IC50" and brave[0].year == 2022
    assert run(SearXNG(http).search("imatinib"))[0].url == "https://example.org/searx-imatinib"


def test_missing_key_is_a_clear_error(make_http, monkeypatch):
    monkeypatch.delenv("SERPER_API_KEY", raising=False)
    with pytest.raises(SourceError, match="SERPER_API_KEY"):
        run(Serper(make_http({})).search("x"))


def test_429_with_retry_after_then_success(make_http, recorded, monkeypatch):
    monkeypatch.setattr("sciresearcher.llm.retry.random.uniform", lambda low, high: high)  # the jitter's top
    state = {"n": 0}
    sleeps: list[float] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        state["n"] += 1
        if state["n"] == 1:
            return httpx.Response(429, headers={"Retry-After": "7"})
        if state["n"] == 2:
            return httpx.Response(503)
        return httpx.Response(200, content=recorded("ncbi_esearch.json"), headers={"content-type": JSON})

    http = make_http({"eutils.ncbi.nlm.nih.gov/entrez/eutils/esearch.fcgi": flaky,
                      "eutils.ncbi.nlm.nih.gov/entrez/eutils/esummary.fcgi": (200, recorded("ncbi_esummary.json"), JSON)},
                     sleeps=sleeps, backoff_base_s=0.5)
    hits = run(NCBI(http).search("x"))
    assert len(hits) == 2 and state["n"] == 3
    sleeps = [s for s in sleeps if s > 0.01]  # drop the rate limiter's millisecond waits
    assert sleeps[0] == 7.0  # honoured Retry-After
    assert sleeps[1] == 1.0  # full-jitter backoff for the 503: at most base x 2^attempt (llm/retry.py)


def test_5xx_exhausted_is_reported_not_hung(make_http):
    sleeps: list[float] = []
    http = make_http({"www.ebi.ac.uk/": (502, b"bad gateway", "text/plain")}, sleeps=sleeps, max_retries=2)
    with pytest.raises(SourceError, match="failed after 3 attempts .*HTTP 502"):
        run(EuropePMC(http).search("x"))
    assert len([s for s in sleeps if s > 0.01]) == 2


def test_4xx_is_not_retried(make_http):
    calls: list[httpx.Request] = []
    http = make_http({"api.crossref.org/": (404, b"Resource not found.", "text/plain")}, calls)
    with pytest.raises(SourceError, match="HTTP 404"):
        run(Crossref(http).fetch("doi:10.1/nothing"))
    assert len(calls) == 1


def test_disk_cache_serves_repeat_requests(make_http, recorded):
    calls: list[httpx.Request] = []
    http = make_http({"api.openalex.org/works": (200, recorded("openalex_works.json"), JSON)}, calls)
    first = run(OpenAlex(http).search("q"))
    second = run(OpenAlex(http).search("q"))
    assert first == second and len(calls) == 1


def test_query_blocklist(make_http):
    http = make_http({}, blocklist=["humanity'?s last exam"])
    with pytest.raises(SourceError, match="blocklist"):
        run(EuropePMC(http).search("Humanity's Last Exam answers"))


def test_retry_after_parsing():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None


def test_registry_builds_configured_backends():
    backends = make_backends(KnowledgeConfig(backends=["europepmc", "arxiv", "serper"]))
    assert [b.name for b in backends] == ["europepmc", "arxiv", "serper"]
    assert set(BACKENDS) == {"europepmc", "ncbi", "arxiv", "openalex", "semanticscholar", "crossref",
                             "serper", "tavily", "brave", "searxng"}
