"""The agent's `search` and `read` tools, the reader sub-agent, and `agent.toolbox.knowledge_tools`."""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sciresearcher.agent.read_tool import make_read_tool
from sciresearcher.agent.search_tool import NOT_CONFIGURED, make_search_tool
from sciresearcher.agent.subcalls import collect_subcalls
from sciresearcher.agent.toolbox import knowledge_tools
from sciresearcher.agent.tools import tool_schema
from sciresearcher.errors import ToolError
from sciresearcher.knowledge.config import KnowledgeConfig
from sciresearcher.knowledge.evidence import EvidenceSelector
from sciresearcher.knowledge.resolve import DocumentResolver
from sciresearcher.knowledge.sources.biomed import EuropePMC
from sciresearcher.testing import ScriptedLLM

JSON = "application/json"
LEXICAL = EvidenceSelector(use_dense=False)


def run(coro):
    return asyncio.run(coro)


def failed(coro) -> str:
    """The text of a tool call that must fail: tools raise ToolError with the text the model sees."""
    with pytest.raises(ToolError) as info:
        asyncio.run(coro)
    return str(info.value)


def test_search_tool_over_the_local_index_records_a_subcall(bm25_index, scifact_docs):
    search = make_search_tool(bm25_index, top_k=3, mode="bm25")
    assert search.__name__ == "search"
    with collect_subcalls() as subs:
        text = run(search(scifact_docs[5].title))
    assert text.startswith(f"[1] {scifact_docs[5].id}") and scifact_docs[5].title in text
    assert text.count("\n[") == 2  # three hits
    assert subs[0].tool == "search" and subs[0].evidence[0].doc_id == scifact_docs[5].id


def test_search_without_sources_explains_how_to_configure():
    (search, read) = knowledge_tools(KnowledgeConfig())
    assert failed(search("p53")) == NOT_CONFIGURED and "index build" in NOT_CONFIGURED
    assert "Could not read" in failed(read("pmid:1", "anything"))
    assert [t.__name__ for t in (search, read)] == ["search", "read"]
    read_schema = tool_schema(read)["function"]
    assert read_schema["name"] == "read" and read_schema["parameters"]["required"] == ["doc_id_or_url", "goal"]
    assert tool_schema(search)["function"]["parameters"]["properties"]["query"]["type"] == "string"


def test_search_reports_a_failing_source_and_keeps_the_others(make_http, recorded):
    http = make_http({"www.ebi.ac.uk/": (200, recorded("europepmc_search.json"), JSON),
                      "api.openalex.org/": (503, b"down", "text/plain")}, max_retries=1)
    from sciresearcher.knowledge.sources.scholarly import OpenAlex

    search = make_search_tool(None, [EuropePMC(http), OpenAlex(http)], blocklist=["forbidden topic"])
    text = run(search("imatinib"))
    assert "[1] pmcid:PMC1234567 (2005) Characterization of imatinib binding" in text
    assert "Sources that failed: openalex: failed (api.openalex.org failed after 2 attempts (HTTP 503)" in text
    assert "blocked" in failed(search("a forbidden topic"))
    assert failed(search("  ")).startswith("Empty query")


def test_read_without_llm_returns_selected_passages(bm25_index, scifact_docs):
    doc = next(d for d in scifact_docs if d.sentences and len(d.sentences) > 4)
    read = make_read_tool(DocumentResolver(bm25_index), None, selector=LEXICAL)
    with collect_subcalls() as subs:
        text = run(read(doc.id, doc.sentences[2]))
    assert text.startswith(f"Document: {doc.id} | {doc.title}")
    assert "Most relevant sentences:\n[S1] (section 0, paragraph 0, sentence 2)" in text
    assert subs[0].kind == "evidence" and subs[0].evidence[0].locator.sentence == 2


def test_read_with_reader_llm_summarises_and_records_the_exchange(bm25_index, scifact_docs):
    doc = scifact_docs[10]
    llm = ScriptedLLM(['The abstract says "' + doc.sentences[0][:40] + '" [S1; paragraph 0, sentence 0].'])
    read = make_read_tool(DocumentResolver(bm25_index), llm, selector=LEXICAL)
    with collect_subcalls() as subs:
        text = run(read(doc.id, "main finding"))
    assert "Summary:\nThe abstract says" in text and "Selected sentences:\n[S1]" in text
    (sub,) = subs
    assert sub.tool == "read" and sub.kind == "llm" and sub.usage.prompt_tokens > 0
    assert [m.role for m in sub.messages] == ["system", "user", "assistant"]
    assert "Goal: main finding" in sub.messages[1].content and sub.evidence
    assert llm.requests[0].sampling["temperature"] == 0.0


def test_read_falls_back_to_passages_when_the_reader_llm_fails(bm25_index, scifact_docs):
    read = make_read_tool(DocumentResolver(bm25_index), ScriptedLLM([TimeoutError("slow")]), selector=LEXICAL)
    with collect_subcalls() as subs:
        text = run(read(scifact_docs[0].id, "anything"))
    assert text.startswith("(reader model unavailable: TimeoutError") and "Most relevant sentences" in text
    assert subs[0].error.startswith("TimeoutError")


