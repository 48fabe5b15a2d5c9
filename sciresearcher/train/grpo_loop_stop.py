"""Ending GRPO completions that loop, as if they had run to the token budget, without decoding the budget.

A small student sampling at temperature 1 now and then falls into a loop (`", "goal": "density of", "goal": ...`)
that runs until `max_completion_length`. TRL generates a step's completions in one padded batch, so that one row
keeps the whole batch decoding: on the demo's seed 1, steps with a looping completion took 13-27 s against ~5 s
for the others (GRPO 111 s instead of ~50). Such a completion ends without an end-of-turn token, so TRL counts it
as truncated, and with `mask_truncated_completions` (the default here) it carries no loss; its reward is the
grader's on text that never reaches an answer.

`with_loop_stop(model, min_span)` wraps `model.generate` (the method TRL's transformers path calls) with
`llm.loop_stop.LoopStop`: a row whose last `min_span` or more tokens repeat one period at least three times stops
there. transformers pads a stopped row with the pad token, which TRL would read as an end of turn (the pad is
among the model's end ids): the completion would then count as finished and enter the loss. So the wrapper
writes the row's last token over those pads instead, and TRL sees what it sees at the budget: a completion
without an end token, truncated, masked out of the loss. Only the number of decoded tokens changes.
It does not apply to vLLM generation (grpo.py refuses the combination).
"""

from __future__ import annotations

from typing import Any


def with_loop_stop(model: Any, min_span: int) -> Any:
    """Wraps `model.generate` in place (once) so that looping rows stop after `min_span`+ repeated tokens and
    end without an end token; returns the model."""
    from transformers import StoppingCriteriaList

    from sciresearcher.llm.loop_stop import LoopStop, end_ids

    if getattr(model, "_sciresearcher_loop_stop", None) is not None:
        return model
    generate = model.generate

    def generate_with_loop_stop(*args: Any, **kwargs: Any) -> Any:
        input_ids = kwargs["input_ids"] if "input_ids" in kwargs else args[0]
        config = kwargs.get("generation_config") or getattr(model, "generation_config", None)
        width = input_ids.shape[1]
        stop = LoopStop(width, min_span, end_ids(config))
        kwargs["stopping_criteria"] = StoppingCriteriaList([*(kwargs.get("stopping_criteria") or []), stop])
        output = generate(*args, **kwargs)
        sequences = output if hasattr(output, "shape") else output.sequences
        for row, n in stop.stopped.items():  # pads after the stop would read as an end of turn
            sequences[row, width + n:] = sequences[row, width + n - 1]
        return output

    model.generate = generate_with_loop_stop
    model._sciresearcher_loop_stop = min_span
    return model
