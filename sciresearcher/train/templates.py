"""The chat templates a training step renders with: TRL's training variant of the model's template (prefix-
preserving, with `{% generation %}` markers for assistant-only loss) and one row rendered with it.

`training_template(tokenizer)` (defined in `llm/chat_template.py`, where the batched local backend also renders
with it) is what SFTTrainer swaps in for `assistant_only_loss=True`; `render_row` gives
the `input_ids` and `assistant_masks` a `{"messages", "tools"}` row trains on. Checking those tokens against
inference is `token_check.py`; reading and validating rows is `rows.py`.
"""

from __future__ import annotations

import json
from typing import Any

from sciresearcher.llm.chat_template import training_template


def render_row(tokenizer: Any, row: dict[str, Any], template: str | None = None) -> dict[str, list[int]]:
    """`input_ids` and `assistant_masks` for one row, rendered as SFTTrainer renders it."""
    template = template or training_template(tokenizer)
    tools = json.loads(row.get("tools") or "[]") or None
    out = tokenizer.apply_chat_template(row["messages"], tools=tools, chat_template=template, tokenize=True,
                                        return_dict=True, return_assistant_tokens_mask=True)
    return {"input_ids": list(out["input_ids"]), "assistant_masks": list(out["assistant_masks"])}
