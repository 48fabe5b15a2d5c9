"""The offline writer over papers: quantitative statements of a corpus -> computational tasks cited to sentences.

For each document, three-level evidence selection (lexical, with a quantitative goal) ranks its sentences;
`numbers.quantities` reads the numbers each states with their units (markers, years and citations skipped), and
rules recognise statements a computation can be built on:

- a two-group comparison with spreads: "A ± B ... and C ± D" (with "n = N" per group when stated) -> Cohen's d
  with the pooled SD (equal groups, or weighted by the stated n), or the pooled SD itself;
- two values of one unit in one sentence ("from A to B mg/dL", "A% vs B%") -> percent change and fold change;
- a weight-based dose ("A mg/kg") -> the dose for a given body weight, in grams.

Each value becomes a variable cited to its sentence (doc id and locator), the reference solution is the values
as named constants and the formula, and the question identifies the paper (its title, or the opening words of an
untitled abstract) and quotes the statement with its numbers blanked, so the values must be read from the paper.
It does not understand what the values mean beyond their units and the statement's shape; a model writer
(`computational_llm.py`) writes richer problems.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import time
from dataclasses import dataclass
from typing import Any

from sciresearcher.grade.numeric import convert
from sciresearcher.records import Document, Evidence, Provenance, Task
from sciresearcher.synth.draft import operations
from sciresearcher.synth.numbers import Written, quantities

WRITER = "offline-paper-rules"
QUANT_GOAL = "mean value ± SD, concentration, dose, rate or percentage measured in each group"
_COMPARE = re.compile(r"\b(?:increased|decreased|reduced|rose|fell|declined|dropped|improved|compared|vs\.?|versus|"
                      r"than|whereas|while|respectively|before|after|from\b.{1,80}\bto)\b", re.IGNORECASE)
_RANGE = re.compile(r"^\s*(?:[-–—]|to|and|or)\s*$")
_NO_CHANGE_UNITS = ("°C", "°F", "K", "years", "year", "months", "days", "h", "min", "weeks")


@dataclass
class Statement:
    kind: str  # cohens_d | pooled_sd | percent_change | fold_change | dose
    evidence: Evidence
    values: dict[str, Written]
    given: dict[str, float]
    formula: str
    unit: str
    ask: str  # what the question asks for, after the quoted statement


def _blank(sentence: str, used: list[Written]) -> str:
    out = sentence
    for w in sorted(used, key=lambda w: -w.start):
        out = out[:w.start] + "___" + out[w.end:]
    return out


def _same_unit(a: Written, b: Written) -> bool:
    if (a.unit or "") == (b.unit or ""):
        return True
    return bool(a.unit and b.unit and convert(1.0, a.unit, b.unit) is not None)


def _pm_pairs(sentence: str, nums: list[Written]) -> list[tuple[Written, Written]]:
    pairs = []
    for a, b in itertools.pairwise(nums):
        if re.fullmatch(r"\s*(?:±|\+/-|\+/−)\s*", sentence[a.end:b.start]):
            pairs.append((a, b))
    return pairs


def _group_n(sentence: str, after: int) -> float | None:
    m = re.match(r"[^;.]{0,40}?\(\s*n\s*=\s*(\d+)\s*\)", sentence[after:])
    return float(m.group(1)) if m else None


def statements(ev: Evidence) -> list[Statement]:
    """The computable statements of one sentence (see the module docstring)."""
    text = ev.text
    nums = [w for w in quantities(text) if math.isfinite(w.value)]
    out: list[Statement] = []
    pairs = _pm_pairs(text, nums)
    compares = bool(_COMPARE.search(text))
    if len(pairs) >= 2:
        (m1, s1), (m2, s2) = pairs[0], pairs[1]
        if compares and _same_unit(m1, m2) and s1.value > 0 and s2.value > 0 and m1.value != m2.value:
            n1, n2 = _group_n(text, s1.end), _group_n(text, s2.end)
            values = {"m1": m1, "s1": s1, "m2": m2, "s2": s2}
            if n1 and n2 and n1 + n2 > 2:
                given = {"n1": n1, "n2": n2}
                pooled = "math.sqrt(((n1 - 1) * s1 ** 2 + (n2 - 1) * s2 ** 2) / (n1 + n2 - 2))"
                out.append(Statement("pooled_sd", ev, values, given, pooled, m1.unit or "",
                                     f"Taking the groups' sizes as {n1:g} and {n2:g}, what is their pooled standard "
                                     "deviation?"))
                out.append(Statement("cohens_d", ev, values, given, f"(m1 - m2) / {pooled}", "",
                                     f"Taking the groups' sizes as {n1:g} and {n2:g}, what is Cohen's d (first group "
                                     "minus second, over the pooled standard deviation)?"))
            else:
                out.append(Statement("cohens_d", ev, values, {}, "(m1 - m2) / math.sqrt((s1 ** 2 + s2 ** 2) / 2)", "",
                                     "Assuming equal group sizes, what is Cohen's d (first group minus second, "
                                     "over the pooled standard deviation)?"))
        return out
    plain = [w for w in nums if w.value > 0 and not any(w is s for _, s in pairs)]
    for a, b in itertools.pairwise(plain) if compares and not pairs else ():
        between = text[a.end:b.start]
        spread_word = re.compile(r"\b(?:SD|SEM?|IQR|CI|range)\b\W{0,4}$")
        if spread_word.search(text[:a.start]) or spread_word.search(text[:b.start]) or _RANGE.match(between) or re.search(r"\b(?:SD|SEM?|IQR|CI|range)\b", between) or \
                (a.unit or "").strip() in _NO_CHANGE_UNITS:
            continue  # a range's ends, a spread, or a quantity whose percent change means nothing
        if a.unit and _same_unit(a, b) and a.value != b.value and "%" not in (a.unit or "") + (b.unit or ""):
            values = {"a": a, "b": b}
            out.append(Statement("percent_change", ev, values, {}, "(b - a) / a * 100", "%",
                                 "What is the percent change from the first to the second blanked value?"))
            break
        if (a.unit or "").strip() == "%" and (b.unit or "").strip() == "%" and a.value != b.value:
            out.append(Statement("fold_change", ev, {"a": a, "b": b}, {}, "b / a", "",
                                 "What is the ratio of the second blanked percentage to the first?"))
            break
    for w in plain:
        if w.unit and re.fullmatch(r"(?:mg|µg|μg|g)\s?/\s?kg", w.unit.strip()) and not out:
            weight = 70.0
            scale = {"mg": 1e-3, "g": 1.0}.get(w.unit.split("/")[0].strip(), 1e-6)
            out.append(Statement("dose", ev, {"d": w}, {"W": weight, "k": scale}, "d * W * k", "g",
                                 f"At the blanked per-kilogram dose, how many grams does a {weight:g} kg adult "
                                 "receive?"))
    return out


def _paper_name(doc: Document) -> str:
    if doc.title:
        return f'the paper "{doc.title}"'
    opening = " ".join(re.findall(r"\w+", doc.text)[:12])
    return f'the abstract that opens "{opening} ..."'


def task_from_statement(doc: Document, st: Statement, tolerance: float) -> Task:
    values = {name: w.value for name, w in st.values.items()}
    formula = st.formula
    from sciresearcher.synth import draft

    exact = float(eval(formula, dict(draft._namespace()), {**values, **st.given}))
    blanked = _blank(st.evidence.text, list(st.values.values()))
    question = f'In {_paper_name(doc)}, a sentence reports: "{blanked}" {st.ask}'
    variables: dict[str, Any] = {n: {"value": v, "given": True} for n, v in st.given.items()}
    for name, w in st.values.items():
        variables[name] = {"value": w.value, "unit": w.unit or "", "doc_id": doc.id,
                           "locator": st.evidence.locator.model_dump(exclude_none=True)}
    lines = ["import math", ""]
    lines += [f"{n} = {v['value']!r}  # {v.get('unit', '')}; {doc.id} {v.get('locator', 'given')}"
              for n, v in variables.items()]
    lines += ["", f"answer = {formula}", "print(repr(answer))"]
    ops = operations(formula)
    difficulty = "easy" if ops < 3 else ("hard" if ops >= 8 else "medium")
    key = f"{doc.id}|{st.kind}|{st.evidence.text}"
    return Task(
        id=f"paper-{st.kind}-{hashlib.blake2b(key.encode(), digest_size=6).hexdigest()}",
        question=question + (f" Give the answer in {st.unit}." if st.unit else ""), answer=f"{exact:.4g}",
        answer_type="numeric", tolerance=tolerance, unit=st.unit or None, evidence=[st.evidence],
        difficulty=difficulty,
        provenance=Provenance(pipeline="computational", seed_entity=doc.title or doc.id, writer_model=WRITER,
                              prompt_hash=hashlib.blake2b(st.kind.encode(), digest_size=6).hexdigest(),
                              created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                              extra={"template": f"paper_{st.kind}", "source_doc": doc.id}),
        metadata={"template": f"paper_{st.kind}", "variables": variables, "solution": "\n".join(lines) + "\n",
                  "exact_answer": exact, "expression": formula, "operations": ops, "documents": [doc.id],
                  "entities": [doc.id]},
    )


def paper_tasks(doc: Document, selector: Any, tolerance: float = 0.01, per_doc: int = 2) -> list[Task]:
    """Up to `per_doc` tasks from one document's best quantitative sentences (different kinds first)."""
    out: list[Task] = []
    kinds: set[str] = set()
    for ev in selector.sentences(QUANT_GOAL, [doc], k=15):
        for st in statements(ev):
            if st.kind in kinds or len(out) >= per_doc:
                continue
            try:
                task = task_from_statement(doc, st, tolerance)
            except (ZeroDivisionError, ValueError, OverflowError):
                continue
            if math.isfinite(float(task.answer)):
                out.append(task)
                kinds.add(st.kind)
    return out
