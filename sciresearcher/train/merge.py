"""A LoRA run's adapter merged into its base model, as one model directory the next stage can load.

SFT and GRPO with `lora.enabled` save an adapter in `final/` (adapter_config.json names the base model). The
pipeline's next stages (GRPO after SFT, evaluation, serving with vLLM) load a model directory, so the pipeline merges
the adapter into the base weights (peft's `merge_and_unload`) and saves the result with the run's tokenizer in
`merged/`. Not here: training with LoRA (train/sft.py, train/grpo.py).
"""

from __future__ import annotations

import logging
from pathlib import Path

from sciresearcher.errors import TrainingError

log = logging.getLogger(__name__)


def merge_adapter(adapter_dir: str | Path, out: str | Path) -> Path:
    """Saves the base model with the adapter in `adapter_dir` merged into it, and the adapter run's tokenizer, to
    `out`; returns `out`."""
    adapter_dir, out = Path(adapter_dir), Path(out)
    if not (adapter_dir / "adapter_config.json").is_file():
        raise TrainingError(f"{adapter_dir} holds no LoRA adapter (adapter_config.json)",
                            hint="merge the final/ directory of a run trained with lora.enabled: true")
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    model = AutoPeftModelForCausalLM.from_pretrained(str(adapter_dir))
    merged = model.merge_and_unload()
    merged.save_pretrained(str(out))
    AutoTokenizer.from_pretrained(str(adapter_dir)).save_pretrained(str(out))
    log.info("merged the adapter %s into its base model: %s", adapter_dir, out)
    return out
