"""The grade of one trajectory's outcome: the rule-based grader, or the HLE judge when one is given.

`Judge` is the protocol a judge meets (`HLEJudge` in judge.py, or a test double). `grade_outcome` is what
rollouts, `eval score` and rewards call: the judge sees the question as the model saw it and the raw final
reply; a judge failure (unreadable verdict, unreachable model) is recorded as a failed grade with the reason,
never raised, so one bad call cannot end a run. Graders themselves are graders.py.
"""

from __future__ import annotations

import logging
from typing import Protocol

from sciresearcher.errors import JudgeError
from sciresearcher.grade.graders import grade
from sciresearcher.records import FinalAnswer, Grade, Task

log = logging.getLogger(__name__)


class Judge(Protocol):
    """Grades a free-form response against a gold answer (the HLE judge's interface)."""

    async def grade(self, question: str, response: str | None, correct_answer: str) -> Grade: ...


async def grade_outcome(task: Task, final: FinalAnswer | str | None, judge: Judge | None = None, *,
                        question: str | None = None, where: str = "") -> Grade:
    """Rule-based grade, or the judge's; `question` is what the model was shown (default: the task's question)."""
    if judge is None:
        return grade(task, final)
    response = final.raw if isinstance(final, FinalAnswer) else final
    try:
        return await judge.grade(question if question is not None else task.question, response, task.answer)
    except JudgeError as exc:
        log.warning("judge failed on %s: %s", where or task.id, exc)
        return Grade(correct=False, score=0.0, method="hle_judge", reason=f"judge failed: {exc}")
