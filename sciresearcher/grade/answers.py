"""Reading answers out of model text: option letters, letter sets, numbers with units, normalised strings.

Pure functions, no grading decisions: `grading.py` compares what these extract with the gold answer.
`explain_choice` finds one option letter in "Answer: C", "(C)", "\\boxed{C}", "C. 6.4e-3", "option C",
the option's own text (exactly first, so options that differ only by sign or punctuation stay apart) or its
label ("SUPPORT" for "SUPPORT: the evidence supports the claim"); a capital letter inside a word never
counts, nor one after a number ("-78 C" is a temperature), nor the article "A" in running text ("A protein
that ..."); several different boxed answers are ambiguous. `explain_choice_set` reads multi-select answers
in any case, order and separators ("BCD", "b, c and d", "\\boxed{B,D}") or as the options' texts. Both
`explain_*` functions return the value and a reason so a failure can be recorded on the grade;
`extract_choice`/`extract_choice_set` return the value only. `parse_number` reads a number and the unit after it (see numeric.py). `normalize_text` and
`formula_key` serve exact match.
"""

from __future__ import annotations

import functools
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


def unwrap_answer(text: str) -> str:
    """The answer without \\boxed{} (the last one), math delimiters and markdown bold ("\\boxed{yes}" -> "yes")."""
    return _unwrap(text)[0] or ""


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
    cands = [m.group(1) for m in _STANDALONE.finditer(body) if m.group(1) in valid and not _is_unit(body, m.start(1))]
    cands = [c for c in cands if not (c in "AI" and re.search(rf"(?<![A-Za-z]){c}\s+[a-z]", body))]
    if len(set(cands)) == 1:
        return cands[0], "the only standalone option letter"
    if len(set(cands)) > 1:
        return None, f"no single option letter: several ({', '.join(sorted(set(cands)))}) in {text[:80]!r}"
    return None, f"no single option letter ({valid[0]}-{valid[-1]}) or option text in {text[:80]!r}"


def extract_choice(text: str | None, options: list[str] | None = None, n_options: int | None = None) -> str | None:
    """One option letter from an answer, or None when none can be read unambiguously."""
    return explain_choice(text, options, n_options)[0]


def _is_unit(text: str, pos: int) -> bool:
    """Whether the capital letter at `pos` follows a number ("-78 C", "5 °C", "300K"): a unit, not an option."""
    return bool(re.search(r"\d\s*°?\s*\(?$", text[max(0, pos - 4):pos]))


@functools.lru_cache(maxsize=65536)  # options are compared again for every answer
def _light(text: str, fold: bool = False) -> str:
    """Spacing, math delimiters, \\boxed, bold, degree signs and a final period removed; case (unless `fold`),
    signs and other punctuation kept, so options that differ only by case, sign or punctuation stay apart
    ("Bbyy" vs "BbYy", "-78 °C" vs "78 °C")."""
    out = _unwrap(text)[0] or ""
    for _ in range(3):  # to a fixed point, so an answer already cleaned once compares equal to its option
        cleaned = clean_latex(out)
        if cleaned == out:
            break
        out = cleaned
    out = out.replace("°", " ")
    out = re.sub(r"\s+", " ", out.casefold() if fold else out).strip().rstrip(".").strip()
    return out


def _label(option: str, options: list[str]) -> str | None:
    """'SUPPORT' of an option written 'SUPPORT: the evidence supports the claim', when every option is written
    'LABEL: description' with its own label of words (SciFact), never ratios like '3:1'."""
    labels = [o.partition(":")[0].strip() if ":" in o else "" for o in options]
    head = option.partition(":")[0].strip()
    if not all(re.fullmatch(r"[A-Za-z][A-Za-z -]{1,29}", lab) for lab in labels) or len(set(labels)) != len(labels):
        return None
    return head


def _unique(found: list[int]) -> str | None:
    return LETTERS[found[0]] if len(set(found)) == 1 else None


