"""Correlation and isotope tables rendered as citable documents: constants a model cannot recite.

- `table_compounds()`: compounds (CAS numbers) that chemicals covers well enough to pose questions about: an
  Antoine correlation (Poling et al.), a DIPPR vapour-pressure and liquid-density correlation, critical
  constants, an acentric factor and a normal boiling point at a triple-point pressure below 1 atm.
- `antoine_documents(compounds)`: one document per compound: the Antoine coefficients for log10(P/Pa) with T in
  K and the temperature range they were fitted over (Poling, Prausnitz & O'Connell, as compiled by chemicals).
- `isotope_documents()`: one document per element: isotope masses and natural abundances of its stable
  isotopes, and half-lives of the radioisotopes used as labels (mendeleev's isotope table).

Each fact carries `ref`, the library lookup that states the same value, so the reference-value solver and the
well-posedness checks can find it without the document. It writes no questions (see `shapes_chem.py`).
"""

from __future__ import annotations

import math
from functools import lru_cache

from sciresearcher.errors import DataError
from sciresearcher.records import Document
from sciresearcher.synth.facts import Builder, fmt

ISOTOPE_ELEMENTS = ("H", "Li", "B", "C", "N", "O", "Mg", "S", "Cl", "K", "Ca", "Cr", "Fe", "Cu", "Zn", "Br", "Ag")
LABELS = {"H": (3,), "C": (14,), "P": (32, 33), "S": (35,), "Ca": (45,), "Cr": (51,), "Fe": (59,), "I": (125, 131),
          "Co": (57, 60), "Zn": (65,), "Na": (22, 24), "Rb": (86,), "Tl": (201,)}
_DAYS = {"day": 1.0, "year": 365.25, "hour": 1 / 24, "minute": 1 / 1440, "kyear": 365250.0}


@lru_cache(maxsize=1)
def table_compounds(limit: int = 90) -> tuple[str, ...]:
    """CAS numbers with every correlation the chemistry shapes use, a liquid normal boiling point, sorted."""
    try:
        from chemicals.acentric import omega
        from chemicals.critical import Pc, Tc
        from chemicals.identifiers import search_chemical
        from chemicals.phase_change import Tb
        from chemicals.triple import Pt
        from chemicals.vapor_pressure import Psat_data_AntoinePoling, Psat_data_Perrys2_8
        from chemicals.volume import rho_data_Perry_8E_105_l
    except ImportError as exc:
        raise DataError("table facts need chemicals", hint="pip install 'sciresearcher[science]'") from exc
    out = []
    for cas in sorted(Psat_data_AntoinePoling.index.intersection(Psat_data_Perrys2_8.index)
                      .intersection(rho_data_Perry_8E_105_l.index)):
        try:
            meta = search_chemical(cas)
        except Exception:  # noqa: BLE001, S112 - chemicals raises ValueError or KeyError for unknown identifiers
            continue
        row = Psat_data_AntoinePoling.loc[cas]
        tb, pt = Tb(cas), Pt(cas)
        if not (meta.common_name and Tc(cas) and Pc(cas) and omega(cas) and tb) or (pt and pt >= 101325):
            continue
        if not row.Tmin < tb < row.Tmax or len(meta.common_name) > 30 or "," in meta.common_name:
            continue  # the correlation must reach the normal boiling point; long systematic names read badly
        out.append(cas)
    return tuple(out[:limit])


