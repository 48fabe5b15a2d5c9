"""Well-posedness checks of computational tasks, independent of the writer that made them.

`check_task(task)` reads a task's cited variables (with the library property each one states), the physical
state its question presupposes (`metadata["state"]`), its formula and its answer, looks the substances up in
chemicals itself, and returns one reason per failure (empty: well posed):

- a normal boiling point only for a substance that boils at 1 atm: triple-point pressure below 1 atm, a melting
  point below the boiling point, sources that agree within 3%, and not a substance that decomposes on heating;
- an ideal gas only where the gas phase exists: the pressure below the saturation pressure at that temperature
  (every correlation chemicals has is asked) or the temperature above the critical one, and a reduced pressure
  where a virial or ideal-gas treatment holds;
- a correlation only inside its fitted range (chemicals' own table, not the document's statement), a liquid
  only between its melting and boiling points, vapour-pressure data only between melting and critical points;
- a tolerance at least as wide as the answer moves when a cited value moves to the edge of its sources;
- a buffer inside pKa +/- 1, a dilution that dilutes, and an answer in its physical range (finite; percentages,
  pH and fractions where they can be; positive amounts).

It does not check that the answer is right (the reference solution does) or that values are cited (verify.py).
"""

from __future__ import annotations

import math
from typing import Any

from sciresearcher.records import Task

# compounds that decompose before boiling at 1 atm (their tabulated 'boiling points' are estimates or at reduced
# pressure); names as chemicals spells them and CAS numbers
DECOMPOSE = frozenset(("57-13-6", "56-40-6", "57-50-1", "50-99-7", "69-65-8", "56-86-0", "74-79-3", "73-40-5",
                       "107-95-9", "144-62-7", "77-92-9", "87-69-4"))
_POSITIVE_UNITS = ("mol", "nmol", "g", "g/mol", "kPa", "mmHg", "bar", "K", "kJ/mol", "uCi", "uM", "mg/mL",
                   "nmol/min", "min", "h", "kDa", "1e12 molecules", "1e23 atoms", "1e4 M^-1 s^-1")


def _normal_boiling(cas: str) -> str | None:
    from chemicals.phase_change import Tb, Tm
    from chemicals.triple import Pt

    from sciresearcher.synth.spread import compound_sources, relative_spread

    if cas in DECOMPOSE:
        return f"{cas} decomposes before it boils at 1 atm"
    pt = Pt(cas)
    if pt is not None and pt >= 101325:
        return f"{cas} sublimes at 1 atm (triple-point pressure {pt / 1e5:.3g} bar)"
    tb, tm = Tb(cas), Tm(cas)
    if tb is None:
        return f"no source gives {cas} a normal boiling point"
    if tm is not None and tm >= tb:
        return f"{cas}: melting point {tm:g} K is not below the boiling point {tb:g} K"
    spread = relative_spread(compound_sources(cas, "boiling_point"))
    if spread > 0.03:
        return f"{cas}: sources of the normal boiling point differ by {100 * spread:.1f}% (decomposes or ill-defined)"
    return None


def _gas(cas: str, temp: float, pressure: float) -> str | None:
    from chemicals.critical import Pc, Tc

    from sciresearcher.synth.spread import psat_sources

    tc, pc = Tc(cas), Pc(cas)
    if tc is None or pc is None:
        return f"{cas}: no critical constants to judge the gas phase"
    if pressure / pc > 0.5:
        return f"{cas}: reduced pressure {pressure / pc:.2f} is too high for an ideal-gas or virial treatment"
    if temp >= tc:
        return None
    psat = psat_sources(cas, temp)
    if not psat:
        return f"{cas}: no vapour-pressure correlation covers {temp:g} K, so the gas phase cannot be confirmed"
    if pressure >= 0.98 * min(psat):
        return (f"{cas}: {pressure / 1e3:.4g} kPa at {temp:g} K is at or above the saturation pressure "
                f"({min(psat) / 1e3:.4g} kPa): the substance condenses")
    return None


def _correlation(cas: str, temp: float) -> str | None:
    from chemicals.critical import Tc
    from chemicals.vapor_pressure import Psat_data_AntoinePoling as table

    if cas not in table.index:
        return f"{cas}: no Antoine correlation in chemicals"
    r = table.loc[cas]
    if not r.Tmin <= temp <= r.Tmax:
        return f"{cas}: {temp:g} K is outside the correlation's fitted range {r.Tmin:g}-{r.Tmax:g} K"
    tc = Tc(cas)
    if tc is not None and temp >= tc:
        return f"{cas}: {temp:g} K is above the critical temperature {tc:g} K"
    return None


