"""Token exactness: do the tokens a training step uses equal what the policy saw and produced at each turn?

At turn k of a multi-turn trajectory the policy saw `prompt_k` = the model's own (inference) chat template over
messages[:k] with the generation prompt, and produced `completion_k` = assistant message k as it writes it
(the template's rendering of that message as the last one, up to its end-of-turn token). Training on a whole
conversation in one sequence (`{"messages"}` rows) is exact only if, for every assistant turn k, the training
sequence starts with `prompt_k` and continues with `completion_k`, and the loss mask covers exactly the
completions (but those of turns of weight 0, which it must leave out). Qwen3's template breaks this whenever an earlier assistant turn has no reasoning: at inference
the history drops the empty `<think></think>` block the model wrote, while TRL's training variant keeps it
(verl#7807, slime#2263, prime-rl#1334 are this drift). Prompt-completion rows (one row per assistant turn,
`{"prompt": messages[:k], "completion": [message k]}`, trained with the model's own template and a
completion-only loss) are exact by construction; `check_prompt_completion_row` verifies it.

`check_row(tokenizer, row)` returns the first `Divergence` (turn, token position, what inference gives and
what training has, decoded) or None. `data export --check-tokens` and `train sft` refuse rows that diverge.
Rendering and tokenising only; nothing here trains.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Divergence:
    """The first token where training differs from what the policy saw (`prompt`) or produced (`completion`)."""

    turn: int  # index of the assistant message in `messages`
    part: str  # prompt | completion | mask
    position: int  # token index in the training sequence
    inference: str  # decoded tokens from `position` on, as the policy saw / produced them
    training: str  # decoded tokens from `position` on, as the training sequence has them

    def __str__(self) -> str:
        return (f"assistant turn {self.turn}: the training tokens differ from the {self.part} the policy "
                f"{'produced' if self.part == 'completion' else 'saw'} at token {self.position}: inference "
                f"{self.inference!r} vs training {self.training!r}")


def _render(tokenizer: Any, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, template: str | None,
            *, generation_prompt: bool) -> str:
    return tokenizer.apply_chat_template(messages, tools=tools, chat_template=template, tokenize=False,
                                         add_generation_prompt=generation_prompt)


def _ids(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _first_diff(a: list[int], b: list[int]) -> int | None:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return None if len(a) <= len(b) else len(b)


def _snippet(tokenizer: Any, ids: list[int], at: int, n: int = 12) -> str:
    return tokenizer.decode(ids[at:at + n])


def completion_text(tokenizer: Any, messages: list[dict[str, Any]], k: int, tools: list[dict[str, Any]] | None,
                    template: str | None) -> str:
    """Assistant message k as the policy writes it: the template's rendering of it as the last message, through
    its end-of-turn token (the newline the template adds after it is not generated)."""
    before = _render(tokenizer, messages[:k], tools, template, generation_prompt=True)
    after = _render(tokenizer, messages[:k + 1], tools, template, generation_prompt=False)
    if after.startswith(before):
        text = after[len(before):]
    else:  # the template renders the history differently once a turn is added: take the last turn's text
        history = _render(tokenizer, messages[:k], tools, template, generation_prompt=False)
        opener = before[len(history):] if before.startswith(history) else ""
        text = after[after.rindex(opener) + len(opener):] if opener and opener in after else after[len(history):]
    return text.removesuffix("\n")


def turn_ids(tokenizer: Any, messages: list[dict[str, Any]], k: int, tools: list[dict[str, Any]] | None,
             template: str | None) -> tuple[list[int], list[int]]:
    """Assistant turn k as the policy met it: the prompt ids it saw (the template over messages[:k] with the
    generation prompt) and the completion ids it produced (`completion_text`), each tokenised on its own."""
    prompt = _ids(tokenizer, _render(tokenizer, messages[:k], tools, template, generation_prompt=True))
    return prompt, _ids(tokenizer, completion_text(tokenizer, messages, k, tools, template))


def check_row(tokenizer: Any, row: dict[str, Any], *, training_template: str | None = None,
              inference_template: str | None = None) -> Divergence | None:
    """The first divergence of a `{"messages", "tools"}` row trained as one sequence, or None when exact."""
    from sciresearcher.train.templates import render_row
    from sciresearcher.train.templates import training_template as default_training_template

    if "prompt" in row:
        return check_prompt_completion_row(tokenizer, row, template=inference_template)
    messages = row["messages"]
    tools = json.loads(row.get("tools") or "[]") or None
    train_template = training_template or default_training_template(tokenizer)
    infer_template = inference_template or tokenizer.chat_template
    train = render_row(tokenizer, row, train_template)
    ids, mask = train["input_ids"], train["assistant_masks"]
    for k, msg in enumerate(messages):
        if msg["role"] != "assistant":
            continue
        prompt, completion = turn_ids(tokenizer, messages, k, tools, infer_template)
        at = _first_diff(prompt, ids)
        if at is not None:
            return Divergence(k, "prompt", at, _snippet(tokenizer, prompt, at), _snippet(tokenizer, ids, at))
        produced = ids[len(prompt):len(prompt) + len(completion)]
        at = _first_diff(completion, produced)
        if at is not None:
            pos = len(prompt) + at
            return Divergence(k, "completion", pos, _snippet(tokenizer, completion, at), _snippet(tokenizer, ids, pos))
        span = mask[len(prompt):len(prompt) + len(completion)]
        if msg.get("weight") == 0:  # kept in the context, trained on nowhere
            if 1 in span:
                pos = len(prompt) + span.index(1)
                return Divergence(k, "mask", pos, "(weight 0: not trained)",
                                  f"(trained) {_snippet(tokenizer, ids, pos)!s}")
            continue
        if 0 in span:
            pos = len(prompt) + span.index(0)
            return Divergence(k, "mask", pos, "(trained)", f"(masked) {_snippet(tokenizer, ids, pos)!s}")
    return None


def check_prompt_completion_row(tokenizer: Any, row: dict[str, Any], *, template: str | None = None
                                ) -> Divergence | None:
    """A `{"prompt", "completion", "tools"}` row rendered as TRL's SFTTrainer renders it (the model's own template):
    exact when the tokenised prompt is a prefix of prompt + completion, and the completion is what the policy
    writes after that prompt."""
    tools = json.loads(row.get("tools") or "[]") or None
    template = template or tokenizer.chat_template
    messages = list(row["prompt"]) + list(row["completion"])
    k = len(row["prompt"])
    prompt, completion = turn_ids(tokenizer, messages, k, tools, template)
    full = _ids(tokenizer, _render(tokenizer, messages, tools, template, generation_prompt=False))
    at = _first_diff(prompt, full)
    if at is not None:
        return Divergence(k, "prompt", at, _snippet(tokenizer, prompt, at), _snippet(tokenizer, full, at))
    at = _first_diff(completion, full[len(prompt):])
    if at is not None:
        pos = len(prompt) + at
        return Divergence(k, "completion", pos, _snippet(tokenizer, completion, at), _snippet(tokenizer, full, pos))
    return None


def turn_rows(row: dict[str, Any]) -> list[dict[str, Any]]:
    """One prompt-completion row per assistant turn of a `{"messages", "tools"}` row (exact under any template)."""
    messages = row["messages"]
    return [{"prompt": messages[:k], "completion": [msg], "tools": row.get("tools", "[]")}
            for k, msg in enumerate(messages) if msg["role"] == "assistant"]
