"""Benchmark loaders: every benchmark becomes a list of Task records, from a local file or from the Hub.

`load_benchmark(name_or_file)` knows HLE-Bio/Chem-Gold, SuperGPQA hard biology, TRQA-lit, GPQA-Diamond,
PubMedQA, SciBench, LitQA2, SciFact claims (as a verification task) and any Task JSONL. Each loader reads
a local file (so everything runs and is tested offline); gated or online sets can also come from the Hub
(`hub.py`, with `datasets`). Choice options are parsed out of question text when they are embedded
("Answer Choices:\\nA. ..."), so the agent sees them once and the graders know how many there are. GPQA and
LitQA2 shuffle their options per sample with a seeded permutation (`options_for_sample`). Grading and
running live elsewhere.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sciresearcher.errors import ConfigError, DataError
from sciresearcher.records import Evidence, Locator, Provenance, Task

log = logging.getLogger(__name__)

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
INSUFFICIENT = "Insufficient information to answer the question"
SCIFACT_OPTIONS = ["SUPPORT: the evidence supports the claim", "CONTRADICT: the evidence contradicts the claim",
                   "NOT ENOUGH INFO: the literature neither supports nor contradicts the claim"]


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


# --------------------------------------------------------------------------- helpers

_CHOICES_HEADER = re.compile(r"\n\s*(?:Answer\s+Choices|Options|Choices)\s*:\s*\n", re.IGNORECASE)
_OPTION_LINE = re.compile(r"^\s*\(?([A-Z])[.)]\s+(.*)$")


def split_options(query: str) -> tuple[str, list[str] | None]:
    """('question stem', ['opt A', ...]) when `query` embeds lettered options (A., B., ... in order)."""
    header = _CHOICES_HEADER.search(query)
    stem, block = (query[: header.start()], query[header.end():]) if header else (None, None)
    if block is None:  # options as trailing lines "A. ...", "B. ..." without a header
        lines = query.rstrip().split("\n")
        start = next((i for i in range(len(lines)) if re.match(r"^\s*\(?A[.)]\s", lines[i])), None)
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


def options_for_sample(task: Task, sample_index: int, seed: int = 0) -> tuple[Task, list[int]]:
    """The task with its options in a seeded per-sample order and the gold letter remapped.

    Returns (task, order) where `order[i]` is the original index of the option now at position i.
    Tasks without options (or without metadata `shuffle: true`) come back unchanged.
    """
    if not task.options or not task.metadata.get("shuffle"):
        return task, list(range(len(task.options or [])))
    rng = random.Random(f"{seed}:{task.id}:{sample_index}")
    order = list(range(len(task.options)))
    rng.shuffle(order)
    options = [task.options[i] for i in order]
    gold = "".join(sorted(LETTERS[order.index(LETTERS.index(ch))] for ch in task.answer))
    return task.model_copy(update={"options": options, "answer": gold}), order


def _read_rows(path: Path) -> list[dict[str, Any]]:
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


# --------------------------------------------------------------------------- loaders (local files)


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
    for i, row in enumerate(_read_rows(path)):
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
    for i, row in enumerate(_read_rows(path)):
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
    for i, row in enumerate(_read_rows(path)):
        _need(row, ("id", "question", "answer"), path, i)
        evidence = [Evidence(doc_id=row["evidence_doc"], level="document", text=row.get("long_answer", ""))] if (
            row.get("evidence_doc")) else []
        tasks.append(Task(id=row["id"], question=row["question"], answer=row["answer"], answer_type="yesNo",
                          category="PubMedQA", evidence=evidence, provenance=_prov("pubmedqa"), split="dev"))
    return tasks


def load_scibench(path: Path, tolerance: float = 0.05) -> list[Task]:
    tasks = []
    for i, row in enumerate(_read_rows(path)):
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
    for i, row in enumerate(_read_rows(path)):
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
    for i, row in enumerate(_read_rows(path)):
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
    from sciresearcher.data.tasks import task_from_row

    return [task_from_row(row, f"{path}:{lineno}") for lineno, row in enumerate(_read_rows(path), 1)]


def load_file(path: Path, name: str | None = None) -> list[Task]:
    """Any local file: Task JSONL, the {id, query, gt} form, HLE schema, TRQA CSV, GPQA CSV, LitQA2."""
    rows = _read_rows(path)
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


# --------------------------------------------------------------------------- registry

Loader = Callable[[Path | None, dict[str, Any]], Benchmark]


def _local(name: str, default: str | None, fn: Callable[[Path], list[Task]], **kw: Any) -> Loader:
    def load(path: Path | None, opts: dict[str, Any]) -> Benchmark:
        target = path or (shared_data_dir() / default if default else None)
        if target is None or not target.is_file():
            raise DataError(f"benchmark '{name}' needs a local file" + (f"; {target} does not exist" if target else ""),
                            hint="pass its path with --benchmark-file FILE (see `sciresearcher eval run --help`)")
        return Benchmark(name, fn(target), str(target), **kw)
    return load


def _hle(path: Path | None, opts: dict[str, Any]) -> Benchmark:
    if path is not None:
        return Benchmark("hle-bio-chem-gold", load_file(path, "hle-bio-chem-gold"), str(path), grader="judge")
    from sciresearcher.eval.hub import load_hle_gold

    return load_hle_gold(opts.get("revision"))


def _supergpqa(path: Path | None, opts: dict[str, Any]) -> Benchmark:
    target = path or shared_data_dir() / "eval" / "supergpqa_hard_bio.jsonl"
    if path is None and not target.is_file() and opts.get("hub"):
        from sciresearcher.eval.hub import load_supergpqa_hard_bio

        return load_supergpqa_hard_bio(opts.get("revision"))
    return _local("supergpqa-hard-bio", None, lambda p: load_file(p, "supergpqa-hard-bio"))(target, opts)


BENCHMARKS: dict[str, tuple[Loader, str]] = {
    "hle-bio-chem-gold": (_hle, "HLE-Bio/Chem-Gold (HF futurehouse/hle-gold-bio-chem, gated; or a local file)"),
    "supergpqa-hard-bio": (_supergpqa, "SuperGPQA hard biology, 92 items (local file, or HF m-a-p/SuperGPQA)"),
    "trqa-lit": (_local("trqa-lit", None, load_trqa), "TRQA-lit, multi-select (CSV data_id,question,answer)"),
    "gpqa-diamond": (_local("gpqa-diamond", None, load_gpqa, shuffle_options=True), "GPQA-Diamond CSV"),
    "pubmedqa": (_local("pubmedqa", "eval/pubmedqa_dev.jsonl", load_pubmedqa), "PubMedQA yes/no/maybe"),
    "scibench": (_local("scibench", "eval/scibench_chem.jsonl", load_scibench), "SciBench chemistry, numeric"),
    "litqa2": (_local("litqa2", None, load_litqa2, shuffle_options=True), "LitQA2 with 'insufficient information'"),
    "scifact": (_local("scifact", "eval/scifact_claims_train.jsonl", load_scifact), "SciFact claim verification"),
}
ALIASES = {"hle": "hle-bio-chem-gold", "supergpqa": "supergpqa-hard-bio", "trqa": "trqa-lit", "gpqa": "gpqa-diamond",
           "scifact-claims": "scifact"}


def load_benchmark(name_or_file: str | Path, *, path: str | Path | None = None, limit: int | None = None,
                   **opts: Any) -> Benchmark:
    """Loads a named benchmark (optionally from `path`) or any local file; logs its counts."""
    key = str(name_or_file)
    name = ALIASES.get(key.lower(), key.lower())
    if name in BENCHMARKS:
        bench = BENCHMARKS[name][0](Path(path) if path else None, opts)
    elif Path(key).is_file():
        tasks = load_file(Path(key))
        bench = Benchmark(Path(key).stem, tasks, key, shuffle_options=any(t.metadata.get("shuffle") for t in tasks))
    else:
        known = "\n".join(f"  {n}: {desc}" for n, (_, desc) in BENCHMARKS.items())
        raise ConfigError(f"unknown benchmark '{key}' (and no such file)",
                          hint=f"known benchmarks:\n{known}\nor pass a JSONL/JSON/CSV file of tasks")
    if not bench.tasks:
        raise DataError(f"benchmark '{bench.name}' from {bench.source} has no tasks")
    if limit is not None:
        bench.tasks = bench.tasks[:limit]
    log.info("loaded %s: %s", bench.name, bench.counts())
    return bench
