"""The outcome-only reward for verl, over the rows `export.py` writes in the `verl-rl` format.

Point verl at it with `custom_reward_function.path=<this file> custom_reward_function.name=compute_score`.
verl passes the decoded response; with a multi-turn tool agent that text holds the tool responses too, so the
final answer is read from what follows the last tool response. The Task in `extra_info["task"]` carries the
answer type, options and tolerance, so the grade is the same deterministic one our evaluation and TRL's GRPO
use (1.0 correct, 0.0 otherwise). It imports only the package's light modules, so verl's workers need just
`pip install sciresearcher`. The HLE judge is not available here (a verl reward is synchronous and local).
"""

from __future__ import annotations

import json
from typing import Any

_END_MARKERS = ("<|im_end|>", "<|endoftext|>", "</s>")


def final_segment(solution_str: str) -> str:
    """The text after the last tool response (the agent's answer turn), without end-of-turn markers."""
    text = solution_str
    for marker in ("</tool_response>", "<|im_start|>assistant"):
        if marker in text:
            text = text.rsplit(marker, 1)[1]
    for marker in _END_MARKERS:
        text = text.replace(marker, "")
    return text.strip()


def compute_score(data_source: str, solution_str: str, ground_truth: str, extra_info: dict[str, Any] | None = None,
                  **kwargs: Any) -> float:
    """1.0 when the response's final answer is correct for the row's task, else 0.0 (verl's reward signature)."""
    from sciresearcher.agent.final import parse_final_answer
    from sciresearcher.grade.graders import grade
    from sciresearcher.records import Task

    task_json = (extra_info or {}).get("task")
    if task_json:
        task = Task.model_validate(json.loads(task_json) if isinstance(task_json, str) else task_json)
    else:
        task = Task(id=str((extra_info or {}).get("task_id", "row")), question="", answer=str(ground_truth))
    return grade(task, parse_final_answer(final_segment(solution_str))).score
