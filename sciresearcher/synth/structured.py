"""Asking a writer model for one JSON object, the way strong chat models answer.

`ask_structured(llm, prompt, keys)` sends the prompt with a note on how to decline, asks for JSON-schema
structured output where the backend supports it (`response_format` on the OpenAI-compatible backend), and reads
the reply leniently (`parse_json_reply`: prose around the object, code fences, a `<think>` block). It returns:

- the object, when it has every key;
- `{"declined": reason}` when the writer declined (a `"declined"` field, or a plain refusal in prose: "I can't
  write a problem from these sentences because ..."), so the caller records a decline with its reason instead of
  a format error;
- after one repair round (the malformed reply and what was wrong with it sent back), the repaired object, or
  None when the second reply is malformed too.

It does not judge the content (the pipelines do).
"""

from __future__ import annotations

import re
from typing import Any

from sciresearcher.llm.base import LLMClient
from sciresearcher.llm.reply_format import json_objects
from sciresearcher.records import Message

DECLINE_NOTE = ('\nIf the material gives you nothing to write this from, reply {"declined": "<the reason>"} '
                "instead.")
REPAIR_PROMPT = ("Your reply could not be used: {problem}. Reply again with only the JSON object, with the keys "
                 "{keys}.")
_REFUSAL = re.compile(
    r"\b(?:i\s+(?:can(?:no|')t|cannot|am unable to|'m unable to|won't|will not|have to decline|must decline)|"
    r"unable to (?:write|create|produce|form)|no (?:usable|suitable|quantitative) (?:values?|numbers?|data)|"
    r"(?:do|does) not (?:contain|report|give|provide) (?:any |enough )?(?:usable |numeric |quantitative )?"
    r"(?:values?|numbers?|data|measurements?)|not possible to (?:write|create))", re.IGNORECASE)


def parse_json_reply(text: str) -> dict[str, Any] | None:
    """The first JSON object in a reply (models wrap it in prose or fences), or None."""
    text = re.sub(r"<think>.*?</think>", "", text or "", flags=re.DOTALL)
    return next(iter(json_objects(text)), None)


def schema_for(keys: tuple[str, ...]) -> dict[str, Any]:
    """A permissive JSON schema naming the keys (declines allowed), for `response_format`."""
    props: dict[str, Any] = {k: {} for k in keys}
    props["declined"] = {"type": "string"}
    return {"type": "json_schema", "json_schema": {"name": "writer_reply", "strict": False,
                                                    "schema": {"type": "object", "properties": props}}}


def supports_response_format(llm: LLMClient) -> bool:
    return getattr(llm, "backend", None) == "openai"


def _problem(value: dict[str, Any] | None, keys: tuple[str, ...]) -> str:
    if value is None:
        return "it held no JSON object"
    return "it lacked " + ", ".join(repr(k) for k in keys if k not in value)


def _read(text: str, keys: tuple[str, ...]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(usable result or None, the parsed object or None)."""
    value = parse_json_reply(text)
    if value is not None and value.get("declined"):
        return {"declined": str(value["declined"])}, value
    if value is not None and all(k in value for k in keys):
        return value, value
    if value is None and _REFUSAL.search(text or ""):
        return {"declined": re.sub(r"\s+", " ", text).strip()[:400]}, None
    return None, value


async def ask_structured(llm: LLMClient, prompt: str, keys: tuple[str, ...], *, temperature: float = 0.0,
                         schema: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The writer's JSON object with `keys`, {"declined": reason}, or None (see the module docstring)."""
    sampling: dict[str, Any] = {"temperature": temperature}
    if supports_response_format(llm):
        sampling["response_format"] = schema or schema_for(keys)
    messages = [Message(role="user", content=prompt + DECLINE_NOTE)]
    result = await llm.chat(messages, **sampling)
    text = result.message.content or ""
    usable, value = _read(text, keys)
    if usable is not None:
        return usable
    messages += [Message(role="assistant", content=text),
                 Message(role="user", content=REPAIR_PROMPT.format(problem=_problem(value, keys),
                                                                   keys=", ".join(keys)))]
    result = await llm.chat(messages, **sampling)
    usable, _ = _read(result.message.content or "", keys)
    return usable
