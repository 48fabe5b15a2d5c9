"""The chat templates a training step renders with: TRL's training variant of the model's template (prefix-
preserving, with `{% generation %}` markers for assistant-only loss) and one row rendered with it.

`training_template(tokenizer)` (defined in `llm/chat_template.py`, where the batched local backend also renders
with it) is what SFTTrainer swaps in for `assistant_only_loss=True`; `render_row` gives
the `input_ids` and `assistant_masks` a `{"messages", "tools"}` row trains on. Checking those tokens against
inference is `token_check.py`; reading and validating rows is `rows.py`. `with_response_parser(tokenizer)` gives
a tokenizer whose template is TRL's training variant of a known one (the demo's tiny student) the reply parser
TRL's tool-calling GRPO needs, which TRL only looks up for the original templates.
"""

from __future__ import annotations

import json
from typing import Any

from sciresearcher.llm.chat_template import training_template


def render_row(tokenizer: Any, row: dict[str, Any], template: str | None = None) -> dict[str, list[int]]:
    """`input_ids` and `assistant_masks` for one row, rendered as SFTTrainer renders it, with the assistant turns
    of weight 0 (`has_untrained_turns`) left out of the mask: they stay in the context and carry no loss."""
    template = template or training_template(tokenizer)
    tools = json.loads(row.get("tools") or "[]") or None

    def render(messages: list[dict[str, Any]]) -> dict[str, list[int]]:
        out = tokenizer.apply_chat_template(messages, tools=tools, chat_template=template, tokenize=True,
                                            return_dict=True, return_assistant_tokens_mask=True)
        return {"input_ids": list(out["input_ids"]), "assistant_masks": list(out["assistant_masks"])}

    messages = row["messages"]
    whole = render(messages)
    for i, message in enumerate(messages):
        if message.get("role") != "assistant" or message.get("weight") != 0:
            continue
        start = len(render(messages[:i])["input_ids"]) if i else 0
        upto = render(messages[:i + 1])["input_ids"]
        if whole["input_ids"][:len(upto)] != upto:
            raise ValueError(f"message {i} has weight 0, but the template does not render the conversation up to it "
                             "as a prefix of the whole, so its tokens cannot be told apart")
        whole["assistant_masks"][start:len(upto)] = [0] * (len(upto) - start)
    return whole


def has_untrained_turns(row: dict[str, Any]) -> bool:
    """Whether a row has an assistant turn of weight 0 (OpenAI's fine-tuning format: kept in the context, not
    trained on)."""
    return any(m.get("role") == "assistant" and m.get("weight") == 0
               for m in row.get("messages") or [*row.get("prompt", []), *row.get("completion", [])])


def with_response_parser(tokenizer: Any) -> Any:
    """The tokenizer, with the reply parser (response template / schema) of the template its training template
    derives from when TRL would not recognise it: TRL picks the parser by comparing the chat template with the ones
    it ships, and its `*_training_chat_template` variants render and parse assistant turns as the originals do.
    Tokenizers that already carry a parser, or whose template TRL knows, are returned unchanged."""
    from trl import chat_template_utils as shipped

    if getattr(tokenizer, "response_template", None) is not None or getattr(tokenizer, "response_schema", None):
        return tokenizer
    for name in dir(shipped):
        if not name.endswith("_training_chat_template") or getattr(shipped, name) != tokenizer.chat_template:
            continue
        original = getattr(shipped, name.replace("_training_chat_template", "_chat_template"), None)
        if isinstance(original, str):
            template = tokenizer.chat_template
            tokenizer.chat_template = original
            try:
                shipped.add_response_schema(tokenizer)
            finally:
                tokenizer.chat_template = template
        break
    return tokenizer
