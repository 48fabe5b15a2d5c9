"""Token exactness on the tiny Qwen3 (Qwen3's own template as the inference template, TRL's training variant):
where a whole-conversation row diverges from what the policy saw, and that per-turn rows never do."""

from __future__ import annotations

from typing import Any

from train_helpers import make_trajectory, python_gold_row

from sciresearcher.train.rows import trajectory_to_sft_row
from sciresearcher.train.token_check import check_row, turn_rows


def test_a_row_with_reasoning_in_every_turn_is_exact(tiny_tokenizer: Any):
    row = trajectory_to_sft_row(make_trajectory(1))  # every assistant turn has reasoning
    assert check_row(tiny_tokenizer, row) is None


def test_an_earlier_turn_without_reasoning_diverges_and_says_where(tiny_tokenizer: Any):
    row = python_gold_row(reasoning=None)  # the tool-call turn has no reasoning, as a non-thinking teacher writes it
    divergence = check_row(tiny_tokenizer, row)
    assert divergence is not None
    assert divergence.turn == 3 and divergence.part == "prompt"  # the answer turn's context differs
    # at inference Qwen3's template drops the empty think block of the history; TRL's training variant keeps it
    assert "<think>" in divergence.training and "<think>" not in divergence.inference
    assert "token" in str(divergence) and "turn 3" in str(divergence)


def test_per_turn_rows_are_exact_where_the_sequence_is_not(tiny_tokenizer: Any):
    row = python_gold_row(reasoning=None)
    turns = turn_rows(row)
    assert [len(t["prompt"]) for t in turns] == [1, 3]
    assert all(check_row(tiny_tokenizer, t) is None for t in turns)


def test_completion_tokens_left_out_of_the_loss_are_caught(tiny_tokenizer: Any):
    row = trajectory_to_sft_row(make_trajectory(2))
    # the inference template as the training template: same tokens, but no {% generation %} markers, so no mask
    divergence = check_row(tiny_tokenizer, row, training_template=tiny_tokenizer.chat_template)
    assert divergence is not None and divergence.part == "mask" and divergence.turn == 2
