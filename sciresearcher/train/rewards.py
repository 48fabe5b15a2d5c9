"""Outcome-only GRPO rewards: the grade of the final answer against the task's gold answer, nothing else.

TRL calls a reward function with the batch's `completions` (multi-turn: the list of assistant and tool
messages after the prompt) and every dataset column as a keyword list; our rows carry the Task record as
JSON in the `task` column. `outcome_reward` grades the last assistant text with the deterministic grader
(`sciresearcher.grade.graders.grade`, the same one rejection sampling and evaluation use). `make_judge_reward`
returns an async reward that asks the HLE judge (`sciresearcher.grade.judge.HLEJudge`, any LLMClient) instead;
TRL runs async rewards on its own event loop, concurrently across the batch. Both give 1.0 or 0.0: no format,
length or step shaping. A judge failure gives `None` for that rollout (TRL ignores it) rather than a wrong 0.

Not here: the environments and tools (environment.py) and the trainer (grpo.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sciresearcher.errors import JudgeError
from sciresearcher.grade.outcome import Judge
from sciresearcher.records import Task

log = logging.getLogger(__name__)


def final_text(completion: Any) -> str:
    """The last assistant text of a (multi-turn) completion; empty when it ended on a tool call or nothing."""
    if isinstance(completion, str):
        return completion
    for message in reversed(completion or []):
        if message.get("role") == "assistant":
            return "" if message.get("tool_calls") else (message.get("content") or "")
    return ""


def outcome_reward(completions: list[Any], task: list[str], **kwargs: Any) -> list[float]:
    """Outcome-only reward: 1.0 when the graded final answer is correct, else 0.0."""
    from sciresearcher.grade.graders import grade

    rewards = []
    for completion, task_json in zip(completions, task, strict=True):
        record = Task.model_validate_json(task_json)
        rewards.append(1.0 if grade(record, final_text(completion)).correct else 0.0)
    return rewards


def make_judge_reward(judge: Judge) -> Callable[..., Awaitable[list[float | None]]]:
    """An async outcome reward graded by `judge` (an `HLEJudge`; its LLM is a separate, frozen endpoint)."""

    async def judge_reward(completions: list[Any], task: list[str], **kwargs: Any) -> list[float | None]:
        async def one(completion: Any, task_json: str) -> float | None:
            record = Task.model_validate_json(task_json)
            try:
                graded = await judge.grade(record.question, final_text(completion), record.answer)
            except JudgeError as exc:  # an unreadable or unreachable judge must not become a wrong answer
                log.warning("judge failed on task %s, reward left out: %s", record.id, exc)
                return None
            return 1.0 if graded.correct else 0.0

        return list(await asyncio.gather(*(one(c, t) for c, t in zip(completions, task, strict=True))))

    return judge_reward
