"""GRPO's loop stop: a looping completion ends early and still reads to TRL as truncated (no end token)."""

from __future__ import annotations

import pytest
from test_grpo import TASK, _config
from transformers import AutoModelForCausalLM, AutoTokenizer

from sciresearcher.errors import TrainingError
from sciresearcher.train.grpo import build_grpo_trainer
from sciresearcher.train.grpo_loop_stop import with_loop_stop


def test_a_looping_row_stops_early_and_keeps_no_end_token(tiny_model_dir):
    tok = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    inputs = tok(["the enzyme", "a buffer of sodium chloride at"], return_tensors="pt", padding=True, padding_side="left")
    settings = {"max_new_tokens": 120, "do_sample": False}
    plain = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir)).generate(**inputs, **settings)
    model = with_loop_stop(AutoModelForCausalLM.from_pretrained(str(tiny_model_dir)), 9)
    assert with_loop_stop(model, 9) is model and model._sciresearcher_loop_stop == 9  # wrapped once
    stopped = model.generate(**inputs, **settings)

    width = inputs["input_ids"].shape[1]
    end_ids = {*model.generation_config.eos_token_id, tok.pad_token_id}
    assert plain.shape[1] == width + 120  # the random model decodes its whole budget
    assert stopped.shape[1] < width + 120  # ... which the loop stop cuts short
    for row in range(2):
        new, ref = stopped[row, width:].tolist(), plain[row, width:].tolist()
        same = next((i for i, (a, b) in enumerate(zip(new, ref, strict=False)) if a != b), len(new))
        assert same >= 9  # the tokens it decoded are the ones it decodes without the stop
        assert all(t == new[same - 1] for t in new[same:])  # after the stop: its last token, not the pads
        assert not end_ids & set(new)  # no pad or end token: TRL counts the row as cut at its budget


def test_grpo_steps_with_the_loop_stop_count_loops_as_truncated(tiny_model_dir, tmp_path):
    trainer = build_grpo_trainer(_config(tiny_model_dir, tmp_path / "run", loop_stop=9, temperature=1e-3,
                                         max_completion_length=160), tasks=[TASK])
    trainer.train()
    metrics = trainer.state.log_history[0]
    assert metrics["completions/clipped_ratio"] == 1.0  # masked out of the loss, as at the budget
    assert metrics["completions/max_length"] < 160  # but not decoded to it
    with pytest.raises(TrainingError, match="at least 3 tokens"):
        build_grpo_trainer(_config(tiny_model_dir, tmp_path / "bad", loop_stop=2), tasks=[TASK])
