"""Reading answers out of model text: option letters, letter sets, numbers with units, normalised strings.

Pure functions, no grading decisions: `grading.py` compares what these extract with the gold answer.
`explain_choice` finds one option letter in "Answer: C", "(C)", "\\boxed{C}", "C. 6.4e-3", "option C",
or the option's own text; a capital letter inside a word never counts, the article "A" in running text
("A protein that ...") never counts, several different boxed answers are ambiguous. `extract_letter_set`
reads multi-select answers ("BCD", "B, C and D", "\\boxed{B,D}"). Both `explain_*` functions return the value and a
reason so a failure can be recorded on the grade; `extract_choice`/`extract_choice_set` return the value
only. `parse_number` reads a number and the unit after it (see numeric.py). `normalize_text` and
`formula_key` serve exact match.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter

from sciresearcher.agent.final import boxed_contents
from sciresearcher.grade.numeric import clean_latex, parse_quantity

LETTERS = string.ascii_uppercase


def _unwrap(text: str) -> tuple[str | None, str]:
    """The answer text with \\boxed and markdown removed; with several boxed answers the last one counts
    (a model that corrects itself), and the reason says so."""
    boxes = boxed_contents(text)
    note = ""
    if boxes:
        distinct = list(dict.fromkeys(b.strip() for b in boxes))
        if len(distinct) > 1:
            note = f" (last of {len(distinct)} different boxed answers)"
        text = boxes[-1]
    text = clean_latex(text).replace("**", "").replace("__", "").strip()
    return text, note


_LEAD = re.compile(r"^(?:the\s+)?(?:final\s+|correct\s+)?(?:answer|option|choice)s?\s*(?:is|are|:)?\s*", re.IGNORECASE)
_SINGLE = re.compile(r"^[\[(\"']?\s*([A-Za-z])\s*[\])\"']?\s*[.:)]?$")
_LEADING_LETTER = re.compile(r"^[\[(]?([A-Z])(?:[\]).:]|\s*[-–—]\s|\s+(?=\S))")
_PHRASE = re.compile(r"\b(?i:answer|option|choice)\s*(?i:is|:)?\s*[\[(]?([A-Z])\b(?![-'])")
_STANDALONE = re.compile(r"(?<![A-Za-z0-9'’-])\(?([A-Z])\)?(?![A-Za-z0-9'’-])")


def explain_choice(answer: str | None, options: list[str] | None = None,
                   n_options: int | None = None) -> tuple[str | None, str]:
    """(letter, how it was found) or (None, why not) for a single-choice answer."""
    if answer is None or not answer.strip():
        return None, "no answer was given"
    count = n_options or (len(options) if options else 26)
    valid = LETTERS[:count]
    text, note = _unwrap(answer)
    letter, how = _find_choice(text, options, valid)
    return letter, how + note


def _find_choice(text: str, options: list[str] | None, valid: str) -> tuple[str | None, str]:
    body = _LEAD.sub("", text).strip()
    single = _SINGLE.match(body)
    if single and single.group(1).upper() in valid and (single.group(1).isupper() or len(body) <= 3):
        return single.group(1).upper(), "a lone option letter"
    if options:
        exact = _match_option_text(body, options, contained=False)
        if exact:
            return exact, "the text of an option"
    lead = _LEADING_LETTER.match(body)
    if lead and lead.group(1) in valid and not (lead.group(1) in "AI" and re.match(r"^[AI]\s+[a-z]", body)):
        return lead.group(1), "an option letter at the start"
    phrase = [m.group(1).upper() for m in _PHRASE.finditer(text) if m.group(1).upper() in valid]
    if len(set(phrase)) == 1:
        return phrase[0], "an 'answer/option X' phrase"
    if options:
        letter = _match_option_text(body, options)
        if letter:
            return letter, "the text of an option"
    cands = [m.group(1) for m in _STANDALONE.finditer(body) if m.group(1) in valid]
    cands = [c for c in cands if not (c in "AI" and re.search(rf"(?<![A-Za-z]){c}\s+[a-z]", body))]
    if len(set(cands)) == 1:
        return cands[0], "the only standalone option letter"
    if len(set(cands)) > 1:
        return None, f"no single option letter: several ({', '.join(sorted(set(cands)))}) in {text[:80]!r}"
    return None, f"no single option letter ({valid[0]}-{valid[-1]}) or option text in {text[:80]!r}"


def extract_choice(text: str | None, options: list[str] | None = None, n_options: int | None = None) -> str | None:
    """One option letter from an answer, or None when none can be read unambiguously."""
    return explain_choice(text, options, n_options)[0]


def _match_option_text(body: str, options: list[str], contained: bool = True) -> str | None:
    norm_body = normalize_text(body)
    norms = [normalize_text(o) for o in options]
    exact = [i for i, o in enumerate(norms) if o and o == norm_body]
    if len(exact) == 1:
        return LETTERS[exact[0]]
    if not contained:
        return None
    inside = [i for i, o in enumerate(norms) if len(o) >= 4 and re.search(rf"(?<!\w){re.escape(o)}(?!\w)", norm_body)]
    if len(inside) == 1:
        return LETTERS[inside[0]]
    return None


_SET_FILLER = re.compile(r"\b(?:and|or|options?|choices?|answers?|are|is|both|correct|letters?)\b|[,;/&+()\[\]{}.:'\"]", re.IGNORECASE)


def explain_choice_set(answer: str | None, n_options: int | None = None) -> tuple[frozenset[str] | None, str]:
    """(set of letters, how) or (None, why) for a multi-select answer such as 'BCD' or 'B, C and D'."""
    if answer is None or not answer.strip():
        return None, "no answer was given"
    valid = LETTERS[: n_options or 26]
    text, _ = _unwrap(answer)
    body = _LEAD.sub("", text).strip()
    body = _SET_FILLER.sub(" ", body)
    tokens = body.split()
    if not tokens:
        return None, f"no option letters in the answer {answer[:80]!r}"
    letters: list[str] = []
    for tok in tokens:
        if not tok.isupper() or not tok.isalpha() or any(ch not in valid for ch in tok):
            return None, f"the answer {answer[:80]!r} is not a list of option letters ({valid[0]}-{valid[-1]})"
        if len(tok) > 1 and len(set(tok)) != len(tok):
            return None, f"repeated letters in {tok!r}"
        letters.extend(tok)
    return frozenset(letters), "a list of option letters"


def extract_choice_set(text: str | None, n_options: int | None = None) -> set[str] | None:
    """A set of option letters ('ACD', 'A, C and D', '\\boxed{A,C}', '(A)(C)'); None when none is found."""
    letters = explain_choice_set(text, n_options)[0]
    return set(letters) if letters is not None else None


def parse_number(text: str | None) -> tuple[float, str] | None:
    """The first number in an answer (1.0e-3, 1.2 \\times 10^{-3}, 1,234.5) and the unit text after it."""
    found = parse_quantity(text)
    return None if found is None else (found[0], found[1] or "")


_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_FORMULA = re.compile(r"^(?:[A-Z][a-z]?\d*|\(|\)\d*|\[|\]\d*|·\d*|\.)+(?:\^?\d*[+-])?$")
_ELEMENT = re.compile(r"([A-Z][a-z]?)(\d*)|(\()|(\))(\d*)")


def normalize_text(text: str) -> str:
    """Lower case, LaTeX, punctuation, articles and whitespace removed (SQuAD-style, unicode-aware)."""
    out = clean_latex(unicodedata.normalize("NFKC", text)).lower()
    out = out.replace("_", "").replace("{", "").replace("}", "").replace("\\", "")
    out = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in out)
    out = _ARTICLES.sub(" ", out)
    return re.sub(r"\s+", " ", out).strip()


def formula_key(text: str) -> str | None:
    """Canonical element counts of a chemical formula ('H₂O', 'H_2O', 'Ca(OH)2'); None if not a formula."""
    raw = unicodedata.normalize("NFKC", clean_latex(text)).strip().rstrip(".")
    raw = re.sub(r"[_{}\s]|\\ce", "", raw)
    if not raw or not _FORMULA.match(raw) or not re.search(r"[A-Z]", raw):
        return None
    charge = ""
    charge_match = re.search(r"\^?(\d*)([+-])$", raw)
    if charge_match:
        charge = (charge_match.group(1) or "1") + charge_match.group(2)
        raw = raw[: charge_match.start()]
    counts = formula_counts(raw)
    if counts is None:
        return None
    return ",".join(f"{el}{n}" for el, n in sorted(counts.items())) + (f";{charge}" if charge else "")


def formula_counts(formula: str) -> Counter[str] | None:
    stack: list[Counter[str]] = [Counter()]
    for part in re.split(r"[·.]", formula):
        pos = 0
        mult = re.match(r"^(\d+)", part)
        factor = int(mult.group(1)) if mult else 1
        part = part[mult.end():] if mult else part
        start_depth = len(stack)
        stack.append(Counter())
        while pos < len(part):
            m = _ELEMENT.match(part, pos)
            if not m:
                return None
            if m.group(1):
                stack[-1][m.group(1)] += int(m.group(2) or 1)
            elif m.group(3):
                stack.append(Counter())
            else:
                if len(stack) <= start_depth + 1:
                    return None
                inner = stack.pop()
                n = int(m.group(5) or 1)
                for el, c in inner.items():
                    stack[-1][el] += c * n
            pos = m.end()
        if len(stack) != start_depth + 1:
            return None
        group = stack.pop()
        for el, c in group.items():
            stack[-1][el] += c * factor
    return stack[0]
