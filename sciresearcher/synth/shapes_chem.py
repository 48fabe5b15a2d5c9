"""Chemistry question shapes over cited facts: correlations, measurement records, isotopes, compositions.

Each function takes a seeded RNG and the fact documents by kind and returns a `Draft` (or None when no
documents fit). Conditions are drawn where the question is well posed by the documents' own data (inside a
correlation's fitted range, below the saturation pressure for a gas, a liquid between its melting and boiling
points); `wellposed.py` checks the same independently. Shapes whose values all come from package tables
(`antoine_pressure`, `antoine_temperature`, `vapour_saturation`, `pitzer_z`, `mass_percent`, `boiling_gap`,
`element_atoms`) can be answered from chemicals/mendeleev without the documents; the others need a record.
"""

from __future__ import annotations

import math
import random

from sciresearcher.records import Document
from sciresearcher.synth.draft import R_J, Docs, Draft, TemplateFn, fact, facts_of, pick, rounded


def _compound(docs: Docs, cas: str) -> Document | None:
    return next((d for d in docs["compound"] if d.metadata["cas"] == cas), None)


def _antoine_t(rng: random.Random, doc: Document, comp: Document) -> float | None:
    """A temperature (K) inside the correlation's range, below the critical point, whole °C."""
    lo, hi = fact(doc, "Tmin").value, fact(doc, "Tmax").value  # type: ignore[union-attr]
    tc = fact(comp, "critical_temperature")
    hi = min(hi, tc.value - 10) if tc else hi
    if hi - lo < 6:
        return None
    return round(rng.uniform(lo + 2, hi - 2) - 273.15) + 273.15


def antoine_pressure(rng: random.Random, docs: Docs) -> Draft | None:
    doc = rng.choice(docs["antoine"])
    comp = _compound(docs, doc.metadata["cas"])
    temp = _antoine_t(rng, doc, comp) if comp else None
    if temp is None:
        return None
    name, t_c = doc.metadata["name"], round(temp - 273.15)
    q = (f"Using the tabulated Antoine coefficients for {name}, what is its vapour pressure at {t_c} °C, in kPa?")
    return Draft("antoine_pressure", q, "10 ** (A - B / (T_C + 273.15 + C)) / 1000", "kPa",
                 facts_of(doc, A="A", B="B", C="C"), {"T_C": float(t_c)}, name, conversions=2,
                 state={"correlation": {"cas": doc.metadata["cas"], "T": temp}, "liquid_vapour": doc.metadata["cas"]})


def antoine_temperature(rng: random.Random, docs: Docs) -> Draft | None:
    doc = rng.choice(docs["antoine"])
    comp = _compound(docs, doc.metadata["cas"])
    temp = _antoine_t(rng, doc, comp) if comp else None
    if temp is None:
        return None
    a, b, c = (fact(doc, p).value for p in "ABC")  # type: ignore[union-attr]
    p_mmhg = rounded(10 ** (a - b / (temp + c)) / 133.322368, 3)
    t_back = b / (a - math.log10(p_mmhg * 133.322368)) - c
    lo, hi = fact(doc, "Tmin").value, fact(doc, "Tmax").value  # type: ignore[union-attr]
    if not lo + 1 < t_back < hi - 1:
        return None
    name = doc.metadata["name"]
    q = (f"At what temperature, in °C, does {name} boil under an external pressure of {p_mmhg:g} mmHg, according "
         "to its tabulated Antoine correlation?")
    return Draft("antoine_temperature", q, "B / (A - math.log10(P_mmHg * 133.322368)) - C - 273.15", "°C",
                 facts_of(doc, A="A", B="B", C="C"), {"P_mmHg": p_mmhg}, name, conversions=2,
                 state={"correlation": {"cas": doc.metadata["cas"], "T": t_back}, "liquid_vapour": doc.metadata["cas"]})