def _contained(body: str, keys: list[str], min_len: int = 4) -> list[tuple[int, int, int]]:
    """(start, end, option index) of each option key (light form) inside `body` (light form), less those lying
    inside a longer match; a match never starts right after a sign or a word character."""
    spans = []
    for i, key in enumerate(keys):
        if len(key) < min_len:
            continue
        spans += [(m.start(), m.end(), i) for m in re.finditer(rf"(?<![\w+\-]){re.escape(key)}(?!\w)", body)]
    return [s for s in spans if not any(o[0] <= s[0] and s[1] <= o[1] and o[1] - o[0] > s[1] - s[0] for o in spans)]


def _match_option_text(body: str, options: list[str], contained: bool = True) -> str | None:
    """The option whose text the answer is: exactly (spacing and wrappers aside), then ignoring case, then
    after removing punctuation, then by its label ('SUPPORT'); with `contained`, the one option written
    inside the answer. Each step must single out one option."""
    for key in (_light, lambda t: _light(t, fold=True), normalize_text):
        target = key(body)
        letter = _unique([i for i, o in enumerate(options) if target and key(o) == target])
        if letter:
            return letter
    norm = normalize_text(body)
    letter = _unique([i for i, o in enumerate(options) if (lab := _label(o, options)) and normalize_text(lab) == norm])
    if letter or not contained:
        return letter
    return _unique([i for _, _, i in _contained(_light(body), [_light(o) for o in options])])


_SET_FILLER = re.compile(r"\b(?:and|or|options?|choices?|answers?|are|is|both|correct|letters?)\b"
                         r"|[,;/&+()\[\]{}.:'\"|•]", re.IGNORECASE)
_MARKER = re.compile(r"(?:^|(?<=[\s,;(]))\(?[a-z][.):](?=\s|$)")


def explain_choice_set(answer: str | None, n_options: int | None = None,
                       options: list[str] | None = None) -> tuple[frozenset[str] | None, str]:
    """(set of letters, how) or (None, why) for a multi-select answer: letters in any case, order and
    separators ('BCD', 'b, c and d', '\\boxed{B,D}', '**B, D**'), or the options' own texts."""
    if answer is None or not answer.strip():
        return None, "no answer was given"
    valid = LETTERS[: n_options or (len(options) if options else 26)]
    text, _ = _unwrap(answer)
    body = _LEAD.sub("", text).strip()
    letters, why = _letter_list(body, valid)
    if letters is not None:
        return letters, "a list of option letters"
    if options:
        covered = _options_cover(body, options)
        if covered:
            return covered, "the texts of options"
    return None, why


def _letter_list(body: str, valid: str) -> tuple[frozenset[str] | None, str]:
    tokens = _SET_FILLER.sub(" ", body).split()
    if not tokens:
        return None, f"no option letters in the answer {body[:80]!r}"
    letters: list[str] = []
    for tok in tokens:
        if not tok.isalpha() or not (tok.isupper() or tok.islower()) or any(ch not in valid for ch in tok.upper()):
            return None, f"the answer {body[:80]!r} is not a list of option letters ({valid[0]}-{valid[-1]})"
        if len(tok) > 1 and len(set(tok)) != len(tok):
            return None, f"repeated letters in {tok!r}"
        letters.extend(tok.upper())
    return frozenset(letters), "a list of option letters"


def _options_cover(body: str, options: list[str]) -> frozenset[str] | None:
    """The options whose texts make up the whole answer (with separators and letter markers between them)."""
    light = _light(body, fold=True)
    spans = _contained(light, [_light(o, fold=True) for o in options], min_len=1)  # in any case
    if not spans:
        return None
    rest = list(light)
    for start, end, _ in spans:
        rest[start:end] = " " * (end - start)
    if _SET_FILLER.sub(" ", _MARKER.sub(" ", "".join(rest))).strip():
        return None
    return frozenset(LETTERS[i] for _, _, i in spans)


def extract_choice_set(text: str | None, n_options: int | None = None,
                       options: list[str] | None = None) -> set[str] | None:
    """A set of option letters ('ACD', 'A, C and D', '\\boxed{A,C}', '(A)(C)'); None when none is found."""
    letters = explain_choice_set(text, n_options, options)[0]
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
