"""The `Benchmark` record and what every benchmark shares: option parsing and per-sample option order.

A Benchmark is a list of Task records plus how to treat them (default grader, whether options are shuffled
per sample, where the tasks came from). `split_options` reads lettered options embedded in a question ("A. x",
"(A) x", "A: x"). Options released with the correct one first (GPQA, LitQA2) get a seeded per-task order at
load (`shuffled_at_load`) and a seeded per-sample order wherever a sample is shown or graded
(`options_for_sample`, with the gold letters remapped), so a constant-letter policy cannot score above
chance; `letters_in_task_order` names a sample's letters in the task's order. Loading files is
`loaders.py`; names are `registry.py`.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sciresearcher.records import Task

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def shared_data_dir() -> Path:
    """`$SCIRESEARCHER_DATA`, else ../shared/data beside the repository."""
    env = os.environ.get("SCIRESEARCHER_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@dataclass
class Benchmark:
    """Loaded tasks plus how to treat them: default grader, per-sample option shuffling, where they came from."""

    name: str
    tasks: list[Task]
    source: str
    grader: str = "rules"  # rules | judge
    shuffle_options: bool = False
    notes: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        by_type: dict[str, int] = {}
        for t in self.tasks:
            by_type[t.answer_type] = by_type.get(t.answer_type, 0) + 1
        return {"name": self.name, "tasks": len(self.tasks), "by_answer_type": by_type, "source": self.source}


_CHOICES_HEADER = re.compile(r"\n\s*(?:Answer\s+Choices|Options|Choices)\s*:\s*\n", re.IGNORECASE)
_OPTION_LINE = re.compile(r"^\s*\(?([A-Z])[.):]\s+(.*)$")  # "A. x", "(A) x", "A) x", "A: x" (TRQA)


def split_options(query: str) -> tuple[str, list[str] | None]:
    """('question stem', ['opt A', ...]) when `query` embeds lettered options (A., B., ... in order)."""
    header = _CHOICES_HEADER.search(query)
    stem, block = (query[: header.start()], query[header.end():]) if header else (None, None)
    if block is None:  # options as trailing lines "A. ...", "B. ..." without a header
        lines = query.rstrip().split("\n")
        start = next((i for i in range(len(lines)) if re.match(r"^\s*\(?A[.):]\s", lines[i])), None)
        if start is None or start == 0:
            return _split_inline_options(query)
        stem, block = "\n".join(lines[:start]), "\n".join(lines[start:])
    options: list[str] = []
    for line in block.strip().split("\n"):
        m = _OPTION_LINE.match(line)
        if m and m.group(1) == LETTERS[len(options)]:
            options.append(m.group(2).strip())
        elif options and line.strip():
            options[-1] += "\n" + line.strip()
    if len(options) < 2:
        return query.strip(), None
    return stem.strip(), options


_INLINE_MARK = re.compile(r"(?:^|\s)\(?([A-Z])[.):]\s+")


def _split_inline_options(query: str) -> tuple[str, list[str] | None]:
    """Options written on one line: 'Which? A. x B. y C. z' or '(A) x (B) y'; needs A, B, ... in order."""
    marks = [m for m in _INLINE_MARK.finditer(query)]
    chain: list[re.Match[str]] = []
    for m in marks:
        if m.group(1) == LETTERS[len(chain)]:
            chain.append(m)
        elif m.group(1) == "A":  # restart: an earlier "A." was prose
            chain = [m]
    if len(chain) < 2 or chain[0].start() == 0:
        return query.strip(), None
    options = [query[m.end(): (chain[i + 1].start() if i + 1 < len(chain) else len(query))].strip().rstrip(";,")
               for i, m in enumerate(chain)]
    if any(not o for o in options):
        return query.strip(), None
    return query[: chain[0].start()].strip(), options


def _permuted(task: Task, order: list[int]) -> Task:
    """The task with its options put in `order` (order[i] = old index now at i) and its gold letters remapped."""
    assert task.options is not None
    options = [task.options[i] for i in order]
    gold = "".join(sorted(LETTERS[order.index(LETTERS.index(ch))] for ch in task.answer if ch in LETTERS))
    return task.model_copy(update={"options": options, "answer": gold})


def shuffled_at_load(task: Task) -> Task:
    """A task whose released options list the correct one first (GPQA, LitQA2), in a seeded per-task order.

    The order depends only on the task id, so every path that shows the task (rollouts, `eval score`, exports,
    GRPO prompts) sees the same order, and the gold is not always "A". Marks the task `shuffle: true`, so each
    sample of a rollout reorders it again (`options_for_sample`).
    """
    order = list(range(len(task.options or [])))
    random.Random(f"options:{task.id}").shuffle(order)
    shown = _permuted(task, order) if task.options else task
    return shown.model_copy(update={"metadata": {**task.metadata, "shuffle": True}})


def options_for_sample(task: Task, sample_index: int, seed: int = 0) -> tuple[Task, list[int]]:
    """The task with its options in a seeded per-sample order and the gold letter remapped.

    Returns (task, order) where `order[i]` is the original index of the option now at position i.
    Tasks without options (or without metadata `shuffle: true`) come back unchanged. `eval run` and
    `eval score` both call this with the sample's index and the run's seed, so a response is graded against
    the order its sample was shown.
    """
    if not task.options or not task.metadata.get("shuffle"):
        return task, list(range(len(task.options or [])))
    rng = random.Random(f"{seed}:{task.id}:{sample_index}")
    order = list(range(len(task.options)))
    rng.shuffle(order)
    return _permuted(task, order), order


def letters_in_task_order(letters: str | None, order: list[int] | None) -> str | None:
    """Option letters read in a sample's order (`options_for_sample`) named in the task's own order.

    Lets samples shown in different orders be compared (maj@k votes). Anything that is not a run of option
    letters comes back unchanged.
    """
    if not letters or not order or not all(ch in LETTERS[: len(order)] for ch in letters):
        return letters
    return "".join(sorted(LETTERS[order[LETTERS.index(ch)]] for ch in letters))
