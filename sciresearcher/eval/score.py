"""`eval score`: grade responses produced elsewhere against a benchmark and summarise them.

Responses are JSONL, one line per sample: `{"task_id": ..., "response": "..."}`, optionally with
`sample_index` (or HLE's predictions JSON, one response per id). A response's task id is the benchmark file's own id (GPQA `Record ID`, HLE `id`, TRQA `id`,
the PubMedQA PMID); an id with or without a namespace prefix (`pubmedqa:10808977` / `10808977`) names the
same task when that is unambiguous. Responses that match no task are an error naming how many and a few ids
(`allow_unknown=True` scores the rest and lists them in the summary); tasks without a response count as
wrong (the summary says so in `definitions.denominator`).

Options of shuffled benchmarks (GPQA, LitQA2) are graded in the order that sample was shown in
(`options_for_sample` with the run's seed): a line's `sample_index`, else its position among that task's
lines. Grading is `grade.outcome.grade_outcome` (rules, or the HLE judge on the raw question): a gold that
cannot be graded or a failed judge call is a failed grade with its reason, never an abort.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from sciresearcher.agent.final import parse_final_answer
from sciresearcher.errors import DataError
from sciresearcher.grade.metrics import Sample, summarize
from sciresearcher.grade.outcome import Judge, failure_kind, grade_outcome
from sciresearcher.records import Task
from sciresearcher.rollout.summary import task_groups
from sciresearcher.runs import iter_jsonl
from sciresearcher.tasks.benchmark import Benchmark, letters_in_task_order, options_for_sample

log = logging.getLogger(__name__)

_NAMESPACE = re.compile(r"^[A-Za-z][\w.-]*:(?=.)")


def warn_without_judge(bench: Benchmark, how: str) -> str | None:
    """For a benchmark graded by the HLE judge in the paper but scored here without one: logs and returns the
    warning (`how` names the option that sets a judge in the calling command); None otherwise."""
    if bench.grader != "judge":
        return None
    message = (f"{bench.name} is graded with the HLE judge in the paper; no judge model is set, so rule-based "
               f"graders are used (stricter on free-form answers, not comparable with published figures). "
               f"{how} to use the judge.")
    log.warning(message)
    return message


def read_responses(path: Path) -> list[dict[str, Any]]:
    """Response rows from JSONL, or from HLE's predictions JSON (`{id: {"response": ...}, ...}`, as its
    run_model_predictions.py writes them)."""
    if not path.is_file():
        raise DataError(f"responses file {path} does not exist")
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
        if not isinstance(data, dict) or not all(isinstance(v, dict) and "response" in v for v in data.values()):
            raise DataError(f"{path}: a .json responses file maps task ids to {{'response': ...}} (HLE predictions)",
                            hint="or write JSONL, one {task_id, response} per line")
        return [{"task_id": key, "response": value["response"]} for key, value in data.items()]
    rows = []
    for lineno, row in iter_jsonl(path):
        if not isinstance(row, dict) or "task_id" not in row or "response" not in row:
            raise DataError(f"{path}:{lineno}: each line needs task_id and response (optionally sample_index)")
        if "sample_index" in row and not (isinstance(row["sample_index"], int) and row["sample_index"] >= 0):
            raise DataError(f"{path}:{lineno}: sample_index must be an integer >= 0, got {row['sample_index']!r}")
        rows.append(row)
    return rows


def _bare(task_id: str) -> str:
    return _NAMESPACE.sub("", task_id)


def match_task_ids(tasks: list[Task], ids: list[str]) -> tuple[dict[str, str], list[str]]:
    """({response id: task id}, unknown ids): exact ids first, then ids equal once a namespace prefix is
    dropped on either side ('pubmedqa:123' ~ '123'), when only one task has that bare id."""
    exact = {t.id for t in tasks}
    bare: dict[str, list[str]] = defaultdict(list)
    for t in tasks:
        bare[_bare(t.id)].append(t.id)
    found, unknown = {}, []
    for rid in dict.fromkeys(ids):
        if rid in exact:
            found[rid] = rid
        elif len(bare.get(_bare(rid), [])) == 1:
            found[rid] = bare[_bare(rid)][0]
        else:
            unknown.append(rid)
    return found, unknown


def _sample_indices(rows: list[dict[str, Any]], task_of: dict[str, str]) -> list[int | None]:
    """Each row's sample index: its `sample_index`, else its position among its task's rows; a repeat is an error."""
    seen: dict[str, set[int]] = defaultdict(set)
    position: dict[str, int] = defaultdict(int)
    out: list[int | None] = []
    for row in rows:
        task_id = task_of.get(str(row["task_id"]))
        if task_id is None:
            out.append(None)
            continue
        index = row["sample_index"] if "sample_index" in row else position[task_id]
        position[task_id] += 1
        if index in seen[task_id]:
            raise DataError(f"two responses for task {task_id!r} are sample {index}",
                            hint="give each sample of a task once (sample_index, or one line per sample)")
        seen[task_id].add(index)
        out.append(index)
    return out


async def score_responses(bench: Benchmark, responses: list[dict[str, Any]], ks: list[int],
                          judge: Judge | None = None, *, seed: int = 0,
                          allow_unknown: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(summary, graded rows). `judge` is an HLEJudge or None for rule-based grading; `seed` is the seed of
    the run that showed the options (RolloutConfig.seed)."""
    task_of, unknown = match_task_ids(bench.tasks, [str(r["task_id"]) for r in responses])
    if unknown and not allow_unknown:
        raise DataError(f"{len(unknown)} of {len(responses)} responses name task ids that are not in {bench.name} "
                        f"({bench.source}): {', '.join(unknown[:5])}" + (" ..." if len(unknown) > 5 else ""),
                        hint="score against the file the responses were made for (--benchmark NAME "
                        "--benchmark-file FILE, or NAME=FILE); --allow-unknown-ids scores the others")
    if unknown:
        log.warning("%d responses name task ids not in %s: %s", len(unknown), bench.name, ", ".join(unknown[:10]))
    tasks = {t.id: t for t in bench.tasks}
    indices = _sample_indices(responses, task_of)
    scored: list[tuple[str, int, Sample, dict[str, Any]]] = []
    for row, index in zip(responses, indices, strict=True):
        if index is None:
            continue
        task = tasks[task_of[str(row["task_id"])]]
        shown, order = options_for_sample(task, index, seed)
        text = row["response"]
        g = await grade_outcome(shown, text, judge, where=f"{task.id}#{index}")
        final = parse_final_answer(text) if text else None
        extracted = letters_in_task_order(g.extracted, order) if shown is not task else g.extracted
        failure = failure_kind(g)
        sample = Sample(task_id=task.id, correct=g.correct, extracted=extracted,
                        confidence=final.confidence if final else None, category=task.category,
                        answer_type=task.answer_type, difficulty=task.difficulty,
                        extra={"grade_failure": failure} if failure else {})
        graded = {"task_id": task.id, "sample_index": index, "grade": g.model_dump(mode="json")}
        if shown is not task:
            graded["options_order"] = order
        scored.append((task.id, index, sample, graded))
    scored.sort(key=lambda item: (item[0], item[1]))  # sample 0 first: the first-sample figures
    summary = summarize([item[2] for item in scored], list(tasks), ks, groups=task_groups(bench.tasks))
    summary["benchmark"] = bench.counts()
    summary["unknown_task_ids"] = unknown
    summary["option_order_seed"] = seed if bench.shuffle_options or any(t.metadata.get("shuffle")
                                                                        for t in bench.tasks) else None
    return summary, [item[3] for item in scored]
