"""Seeded chemistry measurement records: values that belong to one document, so a task needs that document.

Each record is a short `Document` (id `record:<kind>:<code>`) that reports measurements on a named sample:

- `vp`: vapour pressures of a sample at two temperatures (the DIPPR correlation's values, scattered by a few
  percent as a real sample's are: the record, not the correlation, is the source);
- `rho`: the liquid density of a technical-grade sample at a stated temperature (inside the liquid range);
- `mix`: the mole fractions of a two- or three-component liquid mixture;
- `enr`: the isotopic enrichment of a labelled compound (atom % of the heavy isotope);
- `lot`: the activity of a radiolabelled reagent lot on its reference date.

The records are synthetic and say so (`source`, `license`); their values are drawn with a fixed seed, so the
corpus is the same on every run. Facts measured on a sample carry a `ref` to the library property they
approximate (the reference-value solver uses it); compositions, enrichments and activities have none. It writes
no questions (see `shapes_chem.py`).
"""

from __future__ import annotations

import random

from sciresearcher.records import Document
from sciresearcher.synth.facts import Builder, fact

SOURCE = "sciresearcher synthetic measurement record (seeded)"
LICENSE = "CC0 (synthetic)"
LABELLED = (("[gamma-32P]ATP", "P", 32), ("[35S]methionine", "S", 35), ("[3H]thymidine", "H", 3),
            ("[14C]glucose", "C", 14), ("[125I]iodotyrosine", "I", 125), ("[51Cr]sodium chromate", "Cr", 51),
            ("[45Ca]calcium chloride", "Ca", 45), ("[alpha-33P]dCTP", "P", 33), ("[131I]sodium iodide", "I", 131))
# elements with two stable isotopes: the heavy (or rare) one a batch is enriched in, and the other one
HEAVY = {"H": (2, 1), "Li": (6, 7), "B": (10, 11), "C": (13, 12), "N": (15, 14), "Cl": (37, 35), "Br": (81, 79),
         "Cu": (65, 63), "Ag": (109, 107)}


def _doc(kind: str, code: str, title: str, b: Builder, **meta: object) -> Document:
    return Document(id=f"record:{kind}:{code}", title=title, text=" ".join(b.sentences), sentences=b.sentences,
                    source=SOURCE, license=LICENSE, metadata={"kind": "record", "record": kind, "code": code,
                                                              "facts": b.facts, **meta})


def _scatter(rng: random.Random, lo: float = 0.03, hi: float = 0.08) -> float:
    return 1 + rng.choice((-1, 1)) * rng.uniform(lo, hi)


def psat_dippr(cas: str, T: float) -> float | None:
    """Vapour pressure (Pa) from the DIPPR 101 correlation in chemicals (None outside its range)."""
    from chemicals.dippr import EQ101
    from chemicals.vapor_pressure import Psat_data_Perrys2_8 as table

    if cas not in table.index:
        return None
    r = table.loc[cas]
    return float(EQ101(T, r.C1, r.C2, r.C3, r.C4, r.C5)) if r.Tmin <= T <= r.Tmax else None


def rho_dippr(cas: str, T: float, molar_mass: float) -> float | None:
    """Liquid density (g/cm3) from the DIPPR 105 correlation in chemicals (None outside its range)."""
    from chemicals.dippr import EQ105
    from chemicals.volume import rho_data_Perry_8E_105_l as table

    if cas not in table.index:
        return None
    r = table.loc[cas]
    return float(EQ105(T, r.C1, r.C2, r.C3, r.C4)) * molar_mass / 1e6 if r.Tmin <= T <= r.Tmax else None


def vp_records(rng: random.Random, compounds: list[Document], n: int) -> list[Document]:
    from chemicals.vapor_pressure import Psat_data_AntoinePoling as antoine

    usable = [c for c in compounds if c.metadata["cas"] in antoine.index and fact(c, "critical_temperature")]
    out = []
    for i in range(n):
        comp = rng.choice(usable)
        cas, name = comp.metadata["cas"], comp.metadata["name"]
        lo, hi = float(antoine.loc[cas].Tmin), float(antoine.loc[cas].Tmax)
        t1 = round(rng.uniform(lo + 2, lo + 0.45 * (hi - lo)), 1)
        t2 = round(rng.uniform(t1 + 0.2 * (hi - lo), hi - 2), 1)
        p1, p2 = psat_dippr(cas, t1), psat_dippr(cas, t2)
        if p1 is None or p2 is None:
            continue
        e1 = _scatter(rng)
        e2 = 2 - e1 + rng.uniform(-0.01, 0.01)  # scattered the other way: the record's own pair of values
        code = f"VP-{i:04d}"
        b = Builder()
        b.sentences.append(f"Vapour-pressure record {code} reports static-cell measurements on a stored sample of "
                           f"{name} (CAS {cas}).")
        b.say(f"At {t1:g} K the sample's vapour pressure was {{P1}} kPa.", {"P1": {"lib": "psat", "cas": cas, "T": t1}},
              P1=(p1 * e1 / 1000, "kPa"))
        b.say(f"At {t2:g} K it was {{P2}} kPa.", {"P2": {"lib": "psat", "cas": cas, "T": t2}}, P2=(p2 * e2 / 1000, "kPa"))
        out.append(_doc("vp", code, f"Vapour-pressure record {code}: {name}", b, name=name, cas=cas, T1=t1, T2=t2,
                        entity=f"{code} {name}"))
    return out


