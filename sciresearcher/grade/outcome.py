"""The grade of one trajectory's outcome: the rule-based grader, or the HLE judge when one is given.

`Judge` is the protocol a judge meets (`HLEJudge` in judge.py, or a test double). `grade_outcome` is what
rollouts, `eval score` and rewards call. The judge sees what HLE's official script gives it: the raw
question as the benchmark file wrote it (`judge_question`: not re-rendered, no answer instruction), the raw
final reply and the gold answer. Nothing raises for one sample: a judge failure (unreadable verdict,
unreachable model) and a task whose gold cannot be graded (TaskError) are recorded as failed grades with
the reason (`method` "hle_judge" with reason "judge failed: ...", or `method` UNGRADABLE), so one bad call
or bad gold cannot end a run. Graders themselves are graders.py.
"""

from __future__ import annotations

import logging
from typing import Protocol

from sciresearcher.errors import JudgeError, TaskError
from sciresearcher.grade.graders import grade
from sciresearcher.records import FinalAnswer, Grade, Task

log = logging.getLogger(__name__)

UNGRADABLE = "ungradable"  # Grade.method of a sample whose task's gold cannot be graded
JUDGE_FAILED = "judge failed: "  # Grade.reason prefix of a sample the judge could not grade

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class Judge(Protocol):
    """Grades a free-form response against a gold answer (the HLE judge's interface)."""

    async def grade(self, question: str, response: str | None, correct_answer: str) -> Grade: ...


def judge_question(task: Task) -> str:
    """The question as the benchmark file wrote it (`metadata.raw_question`: HLE's `question`, the export's
    `query`); for a task without one, or whose options were reordered, its stem and lettered options in the
    order shown, without any answer instruction."""
    raw = task.metadata.get("raw_question")
    if raw and not task.metadata.get("shuffle"):
        return str(raw)
    if not task.options:
        return task.question
    lines = "\n".join(f"{_LETTERS[i]}. {opt}" for i, opt in enumerate(task.options))
    return f"{task.question.strip()}\n\nAnswer Choices:\n{lines}"


def failure_kind(g: Grade | None) -> str | None:
    """'ungradable' or 'judge_failed' for a grade that records a grading failure, else None."""
    if g is None:
        return None
    if g.method == UNGRADABLE:
        return "ungradable"
    if g.method == "hle_judge" and g.reason.startswith(JUDGE_FAILED):
        return "judge_failed"
    return None


async def grade_outcome(task: Task, final: FinalAnswer | str | None, judge: Judge | None = None, *,
                        question: str | None = None, where: str = "") -> Grade:
    """Rule-based grade, or the judge's; `question` is what the judge sees (default: `judge_question(task)`).

    Never raises for one sample: a TaskError (bad gold) or JudgeError becomes a wrong grade with the reason.
    """
    if judge is None:
        try:
            return grade(task, final)
        except TaskError as exc:
            log.warning("task %s cannot be graded: %s", where or task.id, exc)
            return Grade(correct=False, score=0.0, method=UNGRADABLE, reason=f"the task's gold cannot be graded: {exc}")
    response = final.raw if isinstance(final, FinalAnswer) else final
    try:
        return await judge.grade(question if question is not None else judge_question(task), response, task.answer)
    except JudgeError as exc:
        log.warning("judge failed on %s: %s", where or task.id, exc)
        return Grade(correct=False, score=0.0, method="hle_judge", reason=f"{JUDGE_FAILED}{exc}")
