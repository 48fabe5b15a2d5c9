"""Counterfactual documents: training tasks re-posed over documents whose cited values were changed.

A student trained on a fixed world sees each training document's values in every task about it, so it can write
them from memory; on an unseen entity it must copy values it never saw, and the demo's student fails there in
one way above all: after copying the read values it loses the code it knows by heart (`N_A = 6.0228`, a print
that never closes; docs/training.md, twentieth and twenty-third rounds). Changing the values of documents it
knows gives that situation on entities whose names and ids it can already handle: the same question, search and
read, with values it has never seen, so that only copying them gives the answer. This is counterfactual context
(as in knowledge-aware fine-tuning, KAFT): the document, not memory, decides the answer.

`counterfactual_documents(docs, rng, config)` changes each numeric fact of the given documents by a factor drawn
from [low, high] (never within 10% of 1), written with the same significant digits in the same sentence, and
records the original value under `metadata["counterfactual"]`; the document keeps its id, so the routine is the
same. `repose(task, changed)` gives the task over the changed documents: every cited value replaced, the answer
recomputed from the task's own formula (a plain arithmetic expression, evaluated without `eval`), the evidence
and reference solution rewritten, the id suffixed `-cf`. `counterfactual_tasks` does both for a task set.

These documents are not facts: they go only into GRPO's index (the pipeline's split stage, with
`split.rl_counterfactual`: the rl split is the train tasks re-posed, `rl_index` the training documents with the
copies in place of the originals), never into the world's, the teacher's SFT index or an evaluation's. Not here:
the split itself (split.py), the task shapes (synth/shapes_*.py).
"""

from __future__ import annotations

import ast
import logging
import math
import operator
import random
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sciresearcher.errors import DataError
from sciresearcher.records import Document, Task

log = logging.getLogger(__name__)

SUFFIX = "-cf"


def fmt(value: float) -> str:
    """How a number is written in a fact sentence: synth/facts.py's `fmt` (7 significant digits), restated here
    because synth builds on this package (tests/data/test_counterfactual.py checks that the two agree)."""
    return f"{value:.7g}"


_NEAR_ONE = 0.1  # factors within this of 1 are drawn again: a value changed by 3% reads like a rounding


class CounterfactualConfig(BaseModel):
    """Which documents change and by how much."""

    model_config = ConfigDict(extra="forbid")

    share: float = Field(1.0, gt=0.0, le=1.0, description="share of the documents the tasks cite whose values "
                         "change (a task citing none of them is kept as it is)")
    low: float = Field(0.5, gt=0.0, description="smallest factor a value is multiplied by")
    high: float = Field(2.0, gt=0.0, description="largest factor")
    seed: int = Field(0, description="drawn with the run's seed added (the pipeline adds it)")

    @model_validator(mode="after")
    def _range(self) -> CounterfactualConfig:
        if self.low >= self.high:
            raise ValueError(f"low {self.low} must be below high {self.high}")
        if self.low > 1 - _NEAR_ONE and self.high < 1 + _NEAR_ONE:
            raise ValueError(f"[{self.low}, {self.high}] has no factor at least {_NEAR_ONE} from 1: no value would "
                             "change; widen the range")
        return self


def significant_digits(text: str) -> int:
    """Significant digits of a number as written ('11.3' -> 3, '0.0899' -> 3, '1200' -> 2, '6.02e+23' -> 3)."""
    mantissa = text.lower().split("e")[0].lstrip("+-").replace(".", "").lstrip("0")
    if "." not in text and "e" not in text.lower():
        mantissa = mantissa.rstrip("0")
    return max(1, len(mantissa))


def _factor(rng: random.Random, config: CounterfactualConfig) -> float:
    while True:
        f = rng.uniform(config.low, config.high)
        if abs(f - 1.0) >= _NEAR_ONE:
            return f


