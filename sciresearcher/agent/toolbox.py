"""The ONE place the main agent's tools are assembled: `search`, `read` (frozen reader sub-agent), `python`.

`Toolbox(ToolsConfig)` builds the shared, frozen tools once (the search index and backends, the reader and
its optional LLM) and hands each trajectory a fresh sandbox session for `python` (state persists within a
trajectory, never across):

- `async with toolbox() as tools:` (a `ToolsFactory`) for `ask`, rollouts, evaluation and synthesis solvers;
- `toolbox.open_sync()` -> (tools, closers) for GRPO environments, which TRL drives synchronously;
- `knowledge_tools(KnowledgeConfig)` -> [search, read] for the `search` / `read` commands.

`blocklist` adds URL patterns refused by search and read (the rollout runner passes the benchmarks' pages).
Tools whose extra is not installed are reported, not silently dropped. Tools are always listed in name order
(python, read, search): TRL's GRPO lists an environment's methods by name, so teacher rollouts, SFT rows,
GRPO prompts and evaluation all render the same tools block.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sciresearcher.knowledge.config import KnowledgeConfig
from sciresearcher.llm.base import LLMClient
from sciresearcher.llm.config import LLMConfig
from sciresearcher.sandbox.config import SandboxConfig

log = logging.getLogger(__name__)

ToolName = Literal["search", "read", "python"]
Tool = Callable[..., Any]
ToolsFactory = Callable[[], contextlib.AbstractAsyncContextManager[list[Tool]]]


class ToolsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: list[ToolName] = Field(default_factory=lambda: ["search", "read", "python"])
    knowledge: KnowledgeConfig = Field(default_factory=KnowledgeConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    reader_llm: LLMConfig | None = Field(
        None, description="the frozen reader sub-agent's model; none = the reader returns selected passages"
    )


def knowledge_tools(config: KnowledgeConfig, reader_llm: LLMClient | None = None) -> list[Tool]:
    """[search, read] over the configured local index and backends.

    A configured index that does not exist or was built with another embedding model is a ConfigError (a
    wrong path should not silently search nothing). With no index and no backend, `search` answers with how
    to configure one and `read` can still fetch DOIs and URLs.
    """
    from sciresearcher.agent.read_tool import make_read_tool
    from sciresearcher.agent.search_tool import make_search_tool
    from sciresearcher.knowledge.evidence import EvidenceSelector
    from sciresearcher.knowledge.resolve import DocumentResolver
    from sciresearcher.knowledge.sources import SourceHttp, make_backends

    index = None
    if config.index is not None:
        from sciresearcher.knowledge.index import LocalIndex

        index = LocalIndex.load(config.index, model=config.model, check_model=config.mode != "bm25")
    http = SourceHttp(config)
    backends = make_backends(config, http)
    search = make_search_tool(index, backends, top_k=config.top_k, mode=config.mode,
                              weight=config.hybrid_weight, blocklist=config.blocklist,
                              snippet_chars=config.snippet_chars)
    encoder = index.encoder if index is not None and index.dense is not None else None
    selector = EvidenceSelector(config.evidence, model=config.model, encoder=encoder)
    read = make_read_tool(DocumentResolver(index, backends, http), reader_llm, selector=selector,
                          max_chars=config.read_max_chars, paragraphs=config.read_paragraphs)
    return [search, read]


class Toolbox:
    """Shared frozen search/read (built on first use) plus one fresh sandbox session per trajectory."""

    def __init__(self, config: ToolsConfig, *, reader_llm: LLMClient | None = None,
                 blocklist: Sequence[str] = ()) -> None:
        if blocklist:
            knowledge = config.knowledge.model_copy(update={"blocklist": [*config.knowledge.blocklist, *blocklist]})
            config = config.model_copy(update={"knowledge": knowledge})
        self.config = config
        self._reader_llm = reader_llm
        self._shared: list[Tool] | None = None

    def shared_tools(self) -> list[Tool]:
        """The enabled frozen tools (search, read), built exactly once and shared by every trajectory."""
        if self._shared is None:  # no await between the check and the assignment: built exactly once
            names = [n for n in self.config.enabled if n in ("search", "read")]
            shared: list[Tool] = []
            if names:
                reader = self._reader_llm
                if reader is None and self.config.reader_llm is not None:
                    from sciresearcher.llm import make_client

                    reader = make_client(self.config.reader_llm)
                shared = [t for t in knowledge_tools(self.config.knowledge, reader) if t.__name__ in names]
            self._shared = shared
        return self._shared

    def python_session(self) -> tuple[Tool, Any] | None:
        """A fresh `python` tool and the sandbox session it owns (the caller closes it); None when disabled."""
        if "python" not in self.config.enabled:
            return None
        from sciresearcher.agent.python_tool import make_python_tool
        from sciresearcher.sandbox import SandboxSession

        session = SandboxSession(self.config.sandbox)
        return make_python_tool(session), session

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[list[Tool]]:
        """One trajectory's tools; its sandbox is closed when the block ends."""
        tools = list(self.shared_tools())
        python = self.python_session()
        if python is None:
            yield _by_name(tools)
            return
        tool, sandbox = python
        try:
            yield _by_name([*tools, tool])
        finally:
            await sandbox.aclose()

    __call__ = session  # a Toolbox is a ToolsFactory

    def open_sync(self) -> tuple[list[Tool], list[Callable[[], Any]]]:
        """One rollout's tools and the closers that end it (for synchronous drivers such as TRL's environments)."""
        tools = list(self.shared_tools())
        python = self.python_session()
        if python is None:
            return _by_name(tools), []
        tool, sandbox = python
        return _by_name([*tools, tool]), [sandbox.close]


def _by_name(tools: list[Tool]) -> list[Tool]:
    """Tools in name order: the order TRL's GRPO environments list their methods in (`inspect.getmembers`)."""
    return sorted(tools, key=lambda t: t.__name__)


def open_tools(config: ToolsConfig, *, reader_llm: LLMClient | None = None
               ) -> contextlib.AbstractAsyncContextManager[list[Tool]]:
    """`async with open_tools(cfg) as tools:` the tools of one agent session (a one-off Toolbox)."""
    return Toolbox(config, reader_llm=reader_llm).session()


def make_tools_factory(config: ToolsConfig, *, blocklist: Sequence[str] = ()) -> Toolbox:
    """A ToolsFactory for many trajectories: search/read built once, a fresh sandbox per trajectory."""
    return Toolbox(config, blocklist=blocklist)
