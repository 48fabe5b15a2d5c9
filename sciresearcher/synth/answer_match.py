"""Whether a short free-text answer says the same as a gold answer, as a careful grader would read it.

`answer_matches(gold, answer)` accepts what exact match rejects: articles, case and punctuation; a long form and
its abbreviation ("mitochondrial permeability transition pore (PTP)", "the PTP", "mitochondrial permeability
transition pore"); British and American spellings and plurals (`mentions.surface_forms`); an answer that
contains the gold phrase with a qualification ("at least one in every two (i.e., at least half)" for "one in
every two") or every content word of it in order ("insufficient response to, or toxicity of, first-line
chemotherapy" for "insufficient response or toxicity"), unless the answer negates it; and numbers that agree. It rejects an answer that only shares a word or two with the gold.

`grade_answer_text(task, reply, judge)` grades a full reply: the HLE judge when one is given (through
`grade.outcome.grade_outcome`), these rules otherwise. The conceptual pipeline's answerable and non-trivial
checks use it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sciresearcher.data.overlap import contains_phrase, normalised
from sciresearcher.synth.mentions import split_entity, surface_forms

if TYPE_CHECKING:
    from sciresearcher.grade.outcome import Judge
    from sciresearcher.records import Task

_ARTICLES = re.compile(r"^(?:the|a|an)\s+")
_STOP = frozenset(("the", "and", "for", "with", "from", "that", "this", "were", "was", "are", "its", "their",
                   "into", "onto", "than", "then", "also", "both", "each", "which"))
_NEGATION = frozenset(("not", "no", "without", "never", "none", "neither", "nor"))


def _forms(text: str) -> set[str]:
    long, abbr = split_entity(text)
    out = {_ARTICLES.sub("", f) for f in surface_forms(long)}
    if abbr:
        out.add(normalised(abbr))
    return {f for f in out if f}


def _numbers(text: str) -> list[float]:
    from sciresearcher.synth.numbers import numbers_in

    return numbers_in(text)


def answer_matches(gold: str, answer: str | None) -> bool:
    """Whether `answer` states the gold answer (see the module docstring for what is forgiven)."""
    if not answer or not answer.strip():
        return False
    gold_forms, got_forms = _forms(gold), _forms(answer)
    if gold_forms & got_forms:
        return True
    got = normalised(answer)
    negated = bool(_NEGATION & set(got.split())) and not _NEGATION & set(normalised(gold).split())
    for form in gold_forms if not negated else ():
        if len(form) >= 3 and contains_phrase(got, form, haystack_normalised=True):
            return True  # the answer states the gold phrase, with qualifications around it
    gold_words = [w for w in normalised(gold).split() if len(w) >= 3 and w not in _STOP]
    got_words = [w for w in got.split() if len(w) >= 3 and w not in _STOP]
    if len(gold_words) >= 2 and not negated and len(got_words) <= 3 * len(gold_words) + 3:
        it = iter(got_words)
        if all(any(g == w or (len(g) > 4 and w.startswith(g[:-1])) for w in it) for g in gold_words):
            return True  # every content word of the gold, in order ("insufficient response to, or toxicity of")
    gold_numbers = _numbers(gold)
    if gold_numbers and len(normalised(gold).split()) <= 3:
        got_numbers = _numbers(answer)
        return bool(got_numbers) and all(any(abs(g - x) <= 1e-6 * max(1, abs(g)) for x in got_numbers)
                                         for g in gold_numbers[:1])
    return False


async def grade_answer_text(task: Task, reply: str, judge: Judge | None = None) -> bool:
    """A reply (Explanation / Answer / Confidence) graded against the task: the judge if given, else the rules."""
    from sciresearcher.agent.final import parse_final_answer

    if judge is not None:
        from sciresearcher.grade.outcome import grade_outcome

        return (await grade_outcome(task, reply, judge)).correct
    final = parse_final_answer(reply)
    return answer_matches(task.answer, final.answer if final else reply)
