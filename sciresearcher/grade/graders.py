"""Rule-based graders: multiple choice, multi-select, numeric (tolerance + units), exact match, yes/no/maybe.

Each grader takes a Task and the model's answer text and returns a `Grade` that says how it was decided
(`method`, `extracted`, `reason`). An answer that cannot be read is graded wrong with the reason; graders
never raise for model output (they raise TaskError only for a task whose gold answer itself is invalid).
`grade_response` parses a full reply (HLE format, see agent/final.py) first, then grades its answer.
The same functions give the rejection-sampling and GRPO rewards. The LLM judge is in `judge.py`.
"""

from __future__ import annotations

import logging

from sciresearcher.agent.final import parse_final_answer
from sciresearcher.errors import TaskError
from sciresearcher.grade import numeric
from sciresearcher.grade.answers import (
    LETTERS,
    explain_choice,
    explain_choice_set,
    formula_key,
    normalize_text,
    unwrap_answer,
)
from sciresearcher.records import FinalAnswer, Grade, Task

log = logging.getLogger(__name__)

DEFAULT_REL_TOL = 0.01


def _grade(correct: bool, method: str, extracted: str | None, reason: str) -> Grade:
    return Grade(correct=correct, score=1.0 if correct else 0.0, method=method, extracted=extracted, reason=reason)


def grade_multiple_choice(task: Task, answer: str | None) -> Grade:
    gold = task.answer.strip().upper()
    n = len(task.options) if task.options else None
    if len(gold) != 1 or gold not in LETTERS[: n or 26]:
        raise TaskError(f"task {task.id}: multipleChoice gold must be one option letter, got {task.answer!r}")
    letter, how = explain_choice(answer, task.options, n)
    if letter is None:
        return _grade(False, "multiple_choice", None, f"unparseable: {how}")
    ok = letter == gold
    return _grade(ok, "multiple_choice", letter, f"{letter} from {how}; gold {gold}")


def grade_multi_select(task: Task, answer: str | None) -> Grade:
    n = len(task.options) if task.options else None
    gold, why = explain_choice_set(task.answer, n)
    if gold is None:
        raise TaskError(f"task {task.id}: multiSelect gold must be option letters like 'BCD' ({why})")
    got, how = explain_choice_set(answer, n, task.options)
    if got is None:
        return _grade(False, "multi_select", None, f"unparseable: {how}")
    shown, gold_shown = "".join(sorted(got)), "".join(sorted(gold))
    ok = got == gold
    detail = "exact set match" if ok else (
        f"missing {''.join(sorted(gold - got)) or '-'}, extra {''.join(sorted(got - gold)) or '-'}")
    return _grade(ok, "multi_select", shown, f"{shown} vs gold {gold_shown}: {detail}")


def grade_numeric(task: Task, answer: str | None, rel_tol: float | None = None) -> Grade:
    tol = rel_tol if rel_tol is not None else (task.tolerance if task.tolerance is not None else DEFAULT_REL_TOL)
    gold_q = numeric.parse_quantity(task.answer)
    if gold_q is None:
        raise TaskError(f"task {task.id}: numeric gold {task.answer!r} has no number")
    gold_value, gold_inline_unit = gold_q
    scale, gold_unit = numeric.split_unit_scale(task.unit or gold_inline_unit)
    parsed = numeric.parse_quantity(answer)
    if parsed is None:
        return _grade(False, "numeric", None, f"unparseable: no number in the answer {(answer or '')[:80]!r}")
    value, unit = parsed
    answer_scale, unit = numeric.split_unit_scale(unit)  # "3.52 10^{-19} J", as SciBench writes units
    value *= answer_scale
    extracted = f"{value:g}" + (f" {unit}" if unit else "")
    full_gold = gold_value * scale
    if unit and gold_unit and numeric.readable_unit(unit) and numeric.readable_unit(gold_unit):
        converted = numeric.convert(value, unit, gold_unit)
        if converted is None:
            return _grade(False, "numeric", extracted,
                          f"unit {unit!r} cannot be converted to the gold unit {gold_unit!r}")
        ok = numeric.close(converted, full_gold, tol)
        return _grade(ok, "numeric", extracted,
                      f"{converted:.6g} {gold_unit} (converted from {unit}) vs gold {full_gold:.6g}, rel tol {tol:g}")
    candidates = [("gold", full_gold)]
    if scale != 1.0:
        candidates.append((f"gold without its 10^{_exp(scale)} factor", gold_value))
    for label, target in candidates:
        if numeric.close(value, target, tol):
            note = "" if not unit or unit == gold_unit else f" (unit {unit!r} not checked)"
            return _grade(True, "numeric", extracted, f"{value:.6g} matches {label} {target:.6g}, rel tol {tol:g}{note}")
    return _grade(False, "numeric", extracted, f"{value:.6g} vs gold {full_gold:.6g} (rel tol {tol:g})")


