"""Batched multi-turn tool rollouts with a local transformers model: for evaluating small trained checkpoints.

`tool_rollouts(model, tokenizer, prompts, tools_per_prompt)` renders each conversation with the same training
chat template TRL's trainers use, generates (greedy by default) for all unfinished conversations at once,
parses Qwen3-style `<tool_call>{json}</tool_call>` blocks, runs the (sync) tools, and repeats until every
conversation ends on a plain answer or `max_turns` is reached. It returns OpenAI-format messages.

It is for the tiny CPU models of the learning-curve benchmark (batched generation is much faster than one
request at a time there), not a serving path: the agent loop with a vLLM or API backend is the real one.
Replies are read with the one Qwen3 reply parser (`sciresearcher.llm.reply_format.parse_qwen_reply`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def _run_tool(tools: dict[str, Callable[..., Any]], call: dict[str, Any]) -> str:
    fn = tools.get(call["function"]["name"])
    if fn is None:
        return f"Error: no tool named {call['function']['name']!r}; available: {', '.join(tools)}"
    try:
        return str(fn(**json.loads(call["function"]["arguments"])))
    except Exception as exc:  # noqa: BLE001 - errors go back to the model as text, as in the agent loop
        return f"Error: {exc}"


def tool_rollouts(model: Any, tokenizer: Any, prompts: list[list[dict[str, Any]]],
                  tools_per_prompt: list[list[Callable[..., Any]]], *, max_turns: int = 4,
                  max_new_tokens: int = 64, do_sample: bool = False, batch_size: int = 64) -> list[list[dict[str, Any]]]:
    """Runs every prompt to a final answer (or `max_turns`); returns the full conversations."""
    import torch

    from sciresearcher.agent.tools import model_facing_schema
    from sciresearcher.llm.reply_format import parse_qwen_reply
    from sciresearcher.train.templates import training_template

    template = training_template(tokenizer)
    convs = [list(p) for p in prompts]
    tool_maps = [{fn.__name__: fn for fn in tools} for tools in tools_per_prompt]
    schemas = [[model_facing_schema(fn) for fn in tools] or None for tools in tools_per_prompt]
    open_idx = list(range(len(convs)))
    pad_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        for _ in range(max_turns):
            if not open_idx:
                break
            next_open = []
            for start in range(0, len(open_idx), batch_size):
                chunk = open_idx[start:start + batch_size]
                texts = [tokenizer.apply_chat_template(convs[i], tools=schemas[i], chat_template=template,
                                                       add_generation_prompt=True, tokenize=False) for i in chunk]
                enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
                with torch.no_grad():
                    out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=do_sample,
                                         pad_token_id=tokenizer.pad_token_id, top_k=None if not do_sample else 0,
                                         temperature=None if not do_sample else 1.0, top_p=None)
                new = out[:, enc["input_ids"].shape[1]:]
                for i, ids in zip(chunk, new, strict=True):
                    text = tokenizer.decode(ids, skip_special_tokens=False)
                    text = text.split(tokenizer.eos_token)[0].replace(tokenizer.pad_token, "")
                    msg = parse_qwen_reply(text).to_openai()
                    convs[i].append(msg)
                    if msg.get("tool_calls"):
                        for call in msg["tool_calls"]:
                            convs[i].append({"role": "tool", "name": call["function"]["name"],
                                             "content": _run_tool(tool_maps[i], call)})
                        next_open.append(i)
            open_idx = next_open
    finally:
        tokenizer.padding_side = pad_side
    return convs
