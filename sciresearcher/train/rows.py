"""SFT rows: trajectories to `{"messages", "tools"}` rows, and checks that a tokenizer can train on them.

`trajectory_to_sft_row(traj)` writes the main agent's conversation in the form `SFTTrainer` takes: OpenAI-style
messages whose tool-call `arguments` stay JSON strings (Arrow would pad dict arguments with null keys) and the
tool schemas as one JSON string. Sub-agent work (`Trajectory.subcalls`) is never written: only what the main
agent saw (tool responses, masked) and said (trained).

`validate_sft_rows(rows, tokenizer, max_length)` renders every row with the training chat template (TRL's
`get_training_chat_template`, the one SFTTrainer swaps in for `assistant_only_loss=True`) and raises
`TrainingError` naming the row for rows whose assistant tokens cannot be masked, rows whose training tokens
differ from what the policy saw at some turn (`token_check`), rows over the length budget and malformed
messages. Rows are whole conversations or prompt-completion turns (`row_layout`). It does not tokenise for
training: SFTTrainer does that.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sciresearcher.errors import DataError, TrainingError
from sciresearcher.records import Trajectory
from sciresearcher.runs import iter_jsonl
from sciresearcher.train.templates import render_row, training_template

log = logging.getLogger(__name__)


def _message_row(msg: dict[str, Any]) -> dict[str, Any]:
    """One message with the keys every row shares (Arrow needs one schema) and string tool-call arguments."""
    calls = msg.get("tool_calls") or None
    if calls:
        calls = [{"id": c.get("id") or f"call_{i}", "type": "function",
                  "function": {"name": c["function"]["name"], "arguments": _args_string(c["function"].get("arguments"))}}
                 for i, c in enumerate(calls)]
    row = {
        "role": msg["role"],
        "content": msg.get("content") or "",
        "reasoning_content": msg.get("reasoning_content"),
        "tool_calls": calls,
        "tool_call_id": msg.get("tool_call_id"),
        "name": msg.get("name"),
    }
    if msg.get("weight") is not None:  # only where set, so rows without weights stay as they were
        row["weight"] = msg["weight"]
    return row


def _args_string(arguments: Any) -> str:
    if arguments is None:
        return "{}"
    return arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)


def trajectory_to_sft_row(traj: Trajectory) -> dict[str, Any]:
    """The trajectory's conversation as an SFT row: `{"messages": [...], "tools": "<JSON string>"}`."""
    if not traj.messages:
        raise TrainingError(f"trajectory {traj.id} has no messages", hint="export only finished trajectories")
    messages = [_message_row(m) for m in traj.to_chat()]
    if messages[-1]["role"] != "assistant" or messages[-1]["tool_calls"]:
        raise TrainingError(
            f"trajectory {traj.id} does not end with the assistant's answer (last role: {messages[-1]['role']})",
            hint="export only trajectories with status 'ok' and a final answer",
        )
    return {"messages": messages, "tools": json.dumps(traj.tools, ensure_ascii=False)}