def _exp(scale: float) -> str:
    import math

    return str(round(math.log10(scale)))


def grade_exact(task: Task, answer: str | None) -> Grade:
    if answer is None or not answer.strip():
        return _grade(False, "exact_match", None, "unparseable: no answer was given")
    answer = unwrap_answer(answer) or answer
    gold_f, got_f = formula_key(task.answer), formula_key(answer)
    if gold_f is not None and got_f is not None:
        ok = gold_f == got_f
        return _grade(ok, "exact_match", answer.strip(), f"chemical formula {'matches' if ok else 'differs'} ({got_f} vs {gold_f})")
    gold_n, got_n = normalize_text(task.answer), normalize_text(answer)
    if gold_n and gold_n == got_n:
        return _grade(True, "exact_match", got_n, "equal after normalisation")
    gold_q, got_q = numeric.parse_quantity(task.answer), numeric.parse_quantity(answer)
    same_unit = bool(gold_q and got_q) and normalize_text(str(gold_q[1] or "")) == normalize_text(str(got_q[1] or ""))
    if same_unit and numeric.close(got_q[0], gold_q[0], 1e-6):
        return _grade(True, "exact_match", got_n, "the same number")
    return _grade(False, "exact_match", got_n, f"{got_n!r} differs from gold {gold_n!r} after normalisation")


_YNM = ("yes", "no", "maybe")
_YNM_SYNONYMS = {"true": "yes", "false": "no", "uncertain": "maybe", "unclear": "maybe", "possibly": "maybe"}


def grade_yes_no(task: Task, answer: str | None) -> Grade:
    gold = normalize_text(task.answer)
    if gold not in _YNM:
        raise TaskError(f"task {task.id}: yesNo gold must be yes, no or maybe, got {task.answer!r}")
    if answer is None or not answer.strip():
        return _grade(False, "yes_no", None, "unparseable: no answer was given")
    words = normalize_text(unwrap_answer(answer) or answer).split()
    words = [_YNM_SYNONYMS.get(w, w) for w in words]
    got: str | None = words[0] if words and words[0] in _YNM else None
    how = "the first word"
    if got is None:
        found = {w for w in words if w in _YNM}
        if len(found) == 1:
            got, how = found.pop(), "the only yes/no/maybe word"
        else:
            why = "several of yes/no/maybe" if found else "no yes/no/maybe"
            return _grade(False, "yes_no", None, f"unparseable: {why} in {answer[:80]!r}")
    return _grade(got == gold, "yes_no", got, f"{got} from {how}; gold {gold}")


GRADERS = {
    "multipleChoice": grade_multiple_choice,
    "multiSelect": grade_multi_select,
    "numeric": grade_numeric,
    "exactMatch": grade_exact,
    "yesNo": grade_yes_no,
}


def grade_answer(task: Task, answer: str | None) -> Grade:
    """Grades an extracted answer string with the grader for the task's answer type."""
    return GRADERS[task.answer_type](task, answer)


def grade_final(task: Task, final: FinalAnswer | None) -> Grade:
    """Grades a parsed final answer; a missing one is wrong with that reason."""
    method = GRADERS[task.answer_type].__name__.removeprefix("grade_")
    if final is None:
        return _grade(False, method, None, "no final answer")
    if final.answer is None or not final.answer.strip():
        return _grade(False, method, None, f"unparseable: no readable answer in the reply {final.raw[-120:]!r}")
    return grade_answer(task, final.answer)


def grade_response(task: Task, response: str | None) -> Grade:
    """Parses a full reply (Explanation/Answer/Confidence, boxed, or last line) and grades it."""
    return grade_final(task, parse_final_answer(response) if response else None)


def grade(task: Task, response: str | FinalAnswer | None) -> Grade:
    """The one entry point: grades a full reply text, a parsed FinalAnswer, or None (no answer = wrong)."""
    if isinstance(response, FinalAnswer):
        return grade_final(task, response)
    return grade_response(task, response)
