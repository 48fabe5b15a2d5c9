"""Benchmark files in their released layouts, read into Task records (every loader is offline).

Layouts: the `{id, query, gt, category, answer_type}` export (SuperGPQA hard biology, HLE exports, TRQA-lit
with `A: text` options and multi-letter golds), the HLE schema, TRQA-lit's CSV, GPQA-Diamond CSV, PubMedQA
(JSONL, or the released ori_pqal.json keyed by PMID), SciBench, LitQA2, SciFact claims (as verification) and
Task JSONL. Task ids are the file's own ids. `load_file` detects the layout of any local file, and under a
benchmark name refuses another benchmark's file (layouts.py). Rows come from JSONL, JSON or CSV
(`read_rows`); a bad file is a DataError naming the file and record. Which benchmark a name means is
`registry.py`.
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Any

from sciresearcher.errors import DataError
from sciresearcher.records import Evidence, Locator, Provenance, Task
from sciresearcher.tasks.benchmark import shuffled_at_load, split_options
from sciresearcher.tasks.files import task_from_row
from sciresearcher.tasks.layouts import (
    check_named,
    detect_layout,
    gold_letters,
    is_multi_select_type,
    query_kind,
)

log = logging.getLogger(__name__)

INSUFFICIENT = "Insufficient information to answer the question"
SCIFACT_OPTIONS = ["SUPPORT: the evidence supports the claim", "CONTRADICT: the evidence contradicts the claim",
                   "NOT ENOUGH INFO: the literature neither supports nor contradicts the claim"]


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL, JSON (list or {"data": [...]}) or CSV file; DataError names file and line."""
    if not path.is_file():
        raise DataError(f"benchmark file {path} does not exist")
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
        rows = data.get("data", data.get("questions")) if isinstance(data, dict) else data
        if rows is None and isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
            rows = [{"_key": key, **value} for key, value in data.items()]  # keyed records (PubMedQA's ori_pqal)
        if not isinstance(rows, list):
            raise DataError(f"{path}: expected a list of objects, {{'data': [...]}}, or records keyed by id")
        return rows
    rows = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
    return rows


def _need(row: dict[str, Any], keys: tuple[str, ...], path: Path, i: int) -> None:
    missing = [k for k in keys if k not in row]
    if missing:
        raise DataError(f"{path}: record {i + 1} lacks {', '.join(missing)} (has: {', '.join(list(row)[:12])})")


def _prov(name: str, extra: dict[str, Any] | None = None) -> Provenance:
    return Provenance(pipeline=f"benchmark:{name}", extra=extra or {})


def tasks_from_query_rows(rows: list[dict[str, Any]], name: str, path: Path,
                          multi_select: bool | None = None) -> list[Task]:
    """The `{id, query, gt, category, answer_type}` export (SuperGPQA hard biology, HLE exports, TRQA-lit).

    Options are the lettered lines inside `query` ("A. x", "A: x"). With `multi_select` (TRQA-lit; None =
    when some gold has several letters or a row says multiSelect) every choice row is multiSelect: one or
    more options may be right, and the gold is its letters sorted. A gold that is not option letters is kept
    as written, so grading that task fails with the reason instead of the whole file being refused.
    """
    if multi_select is None:
        multi_select = query_kind(rows) == "query-multi"
    tasks = []
    for i, row in enumerate(rows):
        _need(row, ("id", "query", "gt"), path, i)
        query, gt = str(row["query"]), str(row["gt"]).strip()
        letters = gold_letters(gt)
        answer_type = row.get("answer_type") or ("multipleChoice" if letters and len(letters) == 1 else "exactMatch")
        choice = answer_type in ("multipleChoice", "multiSelect") or is_multi_select_type(answer_type) or letters
        if choice and (multi_select or is_multi_select_type(answer_type) or (letters and len(letters) > 1)):
            answer_type = "multiSelect"
        stem, options = split_options(query) if answer_type in ("multipleChoice", "multiSelect") else (query, None)
        answer = letters if answer_type in ("multipleChoice", "multiSelect") and letters else gt
        tasks.append(Task(id=str(row["id"]), question=stem, answer=answer, answer_type=answer_type,
                          options=options, category=row.get("category"), difficulty=row.get("difficulty"),
                          provenance=_prov(name), split="test", metadata={"raw_question": query}))
    return tasks


