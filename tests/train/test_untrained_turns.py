"""Turns of weight 0 (OpenAI's fine-tuning format): kept in the context SFT trains on, left out of its loss.

The reference policy's demonstrated mistakes (a python call cut inside its print, then the whole call) are such
turns; here a hand-made row of that shape goes through `render_row`, the token check and the SFT trainer's dataset,
against the same row without weights rendered by TRL itself.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from train_helpers import python_row_with_a_mistake

from sciresearcher.errors import TrainingError
from sciresearcher.train.rows import normalise_row
from sciresearcher.train.sft import SFTRunConfig, build_sft_trainer
from sciresearcher.train.templates import has_untrained_turns, render_row
from sciresearcher.train.token_check import check_row, turn_rows


def test_a_turn_of_weight_0_stays_in_the_tokens_and_leaves_the_mask(tiny_tokenizer):
    weighted, plain = python_row_with_a_mistake(0), python_row_with_a_mistake(None)
    assert has_untrained_turns(weighted) and not has_untrained_turns(plain)
    got, full = render_row(tiny_tokenizer, weighted), render_row(tiny_tokenizer, plain)
    assert got["input_ids"] == full["input_ids"]  # the context is the same: the mistake is still there
    dropped = [i for i, (a, b) in enumerate(zip(got["assistant_masks"], full["assistant_masks"])) if a != b]
    assert dropped and all(full["assistant_masks"][i] == 1 for i in dropped)
    text = tiny_tokenizer.decode([full["input_ids"][i] for i in dropped])
    assert "print(6 *" in text and "print(6 * 7)" not in text and "42" not in text  # exactly the cut turn
    trained = tiny_tokenizer.decode([t for t, m in zip(got["input_ids"], got["assistant_masks"]) if m])
    assert "print(6 * 7)" in trained and "Answer: 42" in trained and "print(6 *\"" not in trained
    assert check_row(tiny_tokenizer, weighted) is None  # what the policy saw, with the cut turn not trained


def test_the_token_check_refuses_a_weight_0_turn_that_would_be_trained(tiny_tokenizer, monkeypatch):
    from sciresearcher.train import templates

    row = python_row_with_a_mistake(0)
    real = templates.render_row
    monkeypatch.setattr(templates, "render_row", lambda tok, r, t=None: real(tok, {**r, "messages": [
        {k: v for k, v in m.items() if k != "weight"} for m in r["messages"]]}, t))  # a renderer ignoring weights
    divergence = check_row(tiny_tokenizer, row)
    assert divergence is not None and divergence.turn == 1 and "weight 0" in str(divergence)


def test_sft_trains_the_row_as_trl_would_but_for_the_weight_0_turn(tiny_model_dir, tiny_tokenizer, tmp_path):
    def labels(rows: list[dict[str, Any]]) -> tuple[list[int], list[int]]:
        config = SFTRunConfig(model=str(tiny_model_dir), dataset="unused.jsonl", output_dir=str(tmp_path / "run"),
                              max_length=2048, max_steps=1, use_cpu=True)
        example = build_sft_trainer(config, rows=rows).train_dataset[0]
        return list(example["input_ids"]), list(example["labels"])

    ids, ours = labels([python_row_with_a_mistake(0)])  # rendered here, with the weight
    trl_ids, trl = labels([python_row_with_a_mistake(None)])  # rendered by TRL, every assistant turn trained
    assert ids == trl_ids
    differ = [i for i, (a, b) in enumerate(zip(ours, trl)) if a != b]
    assert differ and all(ours[i] == -100 and trl[i] != -100 for i in differ)
    assert "print(6 *" in tiny_tokenizer.decode([trl[i] for i in differ])
    assert [a for a in ours if a != -100] == [b for i, b in enumerate(trl) if b != -100 and i not in differ]


def test_per_turn_rows_of_weight_0_are_not_trained(tiny_model_dir, tmp_path):
    rows = turn_rows(python_row_with_a_mistake(0))
    assert [has_untrained_turns({"messages": r["completion"]}) for r in rows] == [True, False, False]
    config = SFTRunConfig(model=str(tiny_model_dir), dataset="unused.jsonl", output_dir=str(tmp_path / "run"),
                          max_length=2048, max_steps=1, use_cpu=True)
    trainer = build_sft_trainer(config, rows=rows)
    assert len(trainer.train_dataset) == 2


def test_a_weight_other_than_0_or_1_or_off_an_assistant_turn_is_refused():
    row = python_row_with_a_mistake(0)
    for i, weight in ((1, 0.5), (2, 0)):  # half a weight; a tool output cannot be trained on either way
        bad = copy.deepcopy(row)
        bad["messages"][i]["weight"] = weight
        with pytest.raises(TrainingError, match=f"message {i} has weight"):
            normalise_row(bad)
    assert normalise_row(row)["messages"][1]["weight"] == 0