def clausius_enthalpy(rng: random.Random, docs: Docs) -> Draft | None:
    doc = rng.choice(docs["vp"])
    t1, t2, name, code = doc.metadata["T1"], doc.metadata["T2"], doc.metadata["name"], doc.metadata["code"]
    q = (f"Vapour-pressure record {code} reports two measurements on a sample of {name}, at {t1:g} K and {t2:g} K. "
         "Assuming a constant enthalpy of vaporization (Clausius-Clapeyron), what enthalpy of vaporization do "
         "they imply, in kJ/mol?")
    return Draft("clausius_enthalpy", q, "R * math.log(P2 / P1) / (1 / T1 - 1 / T2) / 1000", "kJ/mol",
                 facts_of(doc, P1="P1", P2="P2"), {"T1": t1, "T2": t2, "R": R_J}, f"{code} {name}", conversions=1,
                 state={"liquid_vapour": doc.metadata["cas"], "temperatures": [t1, t2]})


def clausius_extrapolate(rng: random.Random, docs: Docs) -> Draft | None:
    doc = rng.choice(docs["vp"])
    t1, t2, name, code = doc.metadata["T1"], doc.metadata["T2"], doc.metadata["name"], doc.metadata["code"]
    t3 = round(rng.uniform(t1, t2), 1)
    q = (f"Interpolating the two vapour-pressure measurements of record {code} ({name} sample, {t1:g} K and "
         f"{t2:g} K) with the Clausius-Clapeyron equation (ln P linear in 1/T), what vapour pressure does the "
         f"sample have at {t3:g} K, in mmHg?")
    formula = "P1 * math.exp(math.log(P2 / P1) * (1 / T1 - 1 / T3) / (1 / T1 - 1 / T2)) * 1000 / 133.322368"
    return Draft("clausius_extrapolate", q, formula, "mmHg", facts_of(doc, P1="P1", P2="P2"),
                 {"T1": t1, "T2": t2, "T3": t3}, f"{code} {name}", conversions=1,
                 state={"liquid_vapour": doc.metadata["cas"], "temperatures": [t1, t2, t3]})


def vapour_saturation(rng: random.Random, docs: Docs) -> Draft | None:
    doc = rng.choice(docs["antoine"])
    comp = _compound(docs, doc.metadata["cas"])
    temp = _antoine_t(rng, doc, comp) if comp else None
    if temp is None or comp is None:
        return None
    a, b, c = (fact(doc, p).value for p in "ABC")  # type: ignore[union-attr]
    psat = 10 ** (a - b / (temp + c))
    mm = fact(comp, "molar_mass").value  # type: ignore[union-attr]
    vol = rounded(rng.uniform(1, 20))
    mass = rounded(rng.uniform(0.1, 0.8) * psat * vol / 1000 * mm / (R_J * temp))
    name, t_c = comp.metadata["name"], round(temp - 273.15)
    q = (f"A {vol:g} L evacuated vessel at {t_c} °C holds {mass:g} g of {name}, all of it vapour. Treating the "
         f"vapour as an ideal gas (R = {R_J} J/(mol K)), what is its relative saturation (partial pressure as a "
         "percentage of the saturation pressure given by the tabulated Antoine correlation)?")
    formula = "(m / M) * R * (T_C + 273.15) / (V / 1000) / 10 ** (A - B / (T_C + 273.15 + C)) * 100"
    return Draft("vapour_saturation", q, formula, "%", {**facts_of(doc, A="A", B="B", C="C"),
                                                        **facts_of(comp, M="molar_mass")},
                 {"m": mass, "V": vol, "T_C": float(t_c), "R": R_J}, name, conversions=2,
                 state={"correlation": {"cas": comp.metadata["cas"], "T": temp},
                        "gas": {"cas": comp.metadata["cas"], "T": temp, "P": mass / mm * R_J * temp / (vol / 1000)}})


