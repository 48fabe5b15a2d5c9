"""Reading numbers and units out of answers: plain, scientific and LaTeX notation, with pint units.

`parse_quantity("9.13 \\times 10^{-35} J s")` gives `(9.13e-35, "J*s")`; `to_pint_unit` turns LaTeX or
plain unit strings ("$\\mathrm{kJ} \\mathrm{mol}^{-1}$", "kJ/mol", "°C") into pint expressions, and
`convert` changes a value between units (None when pint cannot read a unit or the dimensions differ).
A scale factor written inside a unit ("$10^{-35} \\mathrm{~J} \\mathrm{~s}$", SciBench's convention) is
split off by `split_unit_scale`. Grading decisions live in `grading.py`; this module only reads numbers.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import unicodedata
from typing import Any

log = logging.getLogger(__name__)

_LATEX_WRAPPERS = re.compile(r"\\(?:mathrm|text|textrm|mathit|operatorname|mbox|rm|mathbf|textit)\s*\{([^{}]*)\}")
_NUMBER = re.compile(
    r"(?P<sign>[-+])?\s*(?P<mant>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)"
    r"(?:\s*[eE]\s*(?P<e>[-+]?\d+)"
    r"|\s*(?:\*|x|X|×|\\times|\\cdot|·|⋅)\s*10\s*(?:\^|\*\*)\s*\{?\s*(?P<p>[-+]?\d+)\s*\}?)?"
)
_BARE_POW = re.compile(r"^(?P<sign>[-+])?\s*10\s*(?:\^|\*\*)\s*\{?\s*(?P<p>[-+]?\d+)\s*\}?")
_UNIT_ALIASES = {
    "°c": "degC", "°f": "degF", "℃": "degC", "°": "degree", "k": "kelvin", "ang": "angstrom", "å": "angstrom",
    "amu": "dalton", "da": "dalton", "kda": "kilodalton", "m": "meter", "l": "liter", "ml": "milliliter",
    "μl": "microliter", "ul": "microliter", "um": "micrometer", "µm": "micrometer", "μm": "micrometer",
    "cal": "calorie", "kcal": "kilocalorie", "mol": "mole", "mmol": "millimole", "umol": "micromole",
    "hz": "hertz", "ev": "electron_volt", "torr": "torr", "mmhg": "mmHg", "bar": "bar", "s": "second",
    "min": "minute", "h": "hour", "hr": "hour", "%": "percent",
}


def clean_latex(text: str) -> str:
    """Removes math delimiters and LaTeX text wrappers; normalises unicode minus and spaces."""
    out = unicodedata.normalize("NFKC", text)
    out = out.replace("−", "-").replace("–", "-").replace("\u2009", " ").replace("\u00a0", " ")
    out = out.replace("$", "").replace("\\left", "").replace("\\right", "")
    for _ in range(3):
        out = _LATEX_WRAPPERS.sub(r"\1", out)
    out = re.sub(r"\\[,;:! ]", " ", out).replace("~", " ")
    out = re.sub(r"\\(?:approx|sim|simeq)\b|≈|~=|about|approximately|roughly|around", " ", out)
    out = out.replace("\\%", "%").replace("\\circ", "°").replace("^{°}", "°").replace("^°", "°")
    out = re.sub(r"\\d?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"(\1)/(\2)", out)
    for _ in range(3):  # wrappers that held a fraction (\mathrm{\frac{1}{8}}): so that cleaning twice changes nothing
        out = _LATEX_WRAPPERS.sub(r"\1", out)
    return re.sub(r"\s+", " ", out).strip()


def pow10(exponent: str) -> float:
    """10 ** exponent for a model-written exponent, saturating instead of raising.

    Answers come from the policy being trained: '1e999' or an exponent of 5,000 digits must grade as
    a wrong number, not raise OverflowError (or int()'s digit-limit ValueError) inside a reward function.
    """
    exponent = exponent.strip()
    digits = exponent.lstrip("+-").lstrip("0") or "0"
    negative = exponent.startswith("-")
    if len(digits) > 4 or int(digits) > 308:  # beyond float range (1.8e308)
        return 0.0 if negative else math.inf
    return 10.0 ** (-int(digits) if negative else int(digits))


def parse_number(text: str) -> tuple[float, int, int] | None:
    """The first number in `text` as (value, start, end) of its match; handles 1.0e-3, 1.2 × 10^{-3}."""
    for match in _NUMBER.finditer(text):
        mant = match.group("mant").replace(",", "")
        try:
            value = float(mant)
        except ValueError:
            continue
        exp = match.group("e") or match.group("p")
        if exp is not None and value != 0.0:
            value *= pow10(exp)
        if match.group("sign") == "-":
            value = -value
        return value, match.start(), match.end()
    return None


def parse_quantity(text: str | None) -> tuple[float, str | None] | None:
    """(value, unit text or None) for the first number in an answer; None when there is no number."""
    if not text:
        return None
    cleaned = clean_latex(text)
    bare = _BARE_POW.match(cleaned)
    if bare:
        value = pow10(bare.group("p")) * (-1 if bare.group("sign") == "-" else 1)
        rest = cleaned[bare.end():]
    else:
        found = parse_number(cleaned)
        if found is None:
            return None
        value, _, end = found
        rest = cleaned[end:]
    unit = re.sub(r"^[\s\\]*|[\s.,;)]*$", "", rest).strip()
    unit = re.split(r"\s+(?:or|and|\(|because|since|which)\b|[,;]\s", unit)[0].strip()
    return value, (unit or None)


def split_unit_scale(unit: str | None) -> tuple[float, str | None]:
    """'10^{-35} J s' -> (1e-35, 'J s'); '10^3' -> (1000.0, None); 'kJ/mol' -> (1.0, 'kJ/mol')."""
    if not unit:
        return 1.0, None
    cleaned = clean_latex(unit)
    match = _BARE_POW.match(cleaned)
    if not match:
        return 1.0, cleaned or None
    scale = pow10(match.group("p"))
    rest = cleaned[match.end():].strip()
    return scale, rest or None


def to_pint_unit(unit: str) -> str:
    """A unit written in LaTeX or plain text as a pint expression string (best effort)."""
    text = clean_latex(unit)
    text = text.replace("\\cdot", "*").replace("·", "*").replace("⋅", "*").replace("\\times", "*")
    text = re.sub(r"°\s*C\b", "degC", text)
    text = re.sub(r"°\s*F\b", "degF", text)
    text = re.sub(r"\^\s*\{\s*([-+]?\d+(?:\.\d+)?)\s*\}", r"**\1", text)
    text = re.sub(r"\^\s*([-+]?\d+)", r"**\1", text)
    text = text.replace("{", "").replace("}", "").strip()
    tokens = [t for t in re.split(r"\s+", text) if t]
    fixed = []
    for tok in tokens:
        base, _, power = tok.partition("**")
        molar = re.fullmatch(r"(m|μ|µ|u|n|p)?M", base)
        if molar:
            prefix = {"m": "milli", "μ": "micro", "µ": "micro", "u": "micro", "n": "nano", "p": "pico"}
            fixed.append(prefix.get(molar.group(1) or "", "") + "molar" + (f"**{power}" if power else ""))
            continue
        alias = _UNIT_ALIASES.get(base.lower()) if base not in ("K", "M", "L", "s", "m") else None
        fixed.append((alias or base) + (f"**{power}" if power else ""))
    joined = ""
    for tok in fixed:
        if joined and not joined.endswith(("*", "/")) and not tok.startswith(("*", "/")):
            joined += "*"
        joined += tok
    return joined


@functools.lru_cache(maxsize=1)
def _registry() -> Any:
    import pint

    ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    if "molar" not in ureg:  # pint >= 0.10 defines it; redefining it logs a warning on every run
        ureg.define("molar = mole / liter = M")
    return ureg


@functools.lru_cache(maxsize=4096)
def _parse_unit(unit: str) -> Any | None:
    try:
        ureg = _registry()
        return ureg.parse_units(to_pint_unit(unit))
    except Exception:  # noqa: BLE001 - pint raises many unrelated types for unreadable units
        try:
            return _registry().parse_expression(to_pint_unit(unit)).units
        except Exception:  # noqa: BLE001 - pint raises many unrelated types for unreadable units
            log.debug("pint cannot read unit %r", unit)
            return None


def convert(value: float, from_unit: str, to_unit: str) -> float | None:
    """`value` in `from_unit` expressed in `to_unit`; None when a unit is unreadable or dimensions differ."""
    src, dst = _parse_unit(from_unit), _parse_unit(to_unit)
    if src is None or dst is None:
        return None
    try:
        return float(_registry().Quantity(value, src).to(dst).magnitude)
    except Exception:  # noqa: BLE001 - pint raises many unrelated types for unreadable units
        return None


def readable_unit(unit: str | None) -> bool:
    return bool(unit) and _parse_unit(unit) is not None


def close(value: float, gold: float, rel_tol: float) -> bool:
    """Relative closeness; a zero gold uses `rel_tol` as an absolute tolerance."""
    if gold == 0:
        return abs(value) <= rel_tol
    return abs(value - gold) <= rel_tol * abs(gold) * (1 + 1e-9)
