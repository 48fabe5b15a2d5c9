"""Pure conversions between our OpenAI-format records and Anthropic's Messages API.

Requests: system messages become the `system` parameter; tool results become `tool_result` blocks in
a user turn (consecutive tool results and a following user message merge into one turn, as the API
wants); assistant tool calls become `tool_use` blocks with their arguments as an object; tool schemas in
OpenAI function format become Anthropic tools (`input_schema`). Extended thinking round-trips through
`Message.provider_data["anthropic"]["thinking"]`: the signed `thinking` and `redacted_thinking` blocks
exactly as received, sent back first in that assistant turn (required for multi-turn thinking with
tools). Reasoning text without a signature (from another model) cannot be verified by the API and is
left out of the request.

Responses: text blocks join into `content`, thinking blocks into `reasoning_content`, `tool_use` blocks
into ToolCalls with JSON-string arguments; usage counts cache reads and writes as prompt tokens, and
keeps both apart (`cached_tokens`, `cache_write_tokens`) for pricing.

No I/O here: `anthropic_backend.py` does the calls.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sciresearcher.records import FunctionCall, Message, ToolCall, Usage

log = logging.getLogger(__name__)

STOP_REASONS = {
    "end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls",
    "refusal": "content_filter", "model_context_window_exceeded": "length",
}
_EMPTY = "(empty message)"  # the API rejects empty or whitespace-only text blocks


def anthropic_tool(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAI function schema -> Anthropic tool; schemas already in Anthropic form pass through."""
    if "function" not in schema:
        return schema
    fn = schema["function"]
    tool: dict[str, Any] = {"name": fn["name"],
                            "input_schema": fn.get("parameters") or {"type": "object", "properties": {}}}
    if fn.get("description"):
        tool["description"] = fn["description"]
    return tool


def anthropic_tool_choice(choice: Any) -> dict[str, Any] | None:
    """OpenAI `tool_choice` -> Anthropic's: auto, none, required -> any, a named function -> tool."""
    if choice is None:
        return None
    if isinstance(choice, str):
        return {"type": {"required": "any"}.get(choice, choice)}
    if choice.get("type") == "function":
        return {"type": "tool", "name": choice["function"]["name"]}
    return choice


def _tool_input(call: ToolCall) -> dict[str, Any]:
    try:
        return call.function.parsed_arguments()
    except ValueError:  # malformed arguments from another model: keep them visible, as an object
        return {"_raw_arguments": call.function.arguments}


def thinking_blocks(message: Message) -> list[dict[str, Any]]:
    """The signed thinking blocks stored on an assistant message by `from_anthropic`."""
    data = (message.provider_data or {}).get("anthropic") or {}
    return [dict(b) for b in data.get("thinking") or []]


def to_anthropic(messages: list[Message]) -> tuple[str | None, list[dict[str, Any]]]:
    """Our messages -> (system prompt, Anthropic messages with strictly alternating roles)."""
    system: list[str] = []
    out: list[dict[str, Any]] = []

    def push(role: str, blocks: list[dict[str, Any]]) -> None:
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})

    for m in messages:
        if m.role == "system":
            if m.content:
                system.append(m.content)
        elif m.role == "user":
            push("user", [{"type": "text", "text": m.content if (m.content or "").strip() else _EMPTY}])
        elif m.role == "tool":
            push("user", [{"type": "tool_result", "tool_use_id": m.tool_call_id or "", "content": m.content or ""}])
        else:
            blocks = thinking_blocks(m)
            if m.reasoning_content and not blocks:
                log.debug("dropping unsigned reasoning_content: the Anthropic API only accepts signed thinking")
            if (m.content or "").strip():
                blocks.append({"type": "text", "text": m.content})
            for call in m.tool_calls or []:
                blocks.append({"type": "tool_use", "id": call.id, "name": call.function.name,
                               "input": _tool_input(call)})
            push("assistant", blocks or [{"type": "text", "text": _EMPTY}])
    return ("\n\n".join(system) or None), out


def _field(block: Any, name: str) -> Any:
    return block.get(name) if isinstance(block, dict) else getattr(block, name, None)


def from_anthropic(response: Any) -> tuple[Message, Usage, str | None, str | None]:
    """An Anthropic Message (SDK object or dict) -> (our Message, Usage, finish_reason, model)."""
    texts: list[str] = []
    reasoning: list[str] = []
    kept: list[dict[str, Any]] = []
    calls: list[ToolCall] = []
    for block in _field(response, "content") or []:
        kind = _field(block, "type")
        if kind == "text":
            texts.append(_field(block, "text") or "")
        elif kind == "thinking":
            reasoning.append(_field(block, "thinking") or "")
            kept.append({"type": "thinking", "thinking": _field(block, "thinking") or "",
                         "signature": _field(block, "signature") or ""})
        elif kind == "redacted_thinking":
            kept.append({"type": "redacted_thinking", "data": _field(block, "data") or ""})
        elif kind == "tool_use":
            args = json.dumps(_field(block, "input") or {}, ensure_ascii=False)
            calls.append(ToolCall(id=_field(block, "id"), function=FunctionCall(name=_field(block, "name"),
                                                                                arguments=args)))
        else:
            log.debug("ignoring Anthropic content block of type %s", kind)
    message = Message(
        role="assistant", content="".join(texts) or None,
        reasoning_content="\n\n".join(r for r in reasoning if r) or None, tool_calls=calls or None,
        provider_data={"anthropic": {"thinking": kept}} if kept else None,
    )
    raw = _field(response, "usage")
    usage = Usage()
    if raw is not None:
        read = _field(raw, "cache_read_input_tokens") or 0
        written = _field(raw, "cache_creation_input_tokens") or 0
        usage = Usage(prompt_tokens=(_field(raw, "input_tokens") or 0) + read + written,
                      completion_tokens=_field(raw, "output_tokens") or 0, cached_tokens=read,
                      cache_write_tokens=written)
    stop = _field(response, "stop_reason")
    return message, usage, STOP_REASONS.get(stop, stop), _field(response, "model")
