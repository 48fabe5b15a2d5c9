"""A reference-value solver: answers a computational task from package and textbook values, without its documents.

It stands for a capable model with chemicals, mendeleev and a textbook table in its sandbox but no access to the
task's cited documents: every cited value is replaced by what a library lookup gives for the same property
(`ref` of the variable: chemicals' recommended compound values and correlations, mendeleev's element and isotope
tables, a textbook buffer pKa corrected to the record's temperature), the task's own formula is evaluated
(the best case for the solver), and the result is graded against the gold answer with the task's tolerance.
A value no library states (a sequence, a measured sample, an assay, a survey) leaves the task unanswerable.

`reference_answer(task)` returns the solver's answer or None; `answerable_without_documents(task)` says
whether it is right. The share of such tasks is what `benchmarks/synthesis_quality.py` reports.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from sciresearcher.records import Task

TEXTBOOK_PKA = {"MES": (6.15, -0.011), "PIPES": (6.80, -0.0085), "MOPS": (7.20, -0.015), "HEPES": (7.55, -0.014),
                "Tricine": (8.15, -0.021), "Tris": (8.06, -0.028), "Bicine": (8.35, -0.018), "TAPS": (8.40, -0.018),
                "CHES": (9.50, -0.018), "CAPS": (10.40, -0.032), "phosphate": (7.20, -0.0028),
                "acetate": (4.76, 0.0002)}


@lru_cache(maxsize=1)
def _tables() -> dict[str, Any]:
    from mendeleev.fetch import fetch_table

    return {"elements": fetch_table("elements").set_index("symbol"), "isotopes": fetch_table("isotopes")}


def _compound(cas: str, prop: str) -> float | None:
    from chemicals.acentric import omega
    from chemicals.critical import Pc, Tc
    from chemicals.identifiers import search_chemical
    from chemicals.phase_change import Tb, Tm

    if prop == "molar_mass":
        return float(search_chemical(cas).MW)
    get = {"boiling_point": Tb, "melting_point": Tm, "critical_temperature": Tc, "omega": omega}.get(prop)
    if prop == "critical_pressure":
        pc = Pc(cas)
        return pc / 1e5 if pc else None
    return get(cas) if get else None


def _isotope(ref: dict[str, Any]) -> float | None:
    iso = _tables()["isotopes"]
    z = int(_tables()["elements"].loc[ref["symbol"], "atomic_number"])
    row = iso[(iso.atomic_number == z) & (iso.mass_number == ref["A"])]
    if row.empty:
        return None
    r = row.iloc[0]
    if ref["prop"] == "half_life":
        factor = {"day": 1.0, "year": 365.25, "hour": 1 / 24}.get(str(r.half_life_unit))
        return float(r.half_life) * factor if factor else None
    value = r.mass if ref["prop"] == "mass" else r.abundance
    return float(value) if value is not None and not math.isnan(value) else None


def library_value(ref: dict[str, Any] | None, unit: str = "") -> float | None:
    """What a library lookup gives for the property a cited value states (None: no library states it)."""
    if not ref:
        return None
    lib = ref.get("lib")
    if lib == "compound":
        return _compound(ref["cas"], ref["prop"])
    if lib == "element":
        value = _tables()["elements"].loc[ref["symbol"], ref["prop"]]
        return float(value) if value is not None and not math.isnan(value) else None
    if lib == "antoine":
        from chemicals.vapor_pressure import Psat_data_AntoinePoling as table

        return float(table.loc[ref["cas"], ref["prop"]]) if ref["cas"] in table.index else None
    if lib == "isotope":
        value = _isotope(ref)
        return value / 365.25 if value is not None and unit == "year" else value
    if lib == "psat":
        from sciresearcher.synth.records_chem import psat_dippr

        p = psat_dippr(ref["cas"], ref["T"])
        return p / 1000 if p else None  # kPa, as the records state it
    if lib == "rho_liquid":
        from sciresearcher.synth.records_chem import rho_dippr

        return rho_dippr(ref["cas"], ref["T"], float(_compound(ref["cas"], "molar_mass") or 0))
    if lib == "buffer_pka" and ref["name"] in TEXTBOOK_PKA:
        pka, slope = TEXTBOOK_PKA[ref["name"]]
        return pka + slope * (ref["T"] - 25)
    return None


def reference_answer(task: Task) -> float | None:
    """The task's formula evaluated with library values in place of every cited one (None: cannot)."""
    from sciresearcher.synth.draft import _namespace

    expression, variables = task.metadata.get("expression"), task.metadata.get("variables", {})
    if not expression:
        return None
    values: dict[str, Any] = {}
    for name, var in variables.items():
        if var.get("given"):
            values[name] = var["value"]
            continue
        value = library_value(var.get("ref"), var.get("unit", ""))
        if value is None:
            return None
        values[name] = value
    try:
        return float(eval(expression, dict(_namespace()), values))
    except (ZeroDivisionError, ValueError, OverflowError, TypeError):
        return None


def answerable_without_documents(task: Task) -> bool:
    """Whether the reference-value solver's answer is within the task's tolerance of the gold answer."""
    answer = reference_answer(task)
    if answer is None:
        return False
    gold = float(task.answer)
    return math.isclose(answer, gold, rel_tol=task.tolerance or 0.01, abs_tol=1e-12)