def read_sft_rows(path: str | Path) -> list[dict[str, Any]]:
    """Reads a JSONL file of SFT rows, naming the file and line of a malformed one."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"SFT dataset {path} does not exist", hint="point dataset at a JSONL file of SFT rows")
    rows = [normalise_row(row, where=f"{path}:{lineno}") for lineno, row in iter_jsonl(path)]
    if not rows:
        raise DataError(f"SFT dataset {path} is empty")
    return rows


def normalise_row(row: Any, where: str = "row") -> dict[str, Any]:
    """Checks the row's shape and brings its messages to the shared key set (tools as a JSON string).

    Two layouts: `{"messages", "tools"}` (a whole conversation, loss on every assistant turn) and
    `{"prompt", "completion", "tools"}` (one assistant turn after its exact inference context; see token_check).
    """
    if isinstance(row, dict) and isinstance(row.get("prompt"), list) and isinstance(row.get("completion"), list):
        both = normalise_row({"messages": row["prompt"] + row["completion"], "tools": row.get("tools", "[]")}, where)
        k = len(row["prompt"])
        if not row["completion"] or any(m["role"] != "assistant" for m in both["messages"][k:]):
            raise TrainingError(f"{where}: a prompt-completion row's completion must be assistant messages")
        return {"prompt": both["messages"][:k], "completion": both["messages"][k:], "tools": both["tools"]}
    if not isinstance(row, dict) or not isinstance(row.get("messages"), list) or not row["messages"]:
        raise TrainingError(f"{where}: an SFT row needs a non-empty 'messages' list",
                            hint='rows look like {"messages": [...], "tools": "[...]"}, or '
                                 '{"prompt": [...], "completion": [...], "tools": "[...]"}')
    tools = row.get("tools", "[]")
    if not isinstance(tools, str):
        tools = json.dumps(tools, ensure_ascii=False)
    try:
        parsed = json.loads(tools or "[]")
    except json.JSONDecodeError as exc:
        raise TrainingError(f"{where}: 'tools' is not a JSON string of tool schemas ({exc.msg})") from exc
    if not isinstance(parsed, list):
        raise TrainingError(f"{where}: 'tools' must be a JSON list of tool schemas")
    messages = []
    for i, msg in enumerate(row["messages"]):
        if not isinstance(msg, dict) or msg.get("role") not in ("system", "user", "assistant", "tool"):
            raise TrainingError(f"{where}: message {i} has no valid role (system, user, assistant or tool)")
        if msg.get("weight") is not None and (msg["role"] != "assistant" or msg["weight"] not in (0, 1)):
            raise TrainingError(f"{where}: message {i} has weight {msg['weight']!r}",
                                hint="weight is 0 (in the context, not trained) or 1, and only on assistant messages")
        for call in msg.get("tool_calls") or []:
            try:
                args = json.loads(_args_string(call["function"].get("arguments")))
            except (KeyError, TypeError, json.JSONDecodeError) as exc:
                raise TrainingError(f"{where}: message {i} has a tool call without a name or JSON arguments") from exc
            if not isinstance(args, dict):
                raise TrainingError(f"{where}: message {i}: tool-call arguments must be a JSON object")
        messages.append(_message_row(msg))
    return {"messages": messages, "tools": tools or "[]"}


def row_layout(rows: list[dict[str, Any]]) -> str:
    """'messages' or 'prompt-completion'; a dataset mixing both is refused (TRL trains one layout at a time)."""
    layouts = {"prompt-completion" if "prompt" in row else "messages" for row in rows}
    if len(layouts) > 1:
        raise TrainingError("the dataset mixes whole-conversation rows and prompt-completion rows",
                            hint="export it again with one layout (`data export --turns sequence|each|auto`)")
    return layouts.pop() if layouts else "messages"


def validate_sft_rows(rows: Iterable[dict[str, Any]], tokenizer: Any, max_length: int | None,
                      *, overlong: str = "error", check_tokens: bool = True,
                      tokenised: bool = False) -> Iterator[dict[str, Any]]:
    """Yields rows that train cleanly; raises TrainingError for unmaskable rows, rows whose training tokens
    differ from what the policy saw (with `check_tokens`, see token_check) and (by default) overlong ones.
    With `tokenised`, a whole-conversation row is yielded as the `render_row` it was checked with (`input_ids`,
    `assistant_masks`: what SFT hands TRL when rows have turns of weight 0), not rendered a second time."""
    from sciresearcher.train.token_check import check_row

    template = training_template(tokenizer)
    dropped = 0
    for i, row in enumerate(rows):
        if check_tokens:
            try:
                divergence = check_row(tokenizer, row, training_template=template)
            except Exception as exc:  # jinja errors, bad tool schemas
                raise TrainingError(f"row {i}: the chat template cannot render it ({exc})") from exc
            if divergence is not None:
                raise TrainingError(
                    f"row {i}: {divergence}",
                    hint="export one row per assistant turn (`data export --turns each`, or `auto` with "
                    "--tokenizer), which is exact under the model's own template; check_tokens: false trains anyway")
        if "prompt" in row:
            text = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=False,
                                                 tools=json.loads(row.get("tools") or "[]") or None)
            n = len(tokenizer(text, add_special_tokens=False)["input_ids"])
            if max_length is not None and n > max_length:
                if overlong == "drop":
                    dropped += 1
                    continue
                raise TrainingError(f"row {i} is {n} tokens, over max_length={max_length}",
                                    hint="raise max_length, or set overlong: drop to skip such rows")
            yield row
            continue
        try:
            rendered = render_row(tokenizer, row, template)
        except Exception as exc:  # jinja errors, bad tool schemas
            raise TrainingError(f"row {i}: the chat template cannot render it ({exc})") from exc
        if 1 not in rendered["assistant_masks"]:
            raise TrainingError(
                f"row {i}: no token is marked as the assistant's, so nothing would carry loss",
                hint="the row needs an assistant message, and the template {% generation %} markers",
            )
        n = len(rendered["input_ids"])
        if max_length is not None and n > max_length:
            if overlong == "drop":
                dropped += 1
                continue
            raise TrainingError(
                f"row {i} is {n} tokens, over max_length={max_length}",
                hint="raise max_length, or set overlong: drop to skip such rows (truncating would cut the answer)",
            )
        yield rendered if tokenised else row
    if dropped:
        log.warning("dropped %d rows longer than max_length=%d", dropped, max_length)
