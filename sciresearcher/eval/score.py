"""`eval score`: grade responses produced elsewhere against a task file and summarise them.

Responses are JSONL, one line per sample: `{"task_id": ..., "response": "..."}` (several lines for one task
make n samples, in file order). Responses whose task id is not in the tasks are reported in the summary
(`unknown_task_ids`) and logged, never silently dropped; tasks without a response count as wrong.
Grading uses the rule-based graders, or the HLE judge when one is given.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sciresearcher.agent.final import parse_final_answer
from sciresearcher.errors import DataError
from sciresearcher.grade.graders import grade
from sciresearcher.grade.metrics import Sample, summarize
from sciresearcher.grade.outcome import Judge
from sciresearcher.runs import iter_jsonl
from sciresearcher.tasks.benchmark import Benchmark

log = logging.getLogger(__name__)


def read_responses(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise DataError(f"responses file {path} does not exist")
    rows = []
    for lineno, row in iter_jsonl(path):
        if not isinstance(row, dict) or "task_id" not in row or "response" not in row:
            raise DataError(f"{path}:{lineno}: each line needs task_id and response")
        rows.append(row)
    return rows


async def score_responses(bench: Benchmark, responses: list[dict[str, Any]], ks: list[int],
                          judge: Judge | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(summary, graded rows). `judge` is an HLEJudge or None for rule-based grading."""
    from sciresearcher.agent.prompts import render_question

    tasks = {t.id: t for t in bench.tasks}
    unknown = sorted({str(r["task_id"]) for r in responses if str(r["task_id"]) not in tasks})
    if unknown:
        log.warning("%d responses name task ids not in %s: %s", len(unknown), bench.name, ", ".join(unknown[:10]))
    samples, graded = [], []
    for row in responses:
        task = tasks.get(str(row["task_id"]))
        if task is None:
            continue
        text = row["response"]
        g = (await judge.grade(render_question(task), text, task.answer)) if judge is not None else grade(task, text)
        final = parse_final_answer(text) if text else None
        samples.append(Sample(task_id=task.id, correct=g.correct, extracted=g.extracted,
                              confidence=final.confidence if final else None, category=task.category,
                              answer_type=task.answer_type, difficulty=task.difficulty))
        graded.append({"task_id": task.id, "grade": g.model_dump(mode="json")})
    summary = summarize(samples, list(tasks), ks)
    summary["benchmark"] = bench.counts()
    summary["unknown_task_ids"] = unknown
    return summary, graded