def _liquid(cas: str, temp: float) -> str | None:
    from chemicals.phase_change import Tb, Tm

    tm, tb = Tm(cas), Tb(cas)
    if tm is None or tb is None:
        return f"{cas}: no melting or boiling point to confirm a liquid at {temp:g} K"
    if not tm < temp < tb:
        return f"{cas}: at {temp:g} K and 1 atm it is not a liquid (melts {tm:g} K, boils {tb:g} K)"
    return None


def _vapour_range(cas: str, temps: list[float]) -> str | None:
    from chemicals.critical import Tc
    from chemicals.phase_change import Tm

    tm, tc = Tm(cas), Tc(cas)
    for t in temps:
        if (tm is not None and t <= tm) or (tc is not None and t >= tc):
            return f"{cas}: liquid-vapour equilibrium does not exist at {t:g} K (melts {tm} K, critical {tc} K)"
    return None


def _tolerance(task: Task) -> str | None:
    from sciresearcher.synth.draft import _namespace
    from sciresearcher.synth.spread import fact_extremes

    meta = task.metadata
    expression, variables = meta.get("expression"), meta.get("variables", {})
    if not expression:
        return None
    values = {k: v["value"] for k, v in variables.items()}
    base = float(eval(expression, dict(_namespace()), values))
    worst = 0.0
    for name, var in variables.items():
        extremes = fact_extremes(var.get("ref"), var["value"], meta.get("state") or {})
        for v in extremes or ():
            try:
                changed = float(eval(expression, dict(_namespace()), {**values, name: v}))
            except (ZeroDivisionError, ValueError, OverflowError):
                continue
            worst = max(worst, abs(changed - base) / abs(base) if base else 0.0)
    if worst > (task.tolerance or 0.01) + 1e-9:
        return f"tolerance {task.tolerance} is narrower than the sources' spread of the answer ({worst:.3g})"
    if worst > 0.1:
        return f"the sources disagree by {100 * worst:.0f}% on the answer: no meaningful gold value"
    return None


def _answer_range(task: Task) -> str | None:
    try:
        value = float(task.answer)
    except ValueError:
        return f"the answer {task.answer!r} is not a number"
    if not math.isfinite(value):
        return "the answer is not finite"
    template, unit = task.metadata.get("template", ""), task.unit or ""
    if template == "llm" or template.startswith("paper_"):
        return None  # a paper's quantities: a percentage may be a change, a temperature a difference
    if unit == "%" and not 0 <= value <= 100:  # the offline shapes' percentages are shares
        return f"a percentage of {value:g} is outside 0-100"
    if template == "buffer_ph" and not 0 < value < 14:
        return f"pH {value:g} is outside 0-14"
    if template == "hwe_inbreeding" and not -1 <= value <= 1:
        return f"an inbreeding coefficient of {value:g} is outside -1..1"
    if unit in _POSITIVE_UNITS and unit != "°C" and value <= 0 and template != "boiling_gap":
        return f"a {unit} quantity of {value:g} is not positive"
    return None


def check_task(task: Task) -> list[str]:
    """Every reason the task is ill posed (empty: well posed)."""
    reasons: list[str] = []
    state: dict[str, Any] = task.metadata.get("state") or {}
    for var in task.metadata.get("variables", {}).values():
        ref = var.get("ref") or {}
        if ref.get("lib") == "compound" and ref.get("prop") == "boiling_point":
            reasons.append(_normal_boiling(ref["cas"]) or "")
    for cas in state.get("normal_boiling", []):
        reasons.append(_normal_boiling(cas) or "")
    if "gas" in state:
        reasons.append(_gas(state["gas"]["cas"], state["gas"]["T"], state["gas"]["P"]) or "")
    if "correlation" in state:
        reasons.append(_correlation(state["correlation"]["cas"], state["correlation"]["T"]) or "")
    if "liquid" in state:
        reasons.append(_liquid(state["liquid"]["cas"], state["liquid"]["T"]) or "")
    if "liquid_vapour" in state and "temperatures" in state:
        reasons.append(_vapour_range(state["liquid_vapour"], state["temperatures"]) or "")
    if "buffer" in state and not 0.1 <= state["buffer"]["ratio"] <= 10:
        reasons.append(f"base/acid ratio {state['buffer']['ratio']:.3g} is outside the buffer range (pKa +/- 1)")
    if any(f >= 1 for f in state.get("dilution", [])):
        reasons.append("a dilution step does not dilute")
    reasons += [_tolerance(task) or "", _answer_range(task) or ""]
    return list(dict.fromkeys(r for r in reasons if r))
