"""Benchmark files in their released layouts, read into Task records (every loader is offline).

Layouts: the `{id, query, gt, category, answer_type}` export (SuperGPQA hard biology, HLE exports), the HLE
schema, TRQA-lit, GPQA-Diamond CSV, PubMedQA, SciBench, LitQA2, SciFact claims (as verification) and Task
JSONL. `load_file` detects the layout of any local file. Rows come from JSONL, JSON or CSV (`read_rows`);
a bad file is a DataError naming the file and record. Which benchmark a name means is `registry.py`.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from pathlib import Path
from typing import Any

from sciresearcher.errors import DataError
from sciresearcher.records import Evidence, Locator, Provenance, Task
from sciresearcher.tasks.benchmark import split_options
from sciresearcher.tasks.files import task_from_row

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
        if not isinstance(rows, list):
            raise DataError(f"{path}: expected a list of objects (or {{'data': [...]}})")
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


def tasks_from_query_rows(rows: list[dict[str, Any]], name: str, path: Path) -> list[Task]:
    """The `{id, query, gt, category, answer_type}` form (SuperGPQA hard biology, HLE exports)."""
    tasks = []
    for i, row in enumerate(rows):
        _need(row, ("id", "query", "gt"), path, i)
        answer_type = row.get("answer_type") or "exactMatch"
        stem, options = split_options(row["query"]) if answer_type in ("multipleChoice", "multiSelect") else (
            row["query"], None)
        tasks.append(Task(id=str(row["id"]), question=stem, answer=str(row["gt"]).strip(), answer_type=answer_type,
                          options=options, category=row.get("category"), difficulty=row.get("difficulty"),
                          provenance=_prov(name), split="test"))
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
        meta = {k: row[k] for k in ("raw_subject", "rationale", "author_name") if row.get(k)}
        if row.get("image"):
            meta["has_image"] = True
        tasks.append(Task(id=str(row["id"]), question=question, answer=str(row["answer"]).strip(),
                          answer_type=answer_type, options=options,
                          category=row.get("category") or row.get("raw_subject"), provenance=_prov(name),
                          split="test", metadata=meta))
    return tasks


def load_trqa(path: Path) -> list[Task]:
    """TRQA-lit: CSV `data_id, question, answer` (or JSON with the same keys); several options may be right."""
    tasks = []
    for i, row in enumerate(read_rows(path)):
        _need(row, ("question", "answer"), path, i)
        stem, options = split_options(str(row["question"]))
        gold = re.sub(r"[^A-Z]", "", str(row["answer"]).upper())
        if not gold:
            raise DataError(f"{path}: record {i + 1} has no option letters in its answer {row['answer']!r}")
        tasks.append(Task(id=f"trqa:{row.get('data_id', i)}", question=stem, answer="".join(sorted(gold)),
                          answer_type="multiSelect", options=options, category=row.get("category") or "TRQA-lit",
                          provenance=_prov("trqa-lit"), split="test"))
    return tasks


def load_gpqa(path: Path) -> list[Task]:
    """GPQA-Diamond CSV (Question, Correct Answer, Incorrect Answer 1-3); options shuffled per sample."""
    tasks = []
    for i, row in enumerate(read_rows(path)):
        _need(row, ("Question", "Correct Answer", "Incorrect Answer 1"), path, i)
        options = [row["Correct Answer"].strip()] + [row[f"Incorrect Answer {j}"].strip() for j in (1, 2, 3)
                                                     if row.get(f"Incorrect Answer {j}")]
        tid = row.get("Record ID") or f"gpqa:{i}"
        tasks.append(Task(id=str(tid), question=row["Question"].strip(), answer="A", answer_type="multipleChoice",
                          options=options, category=row.get("High-level domain") or row.get("Subdomain"),
                          difficulty=row.get("Writer's Difficulty Estimate"), provenance=_prov("gpqa-diamond"),
                          split="test", metadata={"shuffle": True, "subdomain": row.get("Subdomain")}))
    return tasks


def load_pubmedqa(path: Path) -> list[Task]:
    tasks = []
    for i, row in enumerate(read_rows(path)):
        _need(row, ("id", "question", "answer"), path, i)
        evidence = [Evidence(doc_id=row["evidence_doc"], level="document", text=row.get("long_answer", ""))] if (
            row.get("evidence_doc")) else []
        tasks.append(Task(id=row["id"], question=row["question"], answer=row["answer"], answer_type="yesNo",
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
    """LitQA2 (question, ideal, distractors): options = ideal + distractors + 'Insufficient information'."""
    tasks = []
    for i, row in enumerate(read_rows(path)):
        _need(row, ("question", "ideal", "distractors"), path, i)
        distractors = row["distractors"] if isinstance(row["distractors"], list) else json.loads(row["distractors"])
        options = [str(row["ideal"]).strip()] + [str(d).strip() for d in distractors] + [INSUFFICIENT]
        tasks.append(Task(id=f"litqa2:{row.get('id', i)}", question=row["question"], answer="A",
                          answer_type="multipleChoice", options=options, category="LitQA2",
                          provenance=_prov("litqa2", {"sources": row.get("sources")}), split="test",
                          metadata={"shuffle": True, "insufficient_option": INSUFFICIENT}))
    return tasks


def load_scifact(path: Path) -> list[Task]:
    """SciFact claims as verification: SUPPORT / CONTRADICT / NOT ENOUGH INFO, with the gold rationales."""
    tasks = []
    for i, row in enumerate(read_rows(path)):
        _need(row, ("id", "claim"), path, i)
        evidence, labels = [], set()
        for doc_id, sets in (row.get("evidence") or {}).items():
            for ev in sets:
                labels.add(ev["label"])
                for s in ev.get("sentences", []):
                    evidence.append(Evidence(doc_id=doc_id, level="sentence", text="", locator=Locator(sentence=s)))
        label = labels.pop() if len(labels) == 1 else ("NOT ENOUGH INFO" if not labels else None)
        if label is None:
            log.info("skipping SciFact claim %s with mixed labels", row["id"])
            continue
        answer = {"SUPPORT": "A", "CONTRADICT": "B", "NOT ENOUGH INFO": "C"}[label]
        question = ("Verify this scientific claim against the biomedical literature. Does the evidence support "
                    f"it, contradict it, or is there not enough information?\n\nClaim: {row['claim']}")
        tasks.append(Task(id=row["id"], question=question, answer=answer, answer_type="multipleChoice",
                          options=SCIFACT_OPTIONS, category=f"SciFact/{label}", evidence=evidence,
                          provenance=_prov("scifact", {"cited_docs": row.get("cited_docs", [])}), split="train"))
    return tasks


def load_task_jsonl(path: Path) -> list[Task]:
    return [task_from_row(row, f"{path}:{lineno}") for lineno, row in enumerate(read_rows(path), 1)]


def load_file(path: Path, name: str | None = None) -> list[Task]:
    """Any local file: Task JSONL, the {id, query, gt} form, HLE schema, TRQA CSV, GPQA CSV, LitQA2."""
    rows = read_rows(path)
    if not rows:
        raise DataError(f"{path} holds no records")
    first = rows[0]
    label = name or path.stem
    if "query" in first and "gt" in first:
        return tasks_from_query_rows(rows, label, path)
    if "Correct Answer" in first:
        return load_gpqa(path)
    if "ideal" in first and "distractors" in first:
        return load_litqa2(path)
    if "data_id" in first:
        return load_trqa(path)
    if "claim" in first:
        return load_scifact(path)
    if {"id", "question", "answer"} <= set(first) and ("answer_type" in first and first.get("answer_type") in (
            "exactMatch", "multipleChoice") and "options" not in first and "schema_version" not in first):
        return tasks_from_hle_rows(rows, label, path)
    return load_task_jsonl(path)