def pitzer_z(rng: random.Random, docs: Docs) -> Draft | None:
    comp = pick(rng, docs["compound"], "critical_temperature", "critical_pressure", "omega", "boiling_point")
    if comp is None:
        return None
    tc, pc, tb = (fact(comp, p).value for p in ("critical_temperature", "critical_pressure", "boiling_point"))  # type: ignore[union-attr]
    temp = float(round(rng.uniform(max(tb + 30, 0.75 * tc), 1.3 * tc)))
    pressure = rounded(rng.uniform(0.02, 0.12) * pc * min(temp / tc, 1.0) ** 8)  # bar, far below saturation
    if temp < tc:
        from sciresearcher.synth.spread import psat_sources

        psat = psat_sources(comp.metadata["cas"], temp)
        if not psat or pressure * 1e5 > 0.5 * min(psat):
            return None
    name = comp.metadata["name"]
    q = (f"Estimate the compressibility factor Z of {name} gas at {temp:g} K and {pressure:g} bar with Pitzer's "
         "virial correlation Z = 1 + (B0 + omega*B1)*Pr/Tr, B0 = 0.083 - 0.422/Tr^1.6, B1 = 0.139 - 0.172/Tr^4.2, "
         "using its critical constants and acentric factor.")
    formula = ("1 + ((0.083 - 0.422 / (T / Tc) ** 1.6) + w * (0.139 - 0.172 / (T / Tc) ** 4.2)) * (P / Pc) / (T / Tc)")
    return Draft("pitzer_z", q, formula, "", facts_of(comp, Tc="critical_temperature", Pc="critical_pressure",
                                                      w="omega"), {"T": temp, "P": pressure}, name,
                 state={"gas": {"cas": comp.metadata["cas"], "T": temp, "P": pressure * 1e5}})


def liquid_moles(rng: random.Random, docs: Docs) -> Draft | None:
    rec = rng.choice(docs["rho"])
    comp = _compound(docs, rec.metadata["cas"])
    if comp is None:
        return None
    vol = rounded(rng.uniform(0.05, 2.5))
    name, code = comp.metadata["name"], rec.metadata["code"]
    q = (f"How many moles of {name} are in {vol:g} L of the sample described in density record {code}, at the "
         "record's temperature (treat the sample as pure)?")
    return Draft("liquid_moles", q, "V * 1000 * rho / M", "mol", {**facts_of(rec, rho="rho"),
                                                                  **facts_of(comp, M="molar_mass")},
                 {"V": vol}, f"{code} {name}", conversions=1,
                 state={"liquid": {"cas": rec.metadata["cas"], "T": rec.metadata["T"]}})


def mixture_mass_fraction(rng: random.Random, docs: Docs) -> Draft | None:
    rec = rng.choice(docs["mix"])
    comps = [_compound(docs, cas) for cas in rec.metadata["components"]]
    if any(c is None for c in comps):
        return None
    facts = {f"x{k}": fact(rec, f"x{k}") for k in range(len(comps))}
    facts.update({f"M{k}": fact(c, "molar_mass") for k, c in enumerate(comps)})  # type: ignore[arg-type]
    total = " + ".join(f"x{k} * M{k}" for k in range(len(comps)))
    q = (f"What is the mass percentage of {comps[0].metadata['name']} in the liquid blend of mixture record "  # type: ignore[union-attr]
         f"{rec.metadata['code']}?")
    return Draft("mixture_mass_fraction", q, f"x0 * M0 / ({total}) * 100", "%", facts, {}, rec.metadata["code"])  # type: ignore[arg-type]


def enriched_molar_mass(rng: random.Random, docs: Docs) -> Draft | None:
    rec = rng.choice(docs["enr"])
    comp = _compound(docs, rec.metadata["cas"])
    symbol = rec.metadata["symbol"]
    iso = next((d for d in docs["isotopes"] if d.metadata["symbol"] == symbol), None)
    elem = next((d for d in docs["element"] if d.metadata["symbol"] == symbol), None)
    heavy, light = rec.metadata["heavy"], rec.metadata["light"]
    if comp is None or iso is None or elem is None or not fact(iso, f"mass_{heavy}") or not fact(iso, f"mass_{light}"):
        return None
    k = comp.metadata["atoms"][symbol]
    q = (f"Labelling record {rec.metadata['code']} reports the isotopic enrichment of a batch of "
         f"{comp.metadata['name']} ({comp.metadata['formula']}) labelled at every {symbol} position. Assuming the "
         f"remaining {symbol} atoms are {symbol}-{light}, what is the batch's average molar mass in g/mol?")
    formula = "M - k * Ar + k * (e / 100 * m_heavy + (1 - e / 100) * m_light)"
    return Draft("enriched_molar_mass", q, formula, "g/mol",
                 {**facts_of(comp, M="molar_mass"), **facts_of(elem, Ar="atomic_weight"),
                  **facts_of(rec, e="enrichment"), **facts_of(iso, m_heavy=f"mass_{heavy}", m_light=f"mass_{light}")},
                 {"k": float(k)}, rec.metadata["entity"])


