"""Reading Task JSONL files (the output of synthesis, the input of rollouts, GRPO and the RL exports).

One reader for every consumer, so a malformed line is reported the same way everywhere: the file and line
number and the first validation message. Benchmark files in other layouts are `eval.benchmarks`' job.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sciresearcher.errors import DataError
from sciresearcher.records import Task
from sciresearcher.runs import iter_jsonl


def read_tasks(path: str | Path, *, what: str = "task file") -> list[Task]:
    """Every Task in a JSONL file; DataError names the file and line of a bad record, or an empty file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} {path} does not exist", hint="point it at a JSONL file of Task records")
    tasks = []
    for lineno, row in iter_jsonl(path, hint="each line is one Task record (JSON)"):
        try:
            tasks.append(Task.model_validate(row))
        except ValueError as exc:
            raise DataError(f"{path}:{lineno}: not a Task record ({str(exc).splitlines()[0]})",
                            hint="tasks need at least id, question and answer") from exc
    if not tasks:
        raise DataError(f"{what} {path} is empty")
    dups = [task_id for task_id, n in Counter(t.id for t in tasks).items() if n > 1]
    if dups:
        dup = dups[0]
        raise DataError(f"{path}: task id {dup!r} appears more than once", hint="task ids must be unique")
    return tasks