def changed_value(value: float, rng: random.Random, config: CounterfactualConfig) -> float:
    """`value` times a drawn factor, rounded to the significant digits `value` is written with (drawn again when
    rounding drops a digit: 2.7 -> 3.0 would be written '3')."""
    digits = significant_digits(fmt(value))
    for _ in range(20):
        new = float(f"{value * _factor(rng, config):.{digits}g}")
        if new != value and new != 0 and significant_digits(fmt(new)) == digits:
            return new
    raise DataError(f"no counterfactual value found for {value!r} in 20 draws",
                    hint="widen the low/high range of split.rl_counterfactual")


def number_pattern(written: str) -> re.Pattern[str]:
    """`written` as a whole number in a sentence: '2.7' matches in 'is 2.7 g/cm3', not in '12.7' or '2.75'."""
    return re.compile(rf"(?<![\w.]){re.escape(written)}(?!\d|\.\d)")


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value != 0


def counterfactual_document(doc: Document, rng: random.Random, config: CounterfactualConfig) -> Document | None:
    """`doc` with each numeric fact changed in its sentence (None when no fact could be: no numeric fact, or its
    number is not written exactly once in its sentence)."""
    facts = (doc.metadata or {}).get("facts") or {}
    sentences = list(doc.sentences or [])
    text, new_facts, originals = doc.text, {}, {}
    for prop, f in facts.items():
        value, index = f.get("value"), f.get("sentence")
        if not _numeric(value) or not isinstance(index, int) or not 0 <= index < len(sentences):
            continue
        old_sentence, pattern = sentences[index], number_pattern(fmt(value))
        if len(pattern.findall(old_sentence)) != 1 or text.count(old_sentence) != 1:
            continue
        try:
            new = changed_value(float(value), rng, config)
        except DataError as exc:  # a range this value cannot leave with its digits: the fact stays as it is
            log.warning("%s: %s keeps its value (%s)", doc.id, prop, exc)
            continue
        sentences[index] = pattern.sub(fmt(new), old_sentence)
        text = text.replace(old_sentence, sentences[index])
        new_facts[prop] = {**f, "value": new}
        originals[prop] = value
    if not originals:
        return None
    metadata = {**doc.metadata, "facts": {**facts, **new_facts}, "counterfactual": originals}
    return doc.model_copy(update={"text": text, "sentences": sentences, "metadata": metadata,
                                  "source": f"counterfactual of {doc.source or doc.id}"})


# ---------------------------------------------------------------------------------------------------- re-posing

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.Pow: operator.pow, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_MATH = {name: getattr(math, name) for name in ("log", "log10", "log2", "exp", "sqrt", "sin", "cos", "tan", "pi", "e")}


def evaluate(expression: str, values: dict[str, float]) -> float:
    """An arithmetic expression over `values` (+ - * / ** // %, unary minus, numbers, names, `math.<fn>(...)`),
    evaluated in floats by walking its syntax tree; anything else, and any arithmetic error, raises DataError."""
    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return float(node.value)  # in floats, so that 2 ** 10 ** 10 overflows at once instead of running on
        if isinstance(node, ast.Name) and node.id in values:
            return float(values[node.id])
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](walk(node.operand))
        if (name := _math_name(node)) and not callable(_MATH[name]):  # math.pi, math.e
            return float(_MATH[name])
        if isinstance(node, ast.Call) and not node.keywords and (fn := _math_name(node.func)) and callable(_MATH[fn]):
            return float(_MATH[fn](*(walk(a) for a in node.args)))
        raise DataError(f"cannot re-pose a task whose formula has {ast.dump(node)[:60]!r}: {expression!r}")

    try:
        return walk(ast.parse(expression, mode="eval"))
    except SyntaxError as exc:
        raise DataError(f"the task's formula is not an expression: {expression!r} ({exc.msg})") from exc
    except (ArithmeticError, ValueError, TypeError) as exc:
        raise DataError(f"the task's formula fails on its values: {expression!r} ({type(exc).__name__}: {exc})") \
            from exc


