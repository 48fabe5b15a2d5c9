"""How much reputable sources disagree on a fact, and what that does to an answer.

`source_values(ref, state)` lists the values the independent sources in the installed packages give for one
property (chemicals' data sources for critical constants, boiling and melting points and acentric factors,
without its estimation methods; mendeleev and periodictable for elements; the Antoine, DIPPR and Wagner
vapour-pressure correlations for a vapour pressure at the task's temperature). `answer_spread(draft)` perturbs
each cited value to the extremes of its sources, one at a time, and returns the largest relative change of the
answer: a task's tolerance must cover it (gold answers to 1% are not meaningful where sources differ by 2%).

Values a record states for itself (a measured sample, a composition, an assay) have no spread: the document
defines them. It does not judge whether a task is well posed (see `wellposed.py`).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sciresearcher.synth.draft import Draft

ESTIMATES = frozenset(("JOBACK", "WILSON_JASPERSON", "ACENTRIC_DEFINITION", "PSRK"))
_COMPOUND = {"boiling_point": ("phase_change", "Tb"), "melting_point": ("phase_change", "Tm"),
             "critical_temperature": ("critical", "Tc"), "critical_pressure": ("critical", "Pc"),
             "omega": ("acentric", "omega")}


@lru_cache(maxsize=4096)
def compound_sources(cas: str, prop: str) -> tuple[float, ...]:
    """The values chemicals' measured-data sources give for a compound property (estimations left out)."""
    import importlib

    if prop not in _COMPOUND:
        return ()
    module, fn = _COMPOUND[prop]
    mod = importlib.import_module(f"chemicals.{module}")
    get, methods = getattr(mod, fn), getattr(mod, f"{fn}_methods")
    values = [get(cas, method=m) for m in methods(cas) if m not in ESTIMATES]
    scale = 1e-5 if prop == "critical_pressure" else 1.0  # Pa -> bar, as the documents state it
    return tuple(float(v) * scale for v in values if v)


@lru_cache(maxsize=1)
def _element_table() -> object:
    from mendeleev.fetch import fetch_table

    return fetch_table("elements").set_index("symbol")


@lru_cache(maxsize=256)
def element_sources(symbol: str, prop: str) -> tuple[float, ...]:
    """mendeleev's and periodictable's values of an element property (atomic weight, density)."""
    import periodictable

    row, pt = _element_table().loc[symbol], getattr(periodictable, symbol)  # type: ignore[attr-defined]
    pairs = {"atomic_weight": (row["atomic_weight"], pt.mass), "density": (row["density"], pt.density)}
    return tuple(float(v) for v in pairs.get(prop, ()) if v and not math.isnan(float(v)))


@lru_cache(maxsize=8192)
def psat_sources(cas: str, temp: float) -> tuple[float, ...]:
    """Vapour pressures (Pa) at `temp` from every correlation chemicals has for the compound and covers it."""
    from chemicals.dippr import EQ101
    from chemicals.vapor_pressure import (
        Antoine,
        Psat_data_AntoinePoling,
        Psat_data_Perrys2_8,
        Psat_data_WagnerMcGarry,
        Wagner_original,
    )

    out = []
    if cas in Psat_data_AntoinePoling.index:
        r = Psat_data_AntoinePoling.loc[cas]
        if r.Tmin <= temp <= r.Tmax:
            out.append(float(Antoine(temp, r.A, r.B, r.C)))
    if cas in Psat_data_Perrys2_8.index:
        r = Psat_data_Perrys2_8.loc[cas]
        if r.Tmin <= temp <= r.Tmax:
            out.append(float(EQ101(temp, r.C1, r.C2, r.C3, r.C4, r.C5)))
    if cas in Psat_data_WagnerMcGarry.index:
        r = Psat_data_WagnerMcGarry.loc[cas]
        if r.Tmin <= temp < r.Tc:
            out.append(float(Wagner_original(temp, r.Tc, r.Pc, r.A, r.B, r.C, r.D)))
    return tuple(out)


def relative_spread(values: tuple[float, ...]) -> float:
    """(max - min) / |mean| of the sources' values; 0 for fewer than two."""
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    return (max(values) - min(values)) / abs(mean) if mean else 0.0


def fact_extremes(ref: dict[str, Any] | None, value: Any, state: dict[str, Any]) -> tuple[float, float] | None:
    """The lowest and highest value the sources allow for a cited value (None: no independent spread)."""
    if not ref or isinstance(value, str):
        return None
    lib, prop = ref.get("lib"), ref.get("prop")
    if lib == "compound":
        values = compound_sources(ref["cas"], prop)
    elif lib == "element":
        values = element_sources(ref["symbol"], prop)
    elif lib == "antoine" and prop == "A" and (state.get("correlation") or {}).get("T"):
        pressures = psat_sources(ref["cas"], state["correlation"]["T"])
        if len(pressures) < 2:
            return None
        s = relative_spread(pressures)
        return value - math.log10(1 + s), value + math.log10(1 + s)  # log10 P = A - ...: a factor on P
    else:
        return None
    if len(values) < 2:
        return None
    s = relative_spread(values)
    return value * (1 - s), value * (1 + s)


def answer_spread(draft: Draft) -> float:
    """The largest relative change of the answer when one cited value moves to the edge of its sources."""
    base = draft.exact_answer()
    if not base:
        return 0.0
    worst = 0.0
    values = draft.values()
    for name, f in draft.facts.items():
        extremes = fact_extremes(f.ref, f.value, draft.state)
        if extremes is None:
            continue
        for v in extremes:
            try:
                changed = draft.exact_answer({**values, name: v})
            except (ZeroDivisionError, ValueError, OverflowError):
                continue
            worst = max(worst, abs(changed - base) / abs(base))
    return worst
