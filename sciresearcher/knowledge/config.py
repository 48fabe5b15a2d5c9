"""`KnowledgeConfig`: where the agent's `search` and `read` tools look, and how hard they may pull.

Every default is valid offline with no index and no keys: then `search` answers with a text that says how
to configure a source, and `read` can still fetch nothing but says so. API keys are never stored here, only
the NAMES of the environment variables that hold them. Only configuration lives here; the index is in
`knowledge/index.py`, the sources in `knowledge/sources/`, the agent's tools over them in `agent/toolbox.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

IndexMode = Literal["bm25", "dense", "hybrid"]
BackendName = Literal[
    "europepmc", "ncbi", "arxiv", "openalex", "semanticscholar", "crossref",
    "serper", "tavily", "brave", "searxng",
]

DEFAULT_KEY_ENVS: dict[str, str] = {
    "ncbi": "NCBI_API_KEY",
    "openalex": "OPENALEX_API_KEY",
    "semanticscholar": "S2_API_KEY",
    "serper": "SERPER_API_KEY",
    "tavily": "TAVILY_API_KEY",
    "brave": "BRAVE_API_KEY",
}


class EvidenceConfig(BaseModel):
    """Three-level evidence selection: how many documents, paragraphs and sentences survive each level."""

    model_config = ConfigDict(extra="forbid")

    top_docs: int = Field(3, ge=1, description="documents kept at level 1")
    top_paragraphs: int = Field(4, ge=1, description="paragraphs kept at level 2 (over the kept documents)")
    top_sentences: int = Field(6, ge=1, description="sentences kept at level 3 (over the kept paragraphs)")
    quantitative_boost: float = Field(
        0.3, ge=0, description="score bonus for passages with numbers and units when the goal is quantitative"
    )
    use_dense: bool = Field(True, description="mix in the dense model's similarity when it is available")
    dense_candidates: int = Field(
        64, ge=0, description="embed only the best N texts by BM25 when there are more (a long paper has 200+ "
        "paragraphs; benchmarks/read_latency.py measures the time saved and the agreement); 0 = embed all")
    embedding_cache_size: int = Field(
        20_000, ge=0, description="paragraph/sentence embeddings kept in memory, so re-reading a document with a "
        "new goal embeds only the goal (20k x 384 floats is about 30 MB); 0 turns the cache off"
    )


class KnowledgeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: Path | None = Field(None, description="a local index built with `sciresearcher index build`")
    mode: IndexMode = Field("hybrid", description="bm25 | dense | hybrid (normalised score fusion)")
    model: str | None = Field(
        None, description="sentence-transformers model name or directory; none = bundled all-MiniLM-L6-v2"
    )
    hybrid_weight: float = Field(
        0.5, ge=0, le=1, description="weight of the dense scores in hybrid fusion (BM25 gets 1 - weight)"
    )
    top_k: int = Field(8, ge=1, le=100, description="hits the search tool returns")
    snippet_chars: int = Field(300, ge=20, description="longest snippet the search tool shows per hit")
    backends: list[BackendName] = Field(
        default_factory=list, description="online sources searched besides the local index (none offline)"
    )
    key_envs: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_KEY_ENVS),
        description="backend -> NAME of the environment variable holding its API key",
    )
    email_env: str = Field(
        "SCIRESEARCHER_EMAIL", description="env var with a contact email (Crossref/OpenAlex polite pool, Unpaywall)"
    )
    searxng_url: str | None = Field(None, description="base URL of a SearXNG instance")
    blocklist: list[str] = Field(
        default_factory=list,
        description="regexes (case-insensitive): queries and URLs that match are refused (e.g. benchmark pages)",
    )
    cache_dir: Path | None = Field(
        None, description="on-disk HTTP response cache; none = ~/.cache/sciresearcher/http"
    )
    use_cache: bool = Field(True, description="cache successful source responses on disk")
    rate_limits: dict[str, float] = Field(
        default_factory=lambda: {
            "eutils.ncbi.nlm.nih.gov": 3.0,
            "export.arxiv.org": 0.33,
            "api.semanticscholar.org": 1.0,
            "www.ebi.ac.uk": 10.0,
            "api.openalex.org": 10.0,
            "api.crossref.org": 10.0,
            "api.unpaywall.org": 10.0,
        },
        description="requests per second per host (hosts not listed: default_rate_limit)",
    )
    default_rate_limit: float = Field(5.0, gt=0, description="requests per second for unlisted hosts")
    max_retries: int = Field(4, ge=0, description="retries on 429, 5xx and connection errors")
    backoff_base_s: float = Field(1.0, ge=0, description="first retry delay (doubles), unless Retry-After says")
    backoff_max_s: float = Field(30.0, ge=0, description="longest wait between retries")
    timeout_s: float = Field(
        30.0, gt=0, description="total time of one HTTP request (connect, redirects, the whole body); a request "
        "that runs out of it is not retried")
    fetch_allow: list[str] = Field(
        default_factory=list,
        description="internal hosts (name, or *.suffix) and networks (CIDR, or one address) that fetches may reach; "
        "by default loopback, private, link-local (cloud metadata) and other non-public addresses are refused "
        "(the searxng_url host is allowed)",
    )
    max_fetch_bytes: int = Field(20_000_000, gt=0, description="largest document `read` downloads")
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig)
    read_max_chars: int = Field(6000, ge=500, description="longest text the read tool returns")
    read_paragraphs: bool = Field(
        True, description="the read tool lists the most relevant paragraphs after the sentences (false: sentences only)")
