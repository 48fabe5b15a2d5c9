"""Fixtures for the knowledge tests: small real corpora from shared data, small indexes, recorded HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from sciresearcher.records import Document

RECORDED = Path(__file__).parent / "recorded"


def _docs(path: Path, n: int) -> list[Document]:
    from sciresearcher.knowledge.loaders import iter_jsonl

    out = []
    for doc in iter_jsonl(path):
        out.append(doc)
        if len(out) == n:
            break
    return out


@pytest.fixture(scope="session")
def scifact_docs(shared_data: Path) -> list[Document]:
    """The first 60 SciFact abstracts (with their sentence lists)."""
    return _docs(shared_data / "corpus" / "scifact.jsonl", 60)


@pytest.fixture(scope="session")
def plos_docs(shared_data: Path) -> list[Document]:
    """Three PLOS full-text papers with sections."""
    return _docs(shared_data / "corpus" / "plos.jsonl", 3)


@pytest.fixture(scope="session")
def bm25_index(tmp_path_factory: pytest.TempPathFactory, scifact_docs: list[Document]):
    from sciresearcher.knowledge.index_build import build_index

    return build_index(scifact_docs, tmp_path_factory.mktemp("idx") / "bm25", dense=False)


@pytest.fixture(scope="session")
def dense_index(tmp_path_factory: pytest.TempPathFactory, scifact_docs: list[Document]):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("faiss")
    from sciresearcher.knowledge.index_build import build_index

    return build_index(scifact_docs[:30], tmp_path_factory.mktemp("idx") / "dense", dense=True)


@pytest.fixture
def recorded() -> Callable[[str], bytes]:
    """Reads a recorded API response from tests/knowledge/recorded/."""
    return lambda name: (RECORDED / name).read_bytes()


Route = tuple[int, bytes, str] | Callable[[httpx.Request], httpx.Response]


def router(routes: dict[str, Route], calls: list[httpx.Request] | None = None) -> httpx.MockTransport:
    """A MockTransport answering by the longest matching `host/path` prefix; unknown URLs get 404."""

    def handle(request: httpx.Request) -> httpx.Response:
        if calls is not None:
            calls.append(request)
        key = f"{request.url.host}{request.url.path}"
        match = max((k for k in routes if key.startswith(k)), key=len, default=None)
        if match is None:
            return httpx.Response(404, text=f"no recorded response for {key}")
        route = routes[match]
        if callable(route):
            return route(request)
        status, body, ctype = route
        return httpx.Response(status, content=body, headers={"content-type": ctype})

    return httpx.MockTransport(handle)


@pytest.fixture
def make_http(tmp_path: Path):
    """Builds a SourceHttp on a MockTransport with no real sleeping (sleeps are recorded)."""
    from sciresearcher.knowledge.config import KnowledgeConfig
    from sciresearcher.knowledge.sources.http import SourceHttp

    def make(routes: dict[str, Route], calls: list | None = None, sleeps: list | None = None, **cfg) -> SourceHttp:
        async def fake_sleep(s: float) -> None:
            if sleeps is not None:
                sleeps.append(s)

        cfg.setdefault("cache_dir", tmp_path / "cache")
        cfg.setdefault("default_rate_limit", 1000.0)
        cfg.setdefault("rate_limits", {})
        return SourceHttp(KnowledgeConfig(**cfg), transport=router(routes, calls), sleep=fake_sleep)

    return make

