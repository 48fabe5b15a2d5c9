"""Which released layout a benchmark file is in, and whether that layout is the benchmark it is named as.

`detect_layout(rows)` names the layout of a file's rows (GPQA CSV, the HLE schema, the `{id, query, gt}`
export, PubMedQA in either form, ...); `check_named(name, layout, rows, path)` refuses a file given under a
benchmark name whose layout is another benchmark's, saying what the file looks like and how to pass it.
`gold_letters` reads a gold that is a run of option letters ("BCD", "B, C, D"). Reading the rows is
`loaders.read_rows`; turning them into tasks is `loaders.py`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sciresearcher.errors import DataError

HLE_ANSWER_TYPES = ("exactMatch", "multipleChoice")
MULTI_SELECT_TYPES = {"multiselect", "multipleselect", "multiple_select", "multi_select", "multipleanswer",
                      "multiple_answer", "multichoice_multi"}

DESCRIPTIONS = {
    "task": "a Task JSONL file (id, question, answer, answer_type, options...)",
    "query": "an {id, query, gt, category, answer_type} export with single answers (SuperGPQA, HLE exports)",
    "query-multi": "an {id, query, gt, category, answer_type} export with several gold letters (TRQA-lit)",
    "query-free": "an {id, query, gt, category, answer_type} export with free-form answers (an HLE export)",
    "hle": "the HLE schema (id, question, answer, answer_type, image...)",
    "gpqa": "a GPQA CSV (Question, Correct Answer, Incorrect Answer 1-3)",
    "litqa2": "LitQA2 (question, ideal, distractors)",
    "trqa-csv": "a TRQA CSV (data_id, question, answer)",
    "scifact": "SciFact claims (id, claim, evidence)",
    "pubmedqa": "PubMedQA (id, question, answer yes/no/maybe, long_answer)",
    "pubmedqa-ori": "PubMedQA's released ori_pqal.json (PMID -> QUESTION, CONTEXTS, final_decision, LONG_ANSWER)",
    "scibench": "SciBench (id, question, answer, unit, source)",
}

# benchmark name -> the layouts its released files come in
ACCEPTS: dict[str, tuple[str, ...]] = {
    "hle-bio-chem-gold": ("hle", "query", "query-free"),
    "supergpqa-hard-bio": ("query",),
    "trqa-lit": ("query-multi", "query", "trqa-csv"),
    "gpqa-diamond": ("gpqa",),
    "pubmedqa": ("pubmedqa", "pubmedqa-ori"),
    "scibench": ("scibench",),
    "litqa2": ("litqa2",),
    "scifact": ("scifact",),
}
# the benchmark a layout most likely is, for the hint of a refused file
LIKELY = {"query-multi": "trqa-lit", "query-free": "hle-bio-chem-gold", "hle": "hle-bio-chem-gold",
          "gpqa": "gpqa-diamond", "litqa2": "litqa2", "trqa-csv": "trqa-lit", "scifact": "scifact",
          "pubmedqa": "pubmedqa", "pubmedqa-ori": "pubmedqa", "scibench": "scibench"}

_LETTER_LIST = re.compile(r"^\s*[A-Za-z](?:\s*(?:[,;/&+]|\band\b|\s)\s*[A-Za-z])*\s*$")


def gold_letters(gt: Any) -> str | None:
    """'BCD', 'B, C, D', 'b;d' -> sorted upper-case letters; None when `gt` is not a run of option letters."""
    text = str(gt).strip()
    if not text:
        return None
    if re.fullmatch(r"[A-Z]+", text) and len(set(text)) == len(text):
        return "".join(sorted(text))
    if _LETTER_LIST.match(text):
        letters = [ch.upper() for ch in re.sub(r"\band\b", " ", text) if ch.isalpha()]
        if len(set(letters)) == len(letters):
            return "".join(sorted(letters))
    return None


def is_multi_select_type(answer_type: Any) -> bool:
    return str(answer_type or "").replace(" ", "").lower() in MULTI_SELECT_TYPES


_SEVERAL_RIGHT = re.compile(r"more than one (?:option|answer|choice)s? (?:may|might|can|could) be|one or more "
                            r"(?:of the )?(?:options|answers|choices)|select all that apply|all correct options",
                            re.IGNORECASE)


def query_kind(rows: list[dict[str, Any]]) -> str:
    """'query-multi' (some row has several gold letters, a multi-select type, or says more than one option may
    be correct), 'query' (every gold is one letter or every row is choice-typed), else 'query-free'
    (free-form golds: an HLE export)."""
    golds = [gold_letters(r.get("gt")) for r in rows]
    if (any(g and len(g) > 1 for g in golds) or any(is_multi_select_type(r.get("answer_type")) for r in rows)
            or any(g and _SEVERAL_RIGHT.search(str(r.get("query", ""))) for g, r in zip(golds, rows, strict=True))):
        return "query-multi"
    if all(g and len(g) == 1 for g in golds) or all(r.get("answer_type") == "multipleChoice" for r in rows):
        return "query"
    return "query-free"


def detect_layout(rows: list[dict[str, Any]]) -> str:
    """The layout of a file's rows (a key of DESCRIPTIONS), judged on the first row's fields (and, for the
    query export, on every gold)."""
    first = rows[0]
    keys = set(first)
    if "_key" in keys and ("QUESTION" in keys or "final_decision" in keys):
        return "pubmedqa-ori"
    if "query" in keys and "gt" in keys:
        return query_kind(rows)
    if "Correct Answer" in keys or "Incorrect Answer 1" in keys:
        return "gpqa"
    if "ideal" in keys and "distractors" in keys:
        return "litqa2"
    if "data_id" in keys:
        return "trqa-csv"
    if "claim" in keys:
        return "scifact"
    if keys & {"schema_version", "provenance", "options", "evidence", "verification"}:
        return "task"
    if {"id", "question", "answer"} <= keys and first.get("answer_type") in HLE_ANSWER_TYPES:
        return "hle"
    if {"id", "question", "answer"} <= keys and ("long_answer" in keys or "evidence_doc" in keys
                                                or str(first["id"]).startswith("pubmedqa:")):
        return "pubmedqa"
    if {"id", "question", "answer"} <= keys and "answer_type" not in keys and (keys & {"unit", "answer_latex"}):
        return "scibench"
    return "task"


def check_named(name: str, layout: str, path: Path) -> None:
    """DataError when a file given for benchmark `name` is in a layout that benchmark's files never are."""
    accepted = ACCEPTS.get(name)
    if accepted is None or layout in accepted:
        return
    likely = LIKELY.get(layout)
    hint = (f"pass it under its own name (--benchmark {likely} --benchmark-file {path}, or {likely}={path})"
            if likely and likely != name else f"pass it as a task file (--benchmark {path})")
    expected = "; or ".join(DESCRIPTIONS[a] for a in accepted)
    raise DataError(f"{path} is not a {name} file: it looks like {DESCRIPTIONS[layout]}; {name} files are "
                    f"{expected}", hint=hint)
