"""Numbers as papers write them: digits, words, ranges, flattened exponents, percentages, and which are markers.

`read_numbers(text)` returns every number written in a sentence as `Written` (value, unit, span) with the
other readings a careful reader would also accept (`alternatives`):

- digits with thousands separators or a decimal comma ("1,200", "0,5"), signs including the unicode minus;
- scientific forms: "4.1e-3", "2.5 x 10^3", "2.5 × 10(3)" (PubMed), and exponents whose superscript was
  flattened by the corpus text: "104 p.f.u." may mean 10^4, "10−6" means 10^-6, "2 × 104" means 2 × 10^4;
- words: "eight to ten", "twenty-five", "one hundred", "half", "2.5 million", "one in every two";
- ranges and spreads ("10–20", "5.2 ± 1.1") give both numbers (never a negative second number);
- a percentage also reads as a fraction (45% -> 0.45), "N per M" and "N in (every) M" also as the ratio.

Each number is tagged `marker` when it is not a measured quantity: citation markers ("[12]", "[3–5]"),
figure/table/equation/section references ("Fig. 2", "Eq. (3)", a trailing "(1)"), years (1900-2039 with no
unit), and identifiers glued to letters ("IL-6", "CD4" are never read at all). `quantities(text)` is the
non-marker ones (what evidence selection should count); `states(value, text, unit)` is the lenient check
that a value is written in a sentence (any reading, or the same quantity in another unit via pint).

It does not interpret what a number measures (see `paper_statements.py`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

_MINUS = "−–‐‑-"
_MC = r"−–‐‑\-"  # the same inside a regex character class
_UNIT_RE = (
    r"%|‰|°\s?[CF]\b|(?:[kmµμunpf]?(?:g|L|l|mol|M|Pa|J|W|V|Gy|Sv|Bq|Da|Hz|m|s))(?:\s?/\s?(?:[kmµμunpf]?"
    r"(?:g|L|l|mol|m|s|kg|dL|mL|h|min|d|day|cell|cells)))*\b|kDa|kbp?\b|bp\b|nt\b|K\b|atm\b|bar\b|mmHg\b|"
    r"kcal\b|cal\b|IU\b|U\b|h\b|hrs?\b|hours?\b|min\b|minutes?\b|days?\b|weeks?\b|months?\b|years?\b|"
    r"-?fold\b|ppm\b|ppb\b|rpm\b|p\.?f\.?u\.?|PFU\b|c\.?f\.?u\.?|CFU\b|copies\b|cells?\b|patients?\b|"
    r"participants?\b|subjects?\b|mice\b|rats\b|cases\b|samples\b|kg\b|cm\b|mm\b|nm\b|µm\b|μm\b"
)
_NUM = re.compile(
    r"(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:[.,]\d+)?|\.\d+)"
    r"(?P<exp>\s*[eE][-−+]?\d+|\s*[x×·]\s*10\s*(?:\^|\*\*)?\s*(?:\(\s*[" + _MC + r"+]?\d+\s*\)|[" + _MC
    + r"+]?\d{1,3}))?"
)
_UNIT_AFTER = re.compile(rf"\s?(?P<unit>{_UNIT_RE})")
_REF_BEFORE = re.compile(
    r"(?:\b(?:Figs?|Figures?|Tables?|Eqs?|Equations?|Sections?|Supplementary|Refs?|References?|Chapter|"
    r"Panel|Lane|Appendix|Step|Phase|Grade|Stage|Type|Class|Group|Day|Week|Visit|Model|Trial|Study|No|"
    r"Experiment|Exp|Ex|Box|Scheme|Protocol)\.?\s*(?:\(|S)?)$", re.IGNORECASE)
_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12, "twice": 2,
    "half": 0.5, "quarter": 0.25, "third": 1 / 3, "single": 1, "double": 2, "triple": 3,
}
_SCALES = {"hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9}
_WORD_RE = re.compile(r"\b(?:" + "|".join(sorted({*_WORDS, *_SCALES}, key=len, reverse=True))
                      + r")(?:[\s-]+(?:and\s+)?(?:" + "|".join(sorted({*_WORDS, *_SCALES}, key=len, reverse=True))
                      + r"))*\b", re.IGNORECASE)
_RATIO = re.compile(r"(?P<a>[\d.,]+|\w+)\s+(?:per|in(?:\s+every)?|out\s+of)\s+(?P<b>[\d.,]+|\w+)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Written:
    """One number as written: its main reading, other readings, the unit after it, where it is, and whether
    it is a marker (citation, reference, year) rather than a quantity."""

    value: float
    start: int
    end: int
    text: str
    unit: str | None = None
    alternatives: tuple[float, ...] = ()
    marker: str | None = None  # citation | reference | year | None

    @property
    def readings(self) -> tuple[float, ...]:
        return (self.value, *self.alternatives)


@dataclass
class _Reader:
    text: str
    out: list[Written] = field(default_factory=list)
    taken: list[tuple[int, int]] = field(default_factory=list)

    def free(self, start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in self.taken)

    def add(self, w: Written) -> None:
        self.out.append(w)
        self.taken.append((w.start, w.end))


def _float(num: str) -> float | None:
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", num):
        num = num.replace(",", "")
    else:
        num = num.replace(",", ".")
    try:
        return float(num)
    except ValueError:
        return None


def _exponent(raw: str) -> int | None:
    digits = re.sub(r"[\s()^*x×·]", "", raw)
    digits = re.sub(f"[{_MC}]", "-", digits)
    if digits.lower().startswith("e"):
        digits = digits[1:]
    elif digits.startswith("10"):
        digits = digits[2:]
    try:
        return int(digits)
    except ValueError:
        return None


def _word_value(phrase: str) -> float | None:
    total, current, seen = 0.0, 0.0, False
    for word in re.split(r"[\s-]+", phrase.lower()):
        if word == "and":
            continue
        if word in _WORDS:
            current += _WORDS[word]
            seen = True
        elif word in _SCALES:
            current = (current or 1) * _SCALES[word]
            if _SCALES[word] >= 1000:
                total, current = total + current, 0.0
            seen = True
    return total + current if seen else None


def _marker(text: str, start: int, end: int, value: float, unit: str | None) -> str | None:
    before, after = text[:start], text[end:]
    if re.search(r"\[[\d,\s" + _MC + r"]*$", before) and re.match(r"[\d,\s" + _MC + r"]*\]", after):
        return "citation"
    if _REF_BEFORE.search(before.rstrip()) or _REF_BEFORE.search(before):
        return "reference"
    if re.search(r"\(\s*$", before) and re.match(r"\s*\)\s*[.;,]?\s*$", after):
        return "reference"  # a trailing equation label "(1)"
    if unit is None and value.is_integer() and 1900 <= value <= 2039 and not re.match(r"\s*%", after):
        return "year"
    if re.search(r"\b[Pp]\s*[<>=≤≥]\s*$", before):
        return "reference"  # a p-value threshold is not a measured quantity of the study
    return None


def read_numbers(text: str, words: bool = True) -> list[Written]:
    """Every number written in `text`, in order, with its other readings and marker tag (`words`: also numbers
    written as words)."""
    text = text or ""
    reader = _Reader(text)
    for m in _NUM.finditer(text):
        start, end = m.start(), m.end()
        if not reader.free(start, end):
            continue
        if start and (text[start - 1].isalnum() or text[start - 1] in "_."):
            continue  # part of an identifier (CD4, H1N1) or of a longer number
        prev = text[start - 1] if start else ""
        prev2 = text[start - 2] if start >= 2 else ""
        if prev in _MINUS and prev2.isalpha():
            continue  # IL-6, COVID-19
        value = _float(m.group("num"))
        if value is None:
            continue
        alternatives: list[float] = []
        raw_num = m.group("num")
        negative = prev in _MINUS and (not prev2 or not prev2.isalnum()) and prev2 not in ")±"
        if negative:
            value, start = -value, start - 1
        if m.group("exp"):
            power = _exponent(m.group("exp").strip().lstrip("xX×·").strip())
            flat = re.fullmatch(r"\s*[x×·]\s*10(\d{1,2})", m.group("exp"))
            if power is not None:
                if flat:  # "2 × 104": the superscript 4 was flattened; the literal reading stays possible
                    alternatives.append(value * float(f"10{flat.group(1)}"))
                value = value * 10.0 ** power
        elif re.fullmatch(r"10\d{1,2}", raw_num):
            alternatives.append(10.0 ** int(raw_num[2:]))  # "104 p.f.u." = 10^4
        if raw_num == "10" and end < len(text) and text[end] in "−-" and re.match(r"\d{1,2}\b", text[end + 1:]):
            exp_m = re.match(r"\d{1,2}", text[end + 1:])
            assert exp_m is not None
            alternatives.append(10.0 ** -int(exp_m.group(0)))  # "10−6" = 10^-6
            end = end + 1 + exp_m.end()
            alternatives.append(-float(exp_m.group(0)))
            alternatives.append(float(exp_m.group(0)))
        if re.fullmatch(r"\d,\d{1,2}", raw_num):
            alternatives += [float(x) for x in raw_num.split(",")]  # "1,2": a decimal comma, or a list
        unit_m = _UNIT_AFTER.match(text, end)
        unit = unit_m.group("unit") if unit_m else None
        if unit and unit.strip() in ("%", "‰"):
            alternatives.append(value / (100 if unit.strip() == "%" else 1000))
        scale = re.match(r"\s*(million|billion|thousand|hundred)\b", text[end:], re.IGNORECASE)
        if scale:
            alternatives.append(value * _SCALES[scale.group(1).lower()])
        if negative:
            alternatives.append(-value)
        reader.add(Written(value, start, end, text[start:end], unit, tuple(alternatives),
                           _marker(text, max(start, 0), end, abs(value), unit)))
    for m in _WORD_RE.finditer(text) if words else ():
        if not reader.free(m.start(), m.end()):
            continue
        value = _word_value(m.group(0))
        if all(w.lower() in _SCALES for w in re.split(r"[\s-]+", m.group(0))):
            continue  # "million" after "2.5" (read with the number)
        if value is None or m.group(0).lower() in ("single", "double", "triple", "quarter", "third"):
            continue
        unit_m = _UNIT_AFTER.match(text, m.end())
        reader.add(Written(value, m.start(), m.end(), m.group(0), unit_m.group("unit") if unit_m else None))
    out = sorted(reader.out, key=lambda w: w.start)
    for i in range(len(out) - 2, -1, -1):  # "10–20 mg/kg", "5.2 ± 1.1 mM": the first number takes the unit
        a, b = out[i], out[i + 1]
        if a.unit is None and b.unit and re.fullmatch(r"\s*(?:[–‐‑-]|to|±|\+/-|and)\s*", text[a.end:b.start]):
            out[i] = Written(a.value, a.start, a.end, a.text, b.unit, a.alternatives, a.marker)
    return _with_ratios(text, out)


def _with_ratios(text: str, numbers: list[Written]) -> list[Written]:
    """'eight to ten per 100,000' and 'one in every two' also read as ratios (attached to the first number)."""
    by_end = {w.end: w for w in numbers}
    by_start = {w.start: w for w in numbers}
    out = list(numbers)
    for m in _RATIO.finditer(text):
        a, b = by_end.get(m.end("a")), by_start.get(m.start("b"))
        if a is None or b is None or not b.value:
            continue
        i = out.index(a)
        out[i] = Written(a.value, a.start, a.end, a.text, a.unit, (*a.alternatives, a.value / b.value), a.marker)
    return out


def numbers_in(text: str, words: bool = True) -> list[float]:
    """Every reading of every number in `text` (markers included: a check of what is written forgives more);
    `words=False` reads digits only (a question's "two groups" does not state a value of 2)."""
    return [r for w in read_numbers(text, words) for r in w.readings]


def quantities(text: str) -> list[Written]:
    """The numbers of `text` that are quantities: no citation markers, references, years or p thresholds."""
    return [w for w in read_numbers(text) if w.marker is None]


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)


def states(value: float, text: str | list[float], unit: str | None = None) -> bool:
    """Whether `value` (in `unit`, when given) is written in `text` under any reading, or as the same quantity
    in the unit written next to a number (0.005 g for "5 mg"); `text` may be a list of numbers already read."""
    if isinstance(text, list):
        return any(_close(value, x) for x in text)
    written = read_numbers(text)
    if any(_close(value, r) for w in written for r in w.readings):
        return True
    if unit:
        from sciresearcher.grade.numeric import convert

        for w in written:
            if w.unit and w.unit.strip() not in ("%", "‰"):
                converted = convert(value, unit, w.unit.strip())
                if converted is not None and any(_close(converted, r) for r in w.readings):
                    return True
    return False