def rho_records(rng: random.Random, compounds: list[Document], n: int) -> list[Document]:
    usable = [c for c in compounds if fact(c, "melting_point") and fact(c, "boiling_point")]
    out = []
    for i in range(n):
        comp = rng.choice(usable)
        cas, name = comp.metadata["cas"], comp.metadata["name"]
        tm, tb = fact(comp, "melting_point").value, fact(comp, "boiling_point").value  # type: ignore[union-attr]
        temp = round(rng.uniform(max(tm + 5, tb - 120), tb - 5), 1)
        rho = rho_dippr(cas, temp, fact(comp, "molar_mass").value) if tb - 5 > tm + 5 else None  # type: ignore[union-attr]
        if rho is None:
            continue
        code = f"RHO-{i:04d}"
        b = Builder()
        b.sentences.append(f"Density record {code} describes a technical-grade sample of {name} (CAS {cas}), lot "
                           f"L{rng.randint(100, 999)}.")
        b.say(f"At {temp:g} K and atmospheric pressure the liquid sample had a density of {{rho}} g/cm3.",
              {"rho": {"lib": "rho_liquid", "cas": cas, "T": temp}}, rho=(rho * _scatter(rng, 0.03, 0.07), "g/cm3"))
        out.append(_doc("rho", code, f"Density record {code}: {name}", b, name=name, cas=cas, T=temp,
                        entity=f"{code} {name}"))
    return out


def mix_records(rng: random.Random, compounds: list[Document], n: int) -> list[Document]:
    usable = [c for c in compounds if fact(c, "molar_mass") and fact(c, "melting_point")
              and fact(c, "melting_point").value < 290 and fact(c, "boiling_point")  # type: ignore[union-attr]
              and fact(c, "boiling_point").value > 320]  # type: ignore[union-attr]
    out = []
    for i in range(n):
        parts = rng.sample(usable, rng.choice((2, 3)))
        raw = [rng.uniform(0.15, 1.0) for _ in parts]
        fractions = [round(r / sum(raw), 3) for r in raw]
        fractions[-1] = round(1 - sum(fractions[:-1]), 3)
        code = f"MIX-{i:04d}"
        names = [p.metadata["name"] for p in parts]
        b = Builder()
        b.sentences.append(f"Mixture record {code} gives the composition of a liquid blend of {', '.join(names)}.")
        for k, (p, x) in enumerate(zip(parts, fractions)):
            b.say(f"The mole fraction of {p.metadata['name']} in blend {code} is {{x{k}}}.", None, **{f"x{k}": (x, "")})
        out.append(_doc("mix", code, f"Mixture record {code}", b, components=[p.metadata["cas"] for p in parts],
                        names=names, entity=code))
    return out


def enr_records(rng: random.Random, compounds: list[Document], n: int) -> list[Document]:
    usable = [(c, s) for c in compounds if fact(c, "molar_mass")
              for s in c.metadata.get("atoms", {}) if s in HEAVY]
    out = []
    for i in range(n):
        comp, symbol = rng.choice(usable)
        heavy = HEAVY[symbol][0]
        code = f"ENR-{i:04d}"
        b = Builder()
        b.sentences.append(f"Labelling record {code}: a batch of {comp.metadata['name']} ({comp.metadata['formula']}) "
                           f"enriched in {symbol}-{heavy} at every {symbol} position.")
        b.say(f"Mass spectrometry gave an enrichment of {{enrichment}} atom % {symbol}-{heavy} for batch {code}.",
              None, enrichment=(round(rng.uniform(20, 99), 1), "%"))
        out.append(_doc("enr", code, f"Labelling record {code}: {symbol}-{heavy} {comp.metadata['name']}", b,
                        cas=comp.metadata["cas"], symbol=symbol, heavy=heavy, light=HEAVY[symbol][1], entity=f"{code} {comp.metadata['name']}"))
    return out


def lot_records(rng: random.Random, n: int) -> list[Document]:
    out = []
    for i in range(n):
        reagent, symbol, mass = rng.choice(LABELLED)
        code = f"LOT-{i:04d}"
        b = Builder()
        b.sentences.append(f"Reagent record {code}: a lot of {reagent} ({symbol}-{mass} label).")
        b.say(f"On its reference date the lot {code} had a total activity of {{activity}} MBq.", None,
              activity=(round(rng.uniform(5, 400), 1), "MBq"))
        out.append(_doc("lot", code, f"Reagent record {code}: {reagent}", b, reagent=reagent, symbol=symbol,
                        mass_number=mass, entity=f"{code} {reagent}"))
    return out


def chem_records(compounds: list[Document], seed: int = 0, per_kind: int = 60) -> list[Document]:
    """Every chemistry record kind, `per_kind` of each (fewer where a draw falls outside a correlation)."""
    rng = random.Random(seed)
    return [*vp_records(rng, compounds, per_kind), *rho_records(rng, compounds, per_kind),
            *mix_records(rng, compounds, per_kind), *enr_records(rng, compounds, per_kind), *lot_records(rng, per_kind)]
