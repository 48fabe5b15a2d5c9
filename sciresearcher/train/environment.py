"""GRPO environments: one per rollout, exposing the agent's tools as methods TRL can call.

TRL's `environment_factory` builds environment instances (pooled, `reset()` before each rollout) and turns
their public methods into tools, reading each method's signature and docstring for the schema.
`make_environment_factory(build_tools)` wraps any tool builder: `build_tools(row)` returns fresh tool callables
(and what to close afterwards) for ONE rollout, given its dataset row (`{}` for TRL's schema probe); the environment class gets one delegating method per tool with
the tool's own name, signature and docstring, so GRPO prompts show exactly the schemas SFT rows and the agent
loop use. `research_environment_factory(tools_config)` is the real one: a fresh sandbox session per rollout
and the frozen, shared search and read tools (their reader LLM, if any, is a separate endpoint, never trained).

Rewards live in grpo.py; this module only runs tools.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import typing
from collections.abc import Callable
from typing import Any

from sciresearcher.agent.toolbox import Toolbox, ToolsConfig
from sciresearcher.errors import ToolError
from sciresearcher.llm.base import LLMClient

log = logging.getLogger(__name__)

ToolBuilder = Callable[[dict[str, Any]], tuple[list[Callable[..., Any]], list[Callable[[], Any]]]]


class ToolEnvironment:
    """Base class: holds one rollout's tools and the task row it was reset with."""

    _tool_names: tuple[str, ...] = ()

    def __init__(self, build_tools: ToolBuilder) -> None:
        self._build_tools = build_tools
        self._tools: dict[str, Callable[..., Any]] = {}
        self._closers: list[Callable[[], Any]] = []
        self.row: dict[str, Any] = {}

    def reset(self, **row: Any) -> None:
        """Starts a rollout: closes the previous rollout's tools (its sandbox) and builds fresh ones."""
        self._close()
        tools, closers = self._build_tools(row)
        self._tools = {fn.__name__: fn for fn in tools}
        self._closers = list(closers)
        self.row = row

    def _tool(self, name: str) -> Callable[..., Any]:
        if name not in self._tools:  # the probe instance, or a tool missing from this rollout's build
            raise RuntimeError(f"tool {name!r} is not available before reset()")
        return self._tools[name]

    def _close(self) -> None:
        for close in self._closers:
            try:
                result = close()
                if inspect.isawaitable(result):
                    asyncio.run(result)
            except Exception as exc:  # noqa: BLE001 - a sandbox that already died must not stop training
                log.warning("closing a rollout's tool failed: %s", exc)
        self._closers = []

    def __del__(self) -> None:
        try:
            self._close()
        except Exception as exc:  # noqa: BLE001 - interpreter shutdown
            log.debug("closing tools at exit failed: %s", exc)


def _delegate(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """A method named like `fn`, with its signature, type hints and docstring, calling this rollout's `fn`."""
    # a tool's own failure report (ToolError) goes back as its text, exactly as the agent loop shows it
    if inspect.iscoroutinefunction(fn):
        async def method(self: ToolEnvironment, **kwargs: Any) -> Any:
            try:
                return await self._tool(name)(**kwargs)
            except ToolError as exc:
                return str(exc)
    else:
        def method(self: ToolEnvironment, **kwargs: Any) -> Any:
            try:
                return self._tool(name)(**kwargs)
            except ToolError as exc:
                return str(exc)
    sig = inspect.signature(fn)
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    method.__signature__ = sig.replace(parameters=[self_param, *sig.parameters.values()],  # type: ignore[attr-defined]
                                       return_annotation=inspect.Signature.empty)
    # no return type: TRL renders these schemas with get_json_schema, and the model-facing schemas of SFT rows,
    # teacher rollouts and evaluation carry no `return` entry (agent.tools.model_facing_schema)
    method.__annotations__ = {k: v for k, v in typing.get_type_hints(fn).items() if k != "return"}
    method.__doc__ = fn.__doc__
    method.__name__ = method.__qualname__ = name
    return method


def make_environment_factory(build_tools: ToolBuilder, class_name: str = "ToolEnvironment") -> Callable[[], ToolEnvironment]:
    """An `environment_factory` for GRPOTrainer whose tools are those `build_tools(row)` returns."""
    probe, closers = build_tools({})
    for close in closers:
        result = close()
        if inspect.isawaitable(result):
            asyncio.run(result)
    names = [fn.__name__ for fn in probe]
    if len(set(names)) != len(names) or any(n.startswith("_") or n in ("reset", "get_reward") for n in names):
        raise ValueError(f"tool names must be unique, public and not reset/get_reward: {names}")
    methods = {fn.__name__: _delegate(fn.__name__, fn) for fn in probe}
    cls = type(class_name, (ToolEnvironment,), {**methods, "_tool_names": tuple(names)})

    def factory() -> ToolEnvironment:
        return cls(build_tools)

    return factory


def research_environment_factory(tools_config: ToolsConfig, reader_llm: LLMClient | None = None
                                 ) -> Callable[[], ToolEnvironment]:
    """Environments with the agent's tools (`agent.toolbox.Toolbox`): shared frozen search/read, and one sandbox
    session per rollout."""
    toolbox = Toolbox(tools_config, reader_llm=reader_llm)
    return make_environment_factory(lambda row: toolbox.open_sync(), "ResearchEnvironment")