def antoine_documents(compounds: list[Document]) -> list[Document]:
    """One Antoine-correlation document per compound that has Poling coefficients."""
    import chemicals
    from chemicals.vapor_pressure import Psat_data_AntoinePoling as table

    docs = []
    for comp in compounds:
        cas, name = comp.metadata["cas"], comp.metadata["name"]
        if cas not in table.index:
            continue
        row = table.loc[cas]
        ref = {"lib": "antoine", "cas": cas}
        b = Builder()
        b.sentences.append(f"This table entry gives the Antoine vapour-pressure correlation of {name} (CAS {cas}) "
                           "in the form log10(P/Pa) = A - B/(T/K + C).")
        b.say(f"For {name} the fitted coefficients are A = {{A}}, B = {{B}} and C = {{C}}.",
              {p: {**ref, "prop": p} for p in "ABC"}, A=(row.A, ""), B=(row.B, "K"), C=(row.C, "K"))
        b.say(f"The {name} correlation was fitted to data between {{Tmin}} K and {{Tmax}} K and is valid only "
              "in that range.", {p: {**ref, "prop": p} for p in ("Tmin", "Tmax")},
              Tmin=(row.Tmin, "K"), Tmax=(row.Tmax, "K"))
        docs.append(Document(
            id=f"table:antoine:{cas}", title=f"Antoine vapour-pressure coefficients of {name}",
            text=" ".join(b.sentences), sentences=b.sentences, source=f"chemicals {chemicals.__version__} (Poling)",
            license="MIT", metadata={"kind": "antoine", "name": name, "cas": cas, "facts": b.facts}))
    return docs


def _half_life_days(value: float, unit: str | None) -> float | None:
    factor = _DAYS.get(str(unit))
    return value * factor if factor and value and not math.isnan(value) else None


def isotope_documents() -> list[Document]:
    """One document per element: stable isotopes (mass, abundance) and label radioisotopes (half-life)."""
    try:
        import mendeleev
        from mendeleev.fetch import fetch_table
    except ImportError as exc:
        raise DataError("isotope facts need mendeleev", hint="pip install 'sciresearcher[science]'") from exc
    iso = fetch_table("isotopes")
    elements = fetch_table("elements").set_index("symbol")
    docs = []
    for symbol in sorted(set(ISOTOPE_ELEMENTS) | set(LABELS)):
        z = int(elements.loc[symbol, "atomic_number"])
        name = str(elements.loc[symbol, "name"]).lower()
        rows = iso[iso.atomic_number == z].sort_values("mass_number")
        b = Builder()
        b.sentences.append(f"Isotope data for {name} (atomic number {z}).")
        stable = rows[rows.abundance.notna() & (rows.abundance > 0)]
        for _, r in stable.iterrows():
            a = int(r.mass_number)
            ref = {"lib": "isotope", "symbol": symbol, "A": a}
            b.say(f"{name.capitalize()}-{a} has an isotopic mass of {{mass_{a}}} u and a natural abundance of "
                  f"{{abundance_{a}}} %.", {f"mass_{a}": {**ref, "prop": "mass"},
                                          f"abundance_{a}": {**ref, "prop": "abundance"}},
                  **{f"mass_{a}": (r.mass, "u"), f"abundance_{a}": (r.abundance, "%")})
        for a in LABELS.get(symbol, ()):
            r = rows[rows.mass_number == a]
            if r.empty:
                continue
            days = _half_life_days(float(r.half_life.iloc[0]), r.half_life_unit.iloc[0])
            if days is None:
                continue
            ref = {"lib": "isotope", "symbol": symbol, "A": a, "prop": "half_life"}
            unit = "day" if days < 1000 else "year"
            b.say(f"The radioisotope {name}-{a} decays with a half-life of {{half_life_{a}}} {unit}s.",
                  {f"half_life_{a}": ref}, **{f"half_life_{a}": (days if unit == "day" else days / 365.25, unit)})
        if len(b.sentences) < 2:
            continue
        docs.append(Document(
            id=f"table:isotopes:{symbol}", title=f"Isotopes of {name}", text=" ".join(b.sentences),
            sentences=b.sentences, source=f"mendeleev {mendeleev.__version__}", license="MIT",
            metadata={"kind": "isotopes", "symbol": symbol, "name": name, "facts": b.facts}))
    return docs


def antoine_psat(T: float, A: float, B: float, C: float) -> float:
    """Vapour pressure in Pa from Antoine coefficients for log10(P/Pa) with T in K."""
    return 10 ** (A - B / (T + C))


__all__ = ["antoine_documents", "antoine_psat", "fmt", "isotope_documents", "table_compounds"]