def test_read_truncates_with_a_marker(bm25_index, scifact_docs):
    read = make_read_tool(DocumentResolver(bm25_index), None, selector=LEXICAL, max_chars=500)
    text = run(read(scifact_docs[0].id, "anything"))
    assert "[... output truncated:" in text and len(text) < 600


def test_read_resolves_backend_ids(make_http, recorded):
    http = make_http({"www.ebi.ac.uk/europepmc/webservices/rest/PMC1234567/fullTextXML":
                      (200, recorded("europepmc_fulltext.xml"), "application/xml")})
    read = make_read_tool(DocumentResolver(None, [EuropePMC(http)], http), None, selector=LEXICAL)
    text = run(read("pmcid:PMC1234567", "What is the IC50 of imatinib against the T315I mutant?"))
    assert "T315I mutant had an IC50 above 10 µM" in text.split("Most relevant paragraphs")[0]


@pytest.fixture
def local_site(tmp_path: Path) -> Iterator[str]:
    import pymupdf

    (tmp_path / "page.html").write_text(
        "<html><head><title>Tern facts</title></head><body><article><h1>Arctic tern</h1>"
        "<p>The Arctic tern has the longest migration of any animal, about 70,900 km each year.</p>"
        "<p>It breeds in the Arctic and winters in the Antarctic.</p></article></body></html>")
    pdf = pymupdf.open()
    pdf.new_page().insert_text((72, 72), "Glucokinase Km for glucose was 8 mM.")
    pdf.save(str(tmp_path / "paper.pdf"))

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(tmp_path), **kw)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_read_fetches_html_and_pdf_urls_from_a_real_local_server(local_site: str, tmp_path: Path):
    config = KnowledgeConfig(cache_dir=tmp_path / "c", evidence={"use_dense": False},
                             fetch_allow=["127.0.0.1"])  # a local server is internal: opted in
    _, read = knowledge_tools(config)
    text = run(read(f"{local_site}/page.html", "How far does the Arctic tern migrate each year?"))
    assert "70,900 km" in text.split("\n[S2]")[0]
    text = run(read(f"url:{local_site}/paper.pdf", "glucokinase Km"))
    assert "8 mM" in text
    assert "Could not read" in failed(read(f"{local_site}/missing.html", "x"))
    assert "HTTP 404" in failed(read(f"{local_site}/missing.html", "x"))


def test_build_tools_with_an_index_path(bm25_index, scifact_docs):
    config = KnowledgeConfig(index=bm25_index.path, mode="bm25", top_k=2, evidence={"use_dense": False})
    search, read = knowledge_tools(config)
    assert scifact_docs[2].id in run(search(scifact_docs[2].title)).splitlines()[0]
    assert run(read(scifact_docs[2].id, "results")).startswith(f"Document: {scifact_docs[2].id}")


def test_httpx_mock_transport_never_needs_network():
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"ok": True}))
    assert httpx.Client(transport=transport).get("https://example.org").json() == {"ok": True}


def test_agent_loop_uses_search_and_read_and_records_subcalls(bm25_index, scifact_docs):
    from sciresearcher.agent.loop import run_agent
    from sciresearcher.testing import final_answer_text, tool_call_message

    doc = scifact_docs[8]
    config = KnowledgeConfig(index=bm25_index.path, mode="bm25", evidence={"use_dense": False})
    reader = ScriptedLLM(['It states "' + doc.sentences[0][:30] + '" [S1].'])
    tools = knowledge_tools(config, reader)
    main = ScriptedLLM([
        tool_call_message("search", {"query": doc.title}),
        tool_call_message("read", {"doc_id_or_url": doc.id, "goal": "main finding"}),
        final_answer_text("done"),
    ])
    traj = run(run_agent("What does the paper find?", main, tools))
    assert traj.status == "ok" and traj.final.answer == "done"
    tool_msgs = [m.content for m in traj.messages if m.role == "tool"]
    assert tool_msgs[0].startswith(f"[1] {doc.id}") and "Summary:\nIt states" in tool_msgs[1]
    assert [(s.tool, s.kind) for s in traj.subcalls] == [("search", "search"), ("read", "llm")]
    assert traj.subcalls[1].tool_call_id is not None and traj.subcalls[1].usage.total_tokens > 0


def test_read_resolves_the_url_search_printed_for_a_local_document_without_the_network(tmp_path: Path):
    """The URL a local hit shows resolves to the indexed document: no fetch, no retries."""
    from sciresearcher.knowledge.index_build import build_index
    from sciresearcher.records import Document

    doc = Document(id="pmid:42", title="Glucokinase kinetics", text="The Km of glucokinase for glucose is 8 mM.",
                   url="https://pubmed.ncbi.nlm.nih.gov/42/")
    index = build_index([doc], tmp_path / "idx", dense=False)
    config = KnowledgeConfig(index=index.path, mode="bm25", max_retries=0, timeout_s=0.01,
                             evidence={"use_dense": False})
    search, read = knowledge_tools(config)
    assert "https://pubmed.ncbi.nlm.nih.gov/42/" in run(search("glucokinase Km"))
    for ident in ("https://pubmed.ncbi.nlm.nih.gov/42/", "http://pubmed.ncbi.nlm.nih.gov/42",
                  "url:https://pubmed.ncbi.nlm.nih.gov/42/"):
        assert "8 mM" in run(read(ident, "Km of glucokinase")), ident