def label_decay(rng: random.Random, docs: Docs) -> Draft | None:
    rec = rng.choice(docs["lot"])
    symbol, mass = rec.metadata["symbol"], rec.metadata["mass_number"]
    iso = next((d for d in docs["isotopes"] if d.metadata["symbol"] == symbol), None)
    half = fact(iso, f"half_life_{mass}") if iso else None
    if half is None:
        return None
    per_year = half.unit == "year"
    days = float(rng.randint(3, 60)) * (30 if per_year else 1)
    q = (f"Reagent record {rec.metadata['code']} gives the activity of a lot of {rec.metadata['reagent']} on its "
         f"reference date. What is the lot's activity {days:g} days later, in microcuries (1 Ci = 3.7e10 Bq)?")
    formula = "A0 * 0.5 ** (t / (t_half * 365.25)) / 0.037" if per_year else "A0 * 0.5 ** (t / t_half) / 0.037"
    return Draft("label_decay", q, formula, "uCi", {**facts_of(rec, A0="activity"), "t_half": half}, {"t": days},
                 rec.metadata["entity"], conversions=2 if per_year else 1)


def mass_percent(rng: random.Random, docs: Docs) -> Draft | None:
    by_symbol = {d.metadata["symbol"]: d for d in docs["element"] if fact(d, "atomic_weight")}
    pairs = [(c, by_symbol[s], n) for c in docs["compound"] if fact(c, "molar_mass")
             for s, n in c.metadata.get("atoms", {}).items() if s in by_symbol and len(c.metadata["atoms"]) > 1]
    compound, element, count = rng.choice(pairs)
    cname, ename = compound.metadata["name"], element.metadata["name"].lower()
    q = f"What is the mass percent of {ename} in {cname} ({compound.metadata['formula']})?"
    return Draft("mass_percent", q, "k * A / M * 100", "%", {**facts_of(element, A="atomic_weight"),
                                                             **facts_of(compound, M="molar_mass")},
                 {"k": float(count)}, cname)


def boiling_gap(rng: random.Random, docs: Docs) -> Draft | None:
    usable = [d for d in docs["compound"] if fact(d, "boiling_point")]
    a, b = rng.sample(usable, 2)
    if fact(a, "boiling_point").value < fact(b, "boiling_point").value:  # type: ignore[union-attr]
        a, b = b, a
    q = (f"By how many kelvin does the normal boiling point of {a.metadata['name']} exceed that of "
         f"{b.metadata['name']}?")
    return Draft("boiling_gap", q, "Tb1 - Tb2", "K", {**facts_of(a, Tb1="boiling_point"),
                                                      **facts_of(b, Tb2="boiling_point")}, {}, a.metadata["name"],
                 state={"normal_boiling": [a.metadata["cas"], b.metadata["cas"]]})


def element_atoms(rng: random.Random, docs: Docs) -> Draft | None:
    doc = pick(rng, docs["element"], "density", "atomic_weight")
    if doc is None:
        return None
    vol = rounded(rng.uniform(0.5, 50))
    name = doc.metadata["name"].lower()
    q = f"How many {name} atoms (in units of 10^23) are in a {vol:g} cm^3 piece of {name} near room temperature?"
    return Draft("element_atoms", q, "V * rho / A * N_A / 1e23", "1e23 atoms",
                 facts_of(doc, rho="density", A="atomic_weight"), {"V": vol, "N_A": 6.02214076e23}, name)


CHEM_SHAPES: dict[str, TemplateFn] = {f.__name__: f for f in (
    antoine_pressure, antoine_temperature, clausius_enthalpy, clausius_extrapolate, vapour_saturation, pitzer_z,
    liquid_moles, mixture_mass_fraction, enriched_molar_mass, label_decay, mass_percent, boiling_gap, element_atoms)}
