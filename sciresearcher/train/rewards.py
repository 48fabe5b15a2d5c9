"""GRPO rewards: the grade of the final answer against the task's gold answer, and an optional copy reward.

TRL calls a reward function with the batch's `completions` (multi-turn: the list of assistant and tool
messages after the prompt) and every dataset column as a keyword list; our rows carry the Task record as
JSON in the `task` column. `outcome_reward` grades the last assistant text with the deterministic grader
(`sciresearcher.grade.graders.grade`, the same one rejection sampling and evaluation use). `make_judge_reward`
returns an async reward that asks the HLE judge (`sciresearcher.grade.judge.HLEJudge`, any LLMClient) instead;
TRL runs async rewards on its own event loop, concurrently across the batch. Both give 1.0 or 0.0: no format,
length or step shaping. A judge failure gives `None` for that rollout (TRL ignores it) rather than a wrong 0.

`copy_reward` is the one shaped term, off unless `grpo.copy_reward` weighs it in: the share of a computational
task's values (those the question gives and those its documents state, `metadata.variables`) that the
completion's python code assigns, by the task's own variable names, the last assignment of each name counting.
It rewards the step the demo's student fails most on unseen entities (copying a number from the question or
from what `read` returned) in groups whose answers all grade wrong, where the outcome reward has no spread. The
values it checks are the model's own inputs (the question, the tool outputs), so it hands the model nothing it
could not see; a code that sprays guesses gets credit only for the last value it assigns each name.

Not here: the environments and tools (environment.py) and the trainer (grpo.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
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


_ASSIGN = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?:#.*)?$")


def python_code(completion: Any) -> list[str]:
    """The code of every python call in a (multi-turn) completion, in order (arguments as a dict or JSON text)."""
    codes = []
    for message in completion if isinstance(completion, list) else []:
        if message.get("role") != "assistant":
            continue
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            if function.get("name") != "python":
                continue
            args = function.get("arguments")
            if isinstance(args, str):
                try:
                    args = json.loads(args)
                except json.JSONDecodeError:
                    continue
            if isinstance(args, dict) and isinstance(args.get("code"), str):
                codes.append(args["code"])
    return codes


def values_copied(task: Task, completion: Any) -> float | None:
    """Share of the task's numeric variables that the completion's python code assigns with the right value (the
    last `name = <number>` line of each name, across its python calls); None for a task without variables."""
    variables = {name: v["value"] for name, v in (task.metadata.get("variables") or {}).items() if isinstance(v, dict)
                 and isinstance(v.get("value"), int | float) and not isinstance(v["value"], bool)}
    if not variables:
        return None
    written: dict[str, float] = {}
    for code in python_code(completion):
        for line in code.splitlines():
            if (m := _ASSIGN.match(line)) and m.group(1) in variables:
                written[m.group(1)] = float(m.group(2))
    right = sum(1 for name, value in variables.items()
                if name in written and abs(written[name] - value) <= 1e-9 * max(1.0, abs(value)))
    return right / len(variables)


def copy_reward(completions: list[Any], task: list[str], **kwargs: Any) -> list[float | None]:
    """Shaped reward: the share of the task's values the python code copies right (`values_copied`); `None` (left
    out by TRL) for tasks without variables."""
    return [values_copied(Task.model_validate_json(t), c) for c, t in zip(completions, task, strict=True)]


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
