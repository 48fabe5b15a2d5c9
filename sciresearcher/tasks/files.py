"""Reading Task JSONL files (the output of synthesis, the input of rollouts, GRPO and the RL exports).

One reader for every consumer, so a malformed line is reported the same way everywhere: the file and line
number and each field that failed validation. Benchmark files in other layouts are `loaders.py`' job.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pydantic import ValidationError

from sciresearcher.errors import DataError
from sciresearcher.records import Task
from sciresearcher.runs import iter_jsonl


def validation_problems(exc: ValidationError, limit: int = 6) -> str:
    """'answer: missing; answer_type: must be one of ... (got 'mc')': each failing field and why."""
    parts = []
    for err in exc.errors()[:limit]:
        field = ".".join(str(p) for p in err.get("loc", ())) or "(record)"
        msg = "missing" if err.get("type") == "missing" else str(err.get("msg", "invalid"))
        if err.get("type") != "missing" and "input" in err and not isinstance(err["input"], dict | list):
            msg += f" (got {str(err['input'])[:40]!r})"
        parts.append(f"{field}: {msg}")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def task_from_row(row: object, where: str) -> Task:
    """One Task record; DataError names `where` (file:line) and each failing field with its problem."""
    if not isinstance(row, dict):
        raise DataError(f"{where}: not a Task record (a JSON {type(row).__name__}, not an object)",
                        hint="each line is one JSON object with at least id, question, answer")
    try:
        return Task.model_validate(row)
    except ValidationError as exc:
        raise DataError(f"{where}: not a Task record: {validation_problems(exc)} (fields present: "
                        f"{', '.join(list(row)[:12])})",
                        hint="each line needs at least id, question, answer (see sciresearcher.records.Task)") from exc


def read_tasks(path: str | Path, *, what: str = "task file") -> list[Task]:
    """Every Task in a JSONL file; DataError names the file and line of a bad record, or an empty file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} {path} does not exist", hint="point it at a JSONL file of Task records")
    tasks = []
    for lineno, row in iter_jsonl(path, hint="each line is one Task record (JSON)"):
        tasks.append(task_from_row(row, f"{path}:{lineno}"))
    if not tasks:
        raise DataError(f"{what} {path} is empty")
    dups = [task_id for task_id, n in Counter(t.id for t in tasks).items() if n > 1]
    if dups:
        dup = dups[0]
        raise DataError(f"{path}: task id {dup!r} appears more than once", hint="task ids must be unique")
    return tasks
