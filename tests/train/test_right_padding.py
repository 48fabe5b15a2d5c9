"""The SFT trainer's model drops a right-padded batch's attention mask: same loss and gradients on real tokens."""

from __future__ import annotations

import torch
from train_helpers import make_trajectory
from transformers import AutoModelForCausalLM

from sciresearcher.train.right_padding import drop_right_padding_mask, is_right_padded
from sciresearcher.train.rows import trajectory_to_sft_row
from sciresearcher.train.sft import SFTRunConfig, build_sft_trainer


def test_only_ones_then_zeros_counts_as_right_padding():
    assert is_right_padded(torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]]))
    assert is_right_padded(torch.tensor([[1.0, 0.0], [1.0, 1.0]]))
    assert not is_right_padded(torch.tensor([[0, 1, 1], [1, 1, 1]]))  # left padding (GRPO's prompts)
    assert not is_right_padded(torch.tensor([[1, 0, 1]]))  # a hole
    assert not is_right_padded(torch.tensor([[1, 2, 0]]))
    assert not is_right_padded(None)
    assert not is_right_padded(torch.ones(1, 1, 3, 3))  # a 4-D mask is the model's business


def _seen_masks(model) -> list:
    seen = []
    model.model.register_forward_pre_hook(lambda m, a, kw: seen.append(kw.get("attention_mask")), with_kwargs=True)
    return seen


def test_loss_and_gradients_on_real_tokens_match_the_masked_forward(tiny_model_dir):
    torch.manual_seed(0)
    ids = torch.randint(10, 200, (3, 24))
    mask = torch.ones_like(ids)
    mask[0, 15:] = 0
    mask[2, 7:] = 0
    labels = ids.masked_fill(mask == 0, -100)

    def loss_and_grads(model):
        model.zero_grad()
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        out.loss.backward()
        return out.loss.detach(), out.logits.detach(), [p.grad.clone() for p in model.parameters()]

    plain = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))
    hooked = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))
    drop_right_padding_mask(hooked)
    assert drop_right_padding_mask(hooked) is None  # once only
    seen = _seen_masks(hooked)
    loss_a, logits_a, grads_a = loss_and_grads(plain)
    loss_b, logits_b, grads_b = loss_and_grads(hooked)
    assert seen == [None]  # the hook took the mask away
    assert torch.allclose(loss_a, loss_b, atol=1e-5)
    real = mask.bool()
    assert torch.allclose(logits_a[real], logits_b[real], atol=1e-4)
    for a, b in zip(grads_a, grads_b, strict=True):
        assert torch.allclose(a, b, atol=1e-5)
    # the pads' own outputs do differ: the mask was really not applied
    assert not torch.allclose(logits_a[~real], logits_b[~real], atol=1e-4)

    # a left-padded batch keeps its mask, and the result matches the plain model
    left = mask.flip(-1)
    seen.clear()
    out_plain = plain(input_ids=ids, attention_mask=left).logits
    out_hooked = hooked(input_ids=ids, attention_mask=left).logits
    assert seen[0] is not None and torch.equal(seen[0], left)
    assert torch.allclose(out_plain[left.bool()], out_hooked[left.bool()], atol=1e-5)


def test_the_sft_trainer_gets_right_padded_batches_and_the_hook(tiny_model_dir, tmp_path):
    rows = [trajectory_to_sft_row(make_trajectory(i)) for i in range(3)]
    for i, row in enumerate(rows):  # rows of different lengths
        row["messages"][1]["content"] += " and its context" * (3 * i)
    config = SFTRunConfig(model=str(tiny_model_dir), dataset="unused.jsonl", output_dir=str(tmp_path / "run"),
                          max_length=2048, max_steps=1, use_cpu=True)
    trainer = build_sft_trainer(config, rows=rows)
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(3)])  # TRL's collation path
    assert len(set(batch["attention_mask"].sum(-1).tolist())) > 1  # rows of different lengths: padded
    assert is_right_padded(batch["attention_mask"])  # if TRL ever pads on the left, the hook stops firing
    seen = _seen_masks(trainer.model)
    trainer.model(**{k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "labels")})
    assert seen == [None]
