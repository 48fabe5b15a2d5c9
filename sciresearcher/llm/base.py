"""The LLM client protocol every backend implements, and the result it returns.

A backend turns our `Message` records (plus optional tool schemas in OpenAI function format) into one
model call and returns a `ChatResult`. Retries, concurrency limits, caching and cost accounting are
shared wrappers (see `llm/` siblings), not per-backend code. This module holds only the contract, and
`conversation(llm)`, the optional hint that a multi-turn conversation is open.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from sciresearcher.records import Message, Usage


class ChatResult(BaseModel):
    """One model reply: the assistant message (content, reasoning, tool calls), usage, why it stopped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message: Message
    usage: Usage = Usage()
    finish_reason: str | None = None  # stop | length | tool_calls | content_filter
    model: str | None = None
    latency_s: float = 0.0
    cached: bool = False


@runtime_checkable
class LLMClient(Protocol):
    """An async chat model. `tools` are OpenAI function schemas; `sampling` are temperature, top_p,
    max_tokens, seed, stop and backend-specific extras passed through unchanged."""

    model: str

    async def chat(
        self, messages: list[Message], tools: list[dict[str, Any]] | None = None, **sampling: Any
    ) -> ChatResult: ...


def conversation(llm: Any) -> AbstractContextManager[Any]:
    """Marks one multi-turn conversation with `llm` as open while it lasts (turns, tool calls in between). A client
    that batches the turns of concurrent conversations (llm/batched_local.py) then knows how many next turns are
    coming and generates once every open conversation has asked, instead of guessing from a quiet spell, which
    splits a turn into batches whenever tool calls finish far apart. Other clients ignore it."""
    opener = getattr(llm, "open_conversation", None)
    return opener() if callable(opener) else nullcontext()
