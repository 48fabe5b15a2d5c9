"""Anthropic prompt caching: where the `cache_control` breakpoints of a Messages API request go.

Anthropic caches the prompt prefix up to each block marked `cache_control` (prefix order: tools, system,
messages) and allows at most 4 marks per request. A research trajectory re-sends a stable prefix (tool
schemas + system prompt) and a history that grows every turn, so `add_breakpoints` marks, in this order of
priority, until 4 marks are in the request (marks the caller set count against the 4):

1. the last block of the last message: the rolling mark. This turn's whole prompt is written to the cache
   and the next turn reads it back (billed at 0.1x instead of 1x input). Only on conversations (requests
   with tools or an earlier assistant turn): a one-shot prompt is never read back, and writing it costs
   1.25x input;
2. the last block of the previous user turn, exactly where the previous request's rolling mark sat, so the
   read is found even when a turn added more blocks than the provider looks back over (20);
3. the system prompt (turned into one text block): tools + system, shared by every trajectory of a run;
4. the last tool: the tool schemas alone, for callers whose system prompts differ.

Blocks that cannot carry a mark (thinking, redacted thinking, empty text) are skipped for the nearest
earlier block of the same message. Prefixes shorter than the model's minimum (1,024 tokens for Sonnet,
more for some models) are simply not cached by the provider, at no charge. Writes cost 1.25x input for
the 5-minute lifetime, 2x for 1 hour (`LLMConfig.prompt_cache_ttl`).

Not here: pricing of reads and writes (`prices.py`); OpenAI-compatible servers, which cache prefixes by
themselves and report hits as `prompt_tokens_details.cached_tokens` (read by `openai_backend._usage`).
"""

from __future__ import annotations

from typing import Any

MAX_BREAKPOINTS = 4
_UNMARKABLE = frozenset({"thinking", "redacted_thinking"})


def cache_control(ttl: str = "5m") -> dict[str, str]:
    return {"type": "ephemeral"} if ttl == "5m" else {"type": "ephemeral", "ttl": ttl}


def count_breakpoints(request: dict[str, Any]) -> int:
    """How many `cache_control` marks the request already holds (tools, system blocks, message blocks)."""
    blocks: list[Any] = list(request.get("tools") or [])
    if isinstance(request.get("system"), list):
        blocks += request["system"]
    for message in request.get("messages") or []:
        if isinstance(message.get("content"), list):
            blocks += message["content"]
    return sum(1 for b in blocks if isinstance(b, dict) and b.get("cache_control"))


def _markable(block: Any) -> bool:
    if not isinstance(block, dict) or block.get("type") in _UNMARKABLE:
        return False
    return not (block.get("type") == "text" and not (block.get("text") or "").strip())


def _mark_message(messages: list[dict[str, Any]], index: int, mark: dict[str, str]) -> bool:
    """Marks the last markable block of messages[index] (copying what it changes); False if none can be."""
    message = messages[index]
    content = message.get("content")
    if isinstance(content, str):
        if not content.strip():
            return False
        content = [{"type": "text", "text": content}]
    content = list(content or [])
    for i in range(len(content) - 1, -1, -1):
        if _markable(content[i]):
            if content[i].get("cache_control"):
                return False  # the caller marked it already
            content[i] = {**content[i], "cache_control": mark}
            messages[index] = {**message, "content": content}
            return True
    return False


def _previous_user_turn(messages: list[dict[str, Any]]) -> int | None:
    """Index of the user message before the latest assistant turn (where the last request ended)."""
    for i in range(len(messages) - 2, -1, -1):
        if messages[i].get("role") == "assistant":
            for j in range(i - 1, -1, -1):
                if messages[j].get("role") == "user":
                    return j
            return None
    return None


def is_conversation(request: dict[str, Any]) -> bool:
    """Whether a later request will likely extend this one: it offers tools (an agent turn) or already holds
    an assistant turn. A one-shot request (a writer, a judge, a solver vote) gets no rolling mark: writing its
    unique prompt to the cache would cost 1.25x input and nothing would ever read it."""
    return bool(request.get("tools")) or any(m.get("role") == "assistant" for m in request.get("messages") or [])


def add_breakpoints(request: dict[str, Any], ttl: str = "5m") -> dict[str, Any]:
    """A copy of Messages API keyword arguments with cache breakpoints added (the input is not changed)."""
    out = dict(request)
    budget = MAX_BREAKPOINTS - count_breakpoints(request)
    mark = cache_control(ttl)
    messages = list(out.get("messages") or [])
    if budget > 0 and messages and is_conversation(out) and _mark_message(messages, len(messages) - 1, mark):
        budget -= 1
    previous = _previous_user_turn(messages)
    if budget > 0 and previous is not None and _mark_message(messages, previous, mark):
        budget -= 1
    out["messages"] = messages
    system = out.get("system")
    if budget > 0 and isinstance(system, str) and system.strip():
        out["system"] = [{"type": "text", "text": system, "cache_control": mark}]
        budget -= 1
    elif budget > 0 and isinstance(system, list) and system and _markable(system[-1]) \
            and not system[-1].get("cache_control"):
        out["system"] = [*system[:-1], {**system[-1], "cache_control": mark}]
        budget -= 1
    tools = out.get("tools")
    if budget > 0 and tools and not tools[-1].get("cache_control"):
        out["tools"] = [*tools[:-1], {**tools[-1], "cache_control": mark}]
    return out
