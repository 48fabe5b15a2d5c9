"""`train/merge.py`: a LoRA adapter merged into its base model gives the adapted model's outputs from a plain
model directory, with the run's tokenizer. Not here: training with LoRA (test_sft.py), the pipeline's use of it
(tests/pipeline/test_pipeline_command.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sciresearcher.errors import TrainingError
from sciresearcher.train.merge import merge_adapter


def test_the_merged_model_computes_what_the_adapted_one_does(tiny_model_dir: Path, tmp_path: Path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))
    adapted = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", task_type="CAUSAL_LM"))
    torch.manual_seed(0)
    with torch.no_grad():  # a trained adapter: B is zero at initialisation, which would merge to the base model
        for name, param in adapted.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    adapted.save_pretrained(str(tmp_path / "final"))
    AutoTokenizer.from_pretrained(str(tiny_model_dir)).save_pretrained(str(tmp_path / "final"))
    ids = torch.randint(0, 200, (2, 12))
    with torch.no_grad():
        expected = adapted(ids).logits
        before = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))(ids).logits

    out = merge_adapter(tmp_path / "final", tmp_path / "merged")
    assert (out / "config.json").is_file() and not (out / "adapter_config.json").exists()
    merged = AutoModelForCausalLM.from_pretrained(str(out))
    with torch.no_grad():
        got = merged(ids).logits
    assert torch.allclose(got, expected, atol=1e-4)
    assert not torch.allclose(got, before, atol=1e-2)  # the adapter changed the model, and the merge kept it
    assert AutoTokenizer.from_pretrained(str(out)).chat_template


def test_a_directory_without_an_adapter_is_refused_by_name(tiny_model_dir: Path, tmp_path: Path):
    with pytest.raises(TrainingError, match="holds no LoRA adapter"):
        merge_adapter(tiny_model_dir, tmp_path / "merged")
