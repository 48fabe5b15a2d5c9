"""The Qwen3 / Hermes reply format: `<think>` reasoning and `<tool_call>{json}</tool_call>` blocks in raw text.

`split_think(text)` is the one reader of reasoning delimiters (used by the local backend, and by the final-answer
parser to ignore reasoning); `parse_qwen_reply(text)` turns a raw completion into an assistant Message:
reasoning to `reasoning_content`, each tool-call block to a ToolCall (arguments re-serialised as a JSON
string; an unparseable block is kept raw so the agent loop can tell the model what was wrong). Rendering
conversations back to text is the chat template's job, not this module's.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from sciresearcher.records import FunctionCall, Message, ToolCall

_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)
_OPEN_THINK = re.compile(r"^\s*<think>(.*)$", re.DOTALL)
_TOOL_CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_ids = itertools.count()


def split_think(text: str) -> tuple[str | None, str, bool]:
    """(reasoning or None, the rest of the text, whether the reasoning was closed).

    Reads `<think>...</think>` anywhere, a reply whose `<think>` the template opened in the prompt (only
    `</think>` is generated), and a reply cut off while thinking (no `</think>`: everything is reasoning).
    """
    match = _THINK.search(text)
    if match:
        return match.group(1).strip() or None, text[: match.start()] + text[match.end():], True
    unclosed = _OPEN_THINK.match(text)
    if unclosed and "<tool_call>" not in unclosed.group(1):  # cut off while thinking
        return unclosed.group(1).strip() or None, "", False
    if "</think>" in text:  # the template opened <think> in the prompt
        head, rest = text.split("</think>", 1)
        return head.strip() or None, rest, True
    return None, text, True


def json_objects(text: str) -> list[dict[str, Any]]:
    """Every top-level JSON object in `text` (fenced or embedded in prose), in order: how JSON is read out of a
    model's reply (the HLE judge, synthesis writers)."""
    found: list[dict[str, Any]] = []
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text[match.start():])
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


def parse_qwen_reply(text: str) -> Message:
    """Splits a raw Qwen3-format completion into reasoning, content and tool calls."""
    reasoning, text, closed = split_think(text)
    if not closed:
        return Message(role="assistant", content=None, reasoning_content=reasoning)
    calls: list[ToolCall] = []
    for block in _TOOL_CALL.finditer(text):
        raw = block.group(1).strip()
        call_id = f"call_{next(_ids)}"
        try:
            data = json.loads(raw)
            name = str(data.get("name", "")) if isinstance(data, dict) else ""
            args = data.get("arguments", data.get("parameters", {})) if isinstance(data, dict) else {}
            arguments = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
        except json.JSONDecodeError:
            name_match = re.search(r'"name"\s*:\s*"([^"]*)"', raw)
            name, arguments = (name_match.group(1) if name_match else "<unparseable>"), raw
        calls.append(ToolCall(id=call_id, function=FunctionCall(name=name, arguments=arguments)))
    content = _TOOL_CALL.sub("", text).strip() or None
    return Message(role="assistant", content=content, reasoning_content=reasoning, tool_calls=calls or None)