def tasks_from_hle_rows(rows: list[dict[str, Any]], name: str, path: Path | str) -> list[Task]:
    """HLE schema: id, question, answer, answer_type (exactMatch|multipleChoice), category, image."""
    tasks = []
    for i, row in enumerate(rows):
        _need(row, ("id", "question", "answer"), Path(str(path)), i)
        answer_type = row.get("answer_type") or "exactMatch"
        question, options = row["question"], None
        if answer_type == "multipleChoice":
            question, options = split_options(row["question"])
        meta = {"raw_question": row["question"]}  # what HLE's judge is shown
        meta |= {k: row[k] for k in ("raw_subject", "rationale", "author_name") if row.get(k)}
        if row.get("image"):
            meta["has_image"] = True
        tasks.append(Task(id=str(row["id"]), question=question, answer=str(row["answer"]).strip(),
                          answer_type=answer_type, options=options,
                          category=row.get("category") or row.get("raw_subject"), provenance=_prov(name),
                          split="test", metadata=meta))
    return tasks


def load_trqa(path: Path) -> list[Task]:
    """TRQA-lit in either release: `{id, query, gt, category, answer_type}` (options as `A: text` lines in the
    query, gt one or several letters) or a CSV `data_id, question, answer`. Every task is multiSelect."""
    rows = read_rows(path)
    if rows and "query" in rows[0]:
        return tasks_from_query_rows(rows, "trqa-lit", path, multi_select=True)
    tasks = []
    for i, row in enumerate(rows):
        _need(row, ("question", "answer"), path, i)
        stem, options = split_options(str(row["question"]))
        gold = gold_letters(row["answer"]) or str(row["answer"]).strip()
        tasks.append(Task(id=str(row.get("data_id", i)), question=stem, answer=gold, answer_type="multiSelect",
                          options=options, category=row.get("category") or "TRQA-lit", provenance=_prov("trqa-lit"),
                          split="test", metadata={"raw_question": str(row["question"])}))
    return tasks


def load_gpqa(path: Path) -> list[Task]:
    """GPQA-Diamond CSV (Question, Correct Answer, Incorrect Answer 1-3); ids are `Record ID`.

    The released rows list the correct answer first: options are put in a seeded per-task order here and
    reordered per sample in rollouts and scoring (benchmark.shuffled_at_load, options_for_sample)."""
    tasks = []
    for i, row in enumerate(read_rows(path)):
        _need(row, ("Question", "Correct Answer", "Incorrect Answer 1"), path, i)
        options = [row["Correct Answer"].strip()] + [row[f"Incorrect Answer {j}"].strip() for j in (1, 2, 3)
                                                     if row.get(f"Incorrect Answer {j}")]
        tid = row.get("Record ID") or f"gpqa:{i}"
        released = Task(id=str(tid), question=row["Question"].strip(), answer="A", answer_type="multipleChoice",
                        options=options, category=row.get("High-level domain") or row.get("Subdomain"),
                        difficulty=row.get("Writer's Difficulty Estimate"), provenance=_prov("gpqa-diamond"),
                        split="test", metadata={"subdomain": row.get("Subdomain")})
        tasks.append(shuffled_at_load(released))
    return tasks


def load_pubmedqa(path: Path) -> list[Task]:
    """PubMedQA: the JSONL form (id, question, answer, long_answer, evidence_doc) or the released
    ori_pqal.json (records keyed by PMID: QUESTION, CONTEXTS, final_decision, LONG_ANSWER); ids are the
    file's own (`pubmedqa:<pmid>` in the first, the PMID in the second)."""
    tasks = []
    for i, row in enumerate(read_rows(path)):
        if "_key" in row:
            _need(row, ("QUESTION", "final_decision"), path, i)
            pmid = str(row["_key"])
            tasks.append(Task(id=pmid, question=row["QUESTION"], answer=str(row["final_decision"]).strip().lower(),
                              answer_type="yesNo", category="PubMedQA",
                              evidence=[Evidence(doc_id=f"pmid:{pmid}", level="document",
                                                 text=row.get("LONG_ANSWER") or "")],
                              provenance=_prov("pubmedqa"), metadata={"contexts": row.get("CONTEXTS") or []}))
            continue
        _need(row, ("id", "question", "answer"), path, i)
        evidence = [Evidence(doc_id=row["evidence_doc"], level="document", text=row.get("long_answer", ""))] if (
            row.get("evidence_doc")) else []
        tasks.append(Task(id=str(row["id"]), question=row["question"], answer=row["answer"], answer_type="yesNo",
                          category="PubMedQA", evidence=evidence, provenance=_prov("pubmedqa"), split="dev"))
    return tasks


