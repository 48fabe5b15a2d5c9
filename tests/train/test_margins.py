"""How firmly a model holds a trajectory (train/margins.py), on the tiny model trained to replay the python
trajectory: its own trajectory has only positive gaps, one changed digit in the code makes the weakest negative."""

from __future__ import annotations

import copy
import json

from train_helpers import python_gold_row

from sciresearcher.train.margins import gap_bins, weakest_gap, weakest_gaps


def test_the_models_own_trajectory_holds_and_a_changed_digit_does_not(python_agent_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(python_agent_model)
    model = AutoModelForCausalLM.from_pretrained(python_agent_model).eval()
    gold = python_gold_row()
    changed = copy.deepcopy(gold)
    call = next(m for m in changed["messages"] if m.get("tool_calls"))["tool_calls"][0]["function"]
    arguments = call["arguments"]
    call["arguments"] = (json.dumps({"code": "print(6 * 8)"}) if isinstance(arguments, str)
                         else {"code": "print(6 * 8)"})

    held = weakest_gap(model, tokenizer, gold)
    assert 0 < held <= 1
    assert weakest_gap(model, tokenizer, changed) < 0  # the model writes 7 there, not 8
    assert weakest_gaps(str(python_agent_model), {"gold": gold}) == {"gold": held}


def test_gap_bins_count_what_a_later_model_lost():
    gaps = {"a": -0.1, "b": 0.1, "c": 0.3, "d": 0.5, "e": 0.9, "f": 0.95}
    later = {"a": True, "b": False, "c": True, "d": False, "e": True}  # f: no grade, not counted as lost
    assert gap_bins(gaps, later) == [
        {"range": "<0.2", "tasks": 2, "lost": 1}, {"range": "0.2-0.4", "tasks": 1, "lost": 0},
        {"range": "0.4-0.6", "tasks": 1, "lost": 1}, {"range": ">=0.6", "tasks": 2, "lost": 0}]
