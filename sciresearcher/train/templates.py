"""The chat templates a training step renders with: TRL's training variant of the model's template (prefix-
preserving, with `{% generation %}` markers for assistant-only loss) and one row rendered with it.

`training_template(tokenizer)` is what SFTTrainer swaps in for `assistant_only_loss=True`; `render_row` gives
the `input_ids` and `assistant_masks` a `{"messages", "tools"}` row trains on. Checking those tokens against
inference is `token_check.py`; reading and validating rows is `rows.py`.
"""

from __future__ import annotations

import json
from typing import Any

from sciresearcher.errors import TrainingError


def training_template(tokenizer: Any) -> str:
    """The chat template SFTTrainer uses with `assistant_only_loss=True` (TRL's training variant when needed)."""
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    if not getattr(tokenizer, "chat_template", None):
        raise TrainingError("the tokenizer has no chat template", hint="use a chat model or `train tiny-model`")
    if has_generation_markers(tokenizer.chat_template):
        return tokenizer.chat_template
    try:
        patched = get_training_chat_template(tokenizer)
    except ValueError as exc:
        raise TrainingError(
            "TRL does not recognise this tokenizer's chat template, so assistant tokens cannot be masked",
            hint="use a model family TRL ships a training template for (Qwen3, Llama 3, ...), or add "
            "{% generation %}...{% endgeneration %} around the assistant turn in the template",
        ) from exc
    return patched or tokenizer.chat_template


def render_row(tokenizer: Any, row: dict[str, Any], template: str | None = None) -> dict[str, list[int]]:
    """`input_ids` and `assistant_masks` for one row, rendered as SFTTrainer renders it."""
    template = template or training_template(tokenizer)
    tools = json.loads(row.get("tools") or "[]") or None
    out = tokenizer.apply_chat_template(row["messages"], tools=tools, chat_template=template, tokenize=True,
                                        return_dict=True, return_assistant_tokens_mask=True)
    return {"input_ids": list(out["input_ids"]), "assistant_masks": list(out["assistant_masks"])}