def load_scibench(path: Path, tolerance: float = 0.05) -> list[Task]:
    tasks = []
    for i, row in enumerate(read_rows(path)):
        _need(row, ("id", "question", "answer"), path, i)
        unit = (row.get("unit") or "").strip() or None
        tasks.append(Task(id=row["id"], question=row["question"], answer=str(row["answer"]).strip(),
                          answer_type="numeric", unit=unit, tolerance=tolerance, category=row.get("source"),
                          provenance=_prov("scibench"), split="test",
                          metadata={"solution": row["solution"]} if row.get("solution") else {}))
    return tasks


def load_litqa2(path: Path) -> list[Task]:
    """LitQA2 (question, ideal, distractors): options = ideal + distractors + 'Insufficient information', in a
    seeded per-task order (the ideal answer is listed first in the release)."""
    tasks = []
    for i, row in enumerate(read_rows(path)):
        _need(row, ("question", "ideal", "distractors"), path, i)
        distractors = row["distractors"] if isinstance(row["distractors"], list) else json.loads(row["distractors"])
        options = [str(row["ideal"]).strip()] + [str(d).strip() for d in distractors] + [INSUFFICIENT]
        released = Task(id=str(row.get("id", f"litqa2:{i}")), question=row["question"], answer="A",
                        answer_type="multipleChoice", options=options, category="LitQA2",
                        provenance=_prov("litqa2", {"sources": row.get("sources")}), split="test",
                        metadata={"insufficient_option": INSUFFICIENT})
        tasks.append(shuffled_at_load(released))
    return tasks


def load_scifact(path: Path) -> list[Task]:
    """SciFact claims as verification: SUPPORT / CONTRADICT / NOT ENOUGH INFO, with the gold rationales (the
    released claims_*.jsonl with integer ids and `cited_doc_ids`, or the shared copy)."""
    tasks = []
    for i, row in enumerate(read_rows(path)):
        _need(row, ("id", "claim"), path, i)
        evidence, labels = [], set()
        for doc_id, sets in (row.get("evidence") or {}).items():
            for ev in sets:
                labels.add(ev["label"])
                for s in ev.get("sentences", []):
                    evidence.append(Evidence(doc_id=str(doc_id), level="sentence", text="",
                                             locator=Locator(sentence=s)))
        label = labels.pop() if len(labels) == 1 else ("NOT ENOUGH INFO" if not labels else None)
        if label is None:
            log.info("skipping SciFact claim %s with mixed labels", row["id"])
            continue
        answer = {"SUPPORT": "A", "CONTRADICT": "B", "NOT ENOUGH INFO": "C"}[label]
        question = ("Verify this scientific claim against the biomedical literature. Does the evidence support "
                    f"it, contradict it, or is there not enough information?\n\nClaim: {row['claim']}")
        cited = row.get("cited_docs", row.get("cited_doc_ids", []))
        tasks.append(Task(id=str(row["id"]), question=question, answer=answer, answer_type="multipleChoice",
                          options=SCIFACT_OPTIONS, category=f"SciFact/{label}", evidence=evidence,
                          provenance=_prov("scifact", {"cited_docs": cited}), split="train"))
    return tasks


def load_task_jsonl(path: Path) -> list[Task]:
    return [task_from_row(row, f"{path}:{lineno}") for lineno, row in enumerate(read_rows(path), 1)]


LOADERS_BY_LAYOUT = {
    "gpqa": load_gpqa, "litqa2": load_litqa2, "trqa-csv": load_trqa, "scifact": load_scifact,
    "pubmedqa": load_pubmedqa, "pubmedqa-ori": load_pubmedqa, "scibench": load_scibench,
    "task": load_task_jsonl,
}


def file_layout(path: Path) -> str:
    """The layout of a local benchmark file (layouts.detect_layout on its rows)."""
    rows = read_rows(path)
    if not rows:
        raise DataError(f"{path} holds no records")
    return detect_layout(rows)


def load_file(path: Path, name: str | None = None) -> list[Task]:
    """Any local file, by its layout: Task JSONL, the {id, query, gt} export (multiSelect when some gold has
    several letters), the HLE schema, GPQA CSV, LitQA2, TRQA CSV, SciFact, PubMedQA (both forms), SciBench.
    With `name` (a benchmark name) the layout must be one of that benchmark's (layouts.check_named)."""
    rows = read_rows(path)
    if not rows:
        raise DataError(f"{path} holds no records")
    layout = detect_layout(rows)
    if name is not None:
        check_named(name, layout, path)
    label = name or path.stem
    if layout.startswith("query"):
        return tasks_from_query_rows(rows, label, path, multi_select=True if name == "trqa-lit" else None)
    if layout == "hle":
        return tasks_from_hle_rows(rows, label, path)
    return LOADERS_BY_LAYOUT[layout](path)