def _math_name(node: ast.AST) -> str | None:
    """`fn` for a `math.fn` the formulas may use, else None."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "math" \
            and node.attr in _MATH:
        return node.attr
    return None


def repose(task: Task, changed: dict[str, Document]) -> Task | None:
    """`task` over the changed documents (None when none of the values it cites changed); raises DataError when a
    value it cites changed but the task cannot be re-answered (no formula, or one `evaluate` refuses)."""
    meta = task.metadata or {}
    variables: dict[str, Any] = meta.get("variables") or {}
    cited = {name: v for name, v in variables.items()
             if v.get("doc_id") in changed and v.get("prop") in changed[v["doc_id"]].metadata["counterfactual"]}
    if not cited:
        return None
    if not meta.get("expression"):
        raise DataError(f"task {task.id} cites a changed value but has no formula to re-answer it")
    new_vars = dict(variables)
    sentences: dict[tuple[str, int], str] = {}  # (doc, sentence) -> its new text
    lines: dict[str, str] = {}  # the reference solution's line of each changed value (Draft.solution's form)
    for name, v in cited.items():
        doc = changed[v["doc_id"]]
        f = doc.metadata["facts"][v["prop"]]
        new_vars[name] = {**v, "value": f["value"]}
        sentences[(doc.id, f["sentence"])] = text = (doc.sentences or [])[f["sentence"]]
        lines[f"{name} = "] = f"{name} = {fmt(f['value'])}  # {v.get('unit')}; {doc.id}, sentence {f['sentence']}: {text!r}"
    exact = evaluate(meta["expression"], {k: v["value"] for k, v in new_vars.items()})
    solution = "".join(next((new for start, new in lines.items() if line.startswith(start)), line) + "\n"
                       for line in str(meta.get("solution") or "").splitlines())
    evidence = [e.model_copy(update={"text": sentences[(e.doc_id, e.locator.sentence)]})
                if e.locator is not None and (e.doc_id, e.locator.sentence) in sentences else e for e in task.evidence]
    metadata = {**meta, "variables": new_vars, "exact_answer": exact, "solution": solution,
                "counterfactual_of": task.id}
    return task.model_copy(update={"id": task.id + SUFFIX, "answer": f"{exact:.4g}", "evidence": evidence,
                                   "metadata": metadata})


def cited_documents(tasks: Iterable[Task]) -> list[str]:
    """The ids of the documents the tasks' values come from, in first-cited order."""
    seen: dict[str, None] = {}
    for t in tasks:
        for v in ((t.metadata or {}).get("variables") or {}).values():
            if v.get("doc_id"):
                seen.setdefault(v["doc_id"], None)
    return list(seen)


def counterfactual_tasks(tasks: list[Task], docs: list[Document], config: CounterfactualConfig
                         ) -> tuple[list[Task], dict[str, Document]]:
    """The tasks with a `share` of the documents they cite changed: each task citing a changed document re-posed
    over it, the others as they are (same order); and the changed documents by id. Raises DataError when no
    document changes."""
    rng = random.Random(f"counterfactual:{config.seed}")
    by_id = {d.id: d for d in docs}
    changed: dict[str, Document] = {}
    for doc_id in cited_documents(tasks):
        if doc_id in by_id and rng.random() < config.share:
            new = counterfactual_document(by_id[doc_id], rng, config)
            if new is not None:
                changed[doc_id] = new
    if not changed:
        raise DataError(f"no document of the {len(tasks)} tasks has a numeric fact to change",
                        hint="counterfactual tasks need computational tasks whose values are cited facts")
    out = []
    for t in tasks:
        try:
            re_posed = repose(t, changed)
        except DataError:
            continue  # a task over a changed document that cannot be re-answered would be graded wrongly: dropped
        out.append(re_posed or t)
    return out, changed
