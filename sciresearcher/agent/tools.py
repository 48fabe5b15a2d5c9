"""Tools as plain typed Python callables: their JSON schemas and their execution for the agent loop.

`tool_schema(fn)` reads a function's signature and Google-style docstring and produces the same schema
as `transformers.utils.get_json_schema` (checked in the tests), without importing transformers, so the
callables serve the teacher loop, TRL's `GRPOTrainer(tools=...)` and evaluation unchanged.

`Toolset` executes one assistant turn's tool calls: it validates the tool name and the JSON arguments,
runs sync tools in a worker thread and async tools on the loop, turns every failure into text the model
can act on (counted as a tool or format error), and truncates long output with an explicit marker. A tool
signals a failed call by raising `errors.ToolError(text)`: the model sees `text` as written, and the call
counts in `tool_errors` (so rejection sampling can see "fail, then retry" trajectories).
It does not decide when to stop; that is the loop's job.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import re
import types
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from sciresearcher.agent.subcalls import tool_call_scope
from sciresearcher.errors import ConfigError, ToolError
from sciresearcher.records import Message, ToolCall

_SCALARS: dict[Any, dict[str, Any]] = {
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    list: {"type": "array"},
    tuple: {"type": "array"},
    dict: {"type": "object"},
    Any: {},
}
_JSON_SCALAR = {int: "integer", float: "number", str: "string", bool: "boolean", type(None): "null"}
_DESCRIPTION = re.compile(r"^(.*?)[\n\s]*(Args:|Returns:|Raises:|\Z)", re.DOTALL)
_ARGS = re.compile(r"\n\s*Args:\n(.*?)[\n\s]*(Returns:|Raises:|\Z)", re.DOTALL)
_ARG_SPLIT = re.compile(
    r"(?:^|\n)([ \t]*)(\w+)(?:[ \t]*\([^()\n]*\))?:\s*(.*?)\s*"
    r"(?=\n(?!\1[ \t])[ \t]*\w+(?:[ \t]*\([^()\n]*\))?:|\Z)",
    re.DOTALL,
)
_RETURNS = re.compile(r"\n\s*Returns:\n\s*(.*?)[\n\s]*(Raises:|\Z)", re.DOTALL)


def _hint_schema(hint: Any, where: str) -> dict[str, Any]:
    origin, args = get_origin(hint), get_args(hint)
    if origin is None:
        if hint in _SCALARS:
            return dict(_SCALARS[hint])
        raise ConfigError(f"tool {where}: type hint {hint!r} has no JSON schema; use str, int, float, bool, list, dict")
    if origin is Union or origin is types.UnionType:
        subs = [_hint_schema(t, where) for t in args if t is not type(None)]
        if len(subs) == 1:
            out = subs[0]
        elif all(s.keys() == {"type"} and isinstance(s["type"], str) for s in subs):
            names = sorted({s["type"] for s in subs})
            out = {"type": names[0] if len(names) == 1 else names}
        else:
            out = {"anyOf": subs}
        if type(None) in args:
            out["nullable"] = True
        return out
    if origin is Literal:
        kinds = list(dict.fromkeys(_JSON_SCALAR[type(a)] for a in args))
        return {"type": kinds[0] if len(kinds) == 1 else kinds, "enum": list(args)}
    if origin is list:
        return {"type": "array", "items": _hint_schema(args[0], where)} if args else {"type": "array"}
    if origin is dict:
        out = {"type": "object"}
        if len(args) == 2:
            out["additionalProperties"] = _hint_schema(args[1], where)
        return out
    raise ConfigError(f"tool {where}: unsupported type hint {hint!r}")


_SCHEMAS: weakref.WeakKeyDictionary[Any, dict[bool, dict[str, Any]]] = weakref.WeakKeyDictionary()


def tool_schema(fn: Callable[..., Any]) -> dict[str, Any]:
    """The OpenAI tool schema `{"type": "function", "function": {name, description, parameters}}`.

    Raises ConfigError when the docstring is missing or an argument is undocumented or untyped. Schemas
    are remembered per function (an agent run builds its toolset once per trajectory); a copy is returned.
    """
    func, bound = getattr(fn, "__func__", fn), hasattr(fn, "__self__") and hasattr(fn, "__func__")
    try:
        cached = _SCHEMAS.get(func, {}).get(bound)
    except TypeError:  # an unhashable or unreferenceable callable: not remembered
        return _build_schema(fn)
    if cached is None:
        cached = _build_schema(fn)
        try:
            _SCHEMAS.setdefault(func, {})[bound] = cached
        except TypeError:
            pass
    return copy.deepcopy(cached)


def _build_schema(fn: Callable[..., Any]) -> dict[str, Any]:
    name = getattr(fn, "__name__", "operation")
    doc = inspect.getdoc(fn)
    if not doc:
        raise ConfigError(f"tool '{name}' has no docstring", hint="document it Google-style with an Args: section")
    doc = doc.strip()
    desc_match, args_match, ret_match = _DESCRIPTION.search(doc), _ARGS.search(doc), _RETURNS.search(doc)
    arg_docs: dict[str, str] = {}
    if args_match:
        block = "\n".join(line for line in args_match.group(1).split("\n") if line.strip())
        arg_docs = {m[1]: re.sub(r"\s*\n+\s*", " ", m[2].strip()) for m in _ARG_SPLIT.findall(block)}
    hints = get_type_hints(fn)
    signature = inspect.signature(fn)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for pname, param in signature.parameters.items():
        if pname in {"self", "cls"} and param.annotation is inspect.Parameter.empty:
            continue
        if pname not in hints:
            raise ConfigError(f"tool '{name}': argument '{pname}' has no type hint")
        if param.default is inspect.Parameter.empty:
            required.append(pname)
    for pname, hint in hints.items():
        if pname == "return":
            continue
        if pname not in arg_docs:
            raise ConfigError(f"tool '{name}': the docstring has no description for argument '{pname}'")
        schema = _hint_schema(hint, name)
        desc = arg_docs[pname]
        choices = re.search(r"\(choices:\s*(.*?)\)\s*$", desc, flags=re.IGNORECASE)
        if choices:
            schema["enum"] = [c.strip() if isinstance(c, str) else c for c in json.loads(choices.group(1))]
            desc = desc[: choices.start()].strip()
        schema["description"] = desc
        properties[pname] = schema
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    out: dict[str, Any] = {"name": name, "description": desc_match.group(1).strip() if desc_match else None}
    out["parameters"] = parameters
    if "return" in hints:
        try:
            ret = _hint_schema(hints["return"], name)
        except ConfigError:
            ret = None
        if ret is not None:
            if ret_match:
                ret["description"] = ret_match.group(1).strip()
            out["return"] = ret
    return {"type": "function", "function": out}


def model_facing_schema(fn: Callable[..., Any]) -> dict[str, Any]:
    """The schema as models see it: `tool_schema` without its `return` entry.

    OpenAI-compatible servers (vLLM checked) drop `return`, which is not an OpenAI function field, so a
    template would render it locally but not when served; leaving it out everywhere keeps teacher rollouts,
    SFT rows, GRPO and evaluation rendering the same tools block.
    """
    schema = tool_schema(fn)
    schema["function"].pop("return", None)
    return schema


TRUNCATION_MARKER = "\n[... output truncated: {omitted} of {total} characters omitted ...]\n"
_MARKER = re.compile(r"\n\[\.\.\. output truncated: \d+ of \d+ characters omitted \.\.\.\]\n")


def truncate(text: str, limit: int) -> tuple[str, bool]:
    """Keeps the head and tail of `text` within `limit` characters, with an explicit marker between.

    The one truncation policy of tool output: the loop's cap on every tool, and the tighter budgets of the
    `read` and `python` tools, all cut this way with this marker (`was_truncated` recognises it).
    """
    if limit <= 0 or len(text) <= limit:
        return text, False
    head = int(limit * 0.7)
    tail = max(0, limit - head)
    omitted = len(text) - head - tail
    marker = TRUNCATION_MARKER.format(omitted=omitted, total=len(text))
    return text[:head] + marker + (text[-tail:] if tail else ""), True


def was_truncated(text: str) -> bool:
    """Whether `text` carries the truncation marker (a tool that cut its own output to a tighter budget)."""
    return bool(_MARKER.search(text))


@dataclass(frozen=True)
class ToolOutcome:
    """The result of one tool call, as the loop appends it and counts it."""

    message: Message
    ok: bool
    format_error: bool = False
    truncated: bool = False


class Toolset:
    """Named tools, their schemas, and execution of tool calls with errors returned as text."""

    def __init__(self, tools: list[Callable[..., Any]], *, max_output_chars: int = 12_000) -> None:
        self.tools: dict[str, Callable[..., Any]] = {}
        for fn in tools:
            name = getattr(fn, "__name__", None)
            if not name:
                raise ConfigError(f"tool {fn!r} has no __name__; give it one")
            if name in self.tools:
                raise ConfigError(f"two tools are named '{name}'; tool names must be unique")
            self.tools[name] = fn
        self.max_output_chars = max_output_chars
        self.schemas: list[dict[str, Any]] = [model_facing_schema(fn) for fn in self.tools.values()]

    def _error(self, call: ToolCall, text: str, *, format_error: bool) -> ToolOutcome:
        msg = Message.tool(f"Error: {text}", call.id, call.function.name)
        return ToolOutcome(msg, ok=False, format_error=format_error)

    async def execute(self, call: ToolCall) -> ToolOutcome:
        """Runs one tool call; never raises for model mistakes or tool failures."""
        name = call.function.name
        fn = self.tools.get(name)
        if fn is None:
            known = ", ".join(sorted(self.tools)) or "none"
            return self._error(call, f"unknown tool '{name}'. Available tools: {known}.", format_error=True)
        try:
            args = call.function.parsed_arguments()
        except (ValueError, json.JSONDecodeError) as exc:
            return self._error(
                call, f"the arguments are not a valid JSON object ({exc}). Send arguments as a JSON object "
                f"matching the schema of '{name}'.", format_error=True
            )
        try:
            inspect.signature(fn).bind(**args)
        except TypeError as exc:
            params = ", ".join(inspect.signature(fn).parameters)
            return self._error(call, f"bad arguments for '{name}': {exc}. Parameters: {params}.", format_error=True)
        try:
            with tool_call_scope(call.id):
                if inspect.iscoroutinefunction(fn):
                    result = await fn(**args)
                else:
                    result = await asyncio.to_thread(fn, **args)
                    if inspect.isawaitable(result):
                        result = await result
        except asyncio.CancelledError:
            raise
        except ToolError as exc:  # the tool's own report of its failure: shown as written, counted as an error
            text, cut = truncate(str(exc), self.max_output_chars)
            return ToolOutcome(Message.tool(text, call.id, name), ok=False, truncated=cut)
        except Exception as exc:  # noqa: BLE001 - a tool failure is data for the model, not a crash
            return self._error(call, f"tool '{name}' failed: {type(exc).__name__}: {exc}", format_error=False)
        text = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False, default=str)
        text, cut = truncate(text, self.max_output_chars)
        return ToolOutcome(Message.tool(text, call.id, name), ok=True, truncated=cut or was_truncated(text))

    async def execute_all(self, calls: list[ToolCall]) -> list[ToolOutcome]:
        """Runs one turn's tool calls concurrently; results keep the calls' order."""
        if len(calls) == 1:  # the common case: no task to schedule, so no extra trip through the event loop
            return [await self.execute(calls[0])]
        return list(await asyncio.gather(*(self.execute(c) for c in calls)))
