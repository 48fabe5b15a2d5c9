"""How firmly a model holds a trajectory: at each token of its assistant turns, teacher-forced, the probability the
model gives that token minus the probability of its strongest rival; a trajectory's weakest such gap.

A greedy answer can be right on a token the model prefers by a hair. A few RL updates, even ones that never sample
that task, move such a token either way, so the tasks that GRPO gains and loses come mostly from the thin ones
(docs/training.md, thirteenth round: of the demo student's solved validation tasks, the 10% whose weakest gap is
under 0.2 hold half of those GRPO lost). On the model's own greedy trajectory every gap is >= 0 (each token is its
argmax); a negative gap means the trajectory has a token the model would not write there.

`weakest_gap(model, tokenizer, row)` scores one `{messages, tools}` row (train/rows.py: a trajectory as SFT rows
hold it), each assistant turn after the prompt the model saw at that turn (its own chat template with the
generation prompt), tokenised as train/token_check.py's `turn_ids` does. `gap_bins` counts trajectories per gap range and how
many of them a later model got wrong. Not here: generation and grading (the eval harness).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import pairwise
from typing import Any

from sciresearcher.train.token_check import turn_ids

EDGES = (0.2, 0.4, 0.6)


def weakest_gap(model: Any, tokenizer: Any, row: dict[str, Any]) -> float:
    """The smallest (p(token) - max p(other token)) over the completion tokens of the row's assistant turns."""
    import torch

    messages = row["messages"]
    tools = json.loads(row.get("tools") or "[]") or None
    weakest = 1.0
    for k, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt, completion = turn_ids(tokenizer, messages, k, tools, tokenizer.chat_template)
        if not completion:
            continue
        with torch.no_grad():
            logits = model(torch.tensor([prompt + completion], device=model.device)).logits
        probs = torch.softmax(logits[0, len(prompt) - 1:-1].float(), -1)
        own = torch.tensor(completion, device=probs.device)
        p_own = probs.gather(1, own[:, None])[:, 0]
        rival = probs.scatter(1, own[:, None], -1.0).max(dim=1).values
        weakest = min(weakest, float((p_own - rival).min()))
    return weakest


def weakest_gaps(model_dir: str, rows: dict[str, dict[str, Any]]) -> dict[str, float]:
    """`weakest_gap` of each row (by id) under the model in `model_dir`, on CPU."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    return {key: weakest_gap(model, tokenizer, row) for key, row in rows.items()}


def gap_bins(gaps: dict[str, float], later_correct: dict[str, bool],
             edges: Iterable[float] = EDGES) -> list[dict[str, Any]]:
    """Per gap range (`< e0`, `e0-e1`, ..., `>= last`): the trajectories in it and how many of them a later model
    (`later_correct`, task id -> its grade; a task it has no grade for is not counted as lost) got wrong."""
    cuts = [float("-inf"), *edges, float("inf")]
    out = []
    for lo, hi in pairwise(cuts):
        keys = [k for k, g in gaps.items() if lo <= g < hi]
        label = f"<{hi:g}" if lo == float("-inf") else f">={lo:g}" if hi == float("inf") else f"{lo:g}-{hi:g}"
        out.append({"range": label, "tasks": len(keys), "lost": sum(1 for k in keys if later_correct.get(k) is False)})
    return out
