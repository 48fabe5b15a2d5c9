"""The chat template a model trains on: TRL's training variant of the tokenizer's template (one place for it).

`training_template(tokenizer)` is the template `SFTTrainer` swaps in for `assistant_only_loss=True`
(`{% generation %}` markers; for Qwen3 every assistant turn keeps its `<think>` block). SFT rows are checked
with it (`train.rows`), and the batched local backend renders prompts with it, so a model trained here is
evaluated on the context it was trained on.
"""

from __future__ import annotations

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
