"""The offline question writer for computational tasks: templates over cited facts (docs/architecture.md, "Synthesis").

A template picks entities and parameters with a seeded RNG and returns a `Draft`: the question, the variables
(each either a cited `Fact` or a given parameter), a formula over them, and the unit. The reference solution is
Python written from the draft (cited values as named constants, with their sources in comments), so the answer
is reproducible in the sandbox from the evidence alone. Templates that combine facts from two documents make
two-hop tasks (e.g. a compound's molar mass and an element's atomic weight).

It writes no natural free text beyond the templates (the LLM writer does that) and it does not verify (see
`verify.py`).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from sciresearcher.records import Document
from sciresearcher.synth.facts import Fact, fact, fmt

R_BAR = 0.08314462618  # L·bar/(mol·K), CODATA 2018 (exact by definition of k_B and N_A)


@dataclass
class Draft:
    """A computational task before verification."""

    template: str
    question: str
    formula: str  # a Python expression over the variable names
    unit: str
    facts: dict[str, Fact]
    given: dict[str, float] = field(default_factory=dict)
    seed_entity: str = ""

    @property
    def id(self) -> str:
        key = json.dumps([self.template, {k: [f.doc.id, f.prop] for k, f in self.facts.items()}, self.given],
                         sort_keys=True)
        return f"comp-{self.template}-{hashlib.blake2b(key.encode(), digest_size=6).hexdigest()}"

    def values(self) -> dict[str, float]:
        return {**self.given, **{name: f.value for name, f in self.facts.items()}}

    def exact_answer(self) -> float:
        # formulas come from the templates below only, never from input
        return float(eval(self.formula, {"__builtins__": {}, "math": math}, self.values()))

    def solution(self) -> str:
        """The reference solution: cited constants, given values, the formula, the printed answer."""
        lines = ["import math", ""]
        for name, f in self.facts.items():
            lines.append(f"{name} = {fmt(f.value)}  # {f.unit}; {f.doc.id}, sentence {f.sentence}: {f.text!r}")
        for name, value in self.given.items():
            lines.append(f"{name} = {value!r}  # given in the question")
        lines += ["", f"answer = {self.formula}", "print(repr(answer))"]
        return "\n".join(lines) + "\n"


Docs = dict[str, list[Document]]
TemplateFn = Callable[[random.Random, Docs], Draft | None]


def _pick(rng: random.Random, docs: list[Document], *props: str) -> Document | None:
    usable = [d for d in docs if all(fact(d, p) is not None for p in props)]
    return rng.choice(usable) if usable else None


def _round(x: float, digits: int = 3) -> float:
    return float(f"{x:.{digits}g}")


def element_mass(rng: random.Random, docs: Docs) -> Draft | None:
    doc = _pick(rng, docs["element"], "atomic_weight")
    if doc is None:
        return None
    n = _round(rng.uniform(0.05, 12))
    name = doc.metadata["name"].lower()
    return Draft("element_mass", f"What is the mass, in grams, of {n} mol of {name} atoms?", "n * M", "g",
                 {"M": fact(doc, "atomic_weight")}, {"n": n}, name)  # type: ignore[dict-item]


def element_volume(rng: random.Random, docs: Docs) -> Draft | None:
    doc = _pick(rng, docs["element"], "density")
    if doc is None:
        return None
    m = _round(rng.uniform(1, 500))
    name = doc.metadata["name"].lower()
    return Draft("element_volume", f"What volume, in cm^3, do {m} g of {name} occupy near room temperature?",
                 "m / rho", "cm^3", {"rho": fact(doc, "density")}, {"m": m}, name)  # type: ignore[dict-item]


def gas_pressure(rng: random.Random, docs: Docs) -> Draft | None:
    doc = _pick(rng, docs["compound"], "molar_mass", "boiling_point")
    if doc is None:
        return None
    tb = fact(doc, "boiling_point").value  # type: ignore[union-attr]
    temp = float(round(max(tb + rng.uniform(40, 250), 300.0)))
    m, volume = _round(rng.uniform(0.5, 50)), _round(rng.uniform(1, 50))
    name = doc.metadata["name"]
    question = (f"A {volume} L vessel holds {m} g of {name} vapour at {temp:g} K. Treating it as an ideal gas "
                f"(R = {R_BAR} L bar mol^-1 K^-1), what is the pressure in bar?")
    return Draft("gas_pressure", question, "(m / M) * R * T / V", "bar", {"M": fact(doc, "molar_mass")},  # type: ignore[dict-item]
                 {"m": m, "V": volume, "T": temp, "R": R_BAR}, name)


def reduced_temperature(rng: random.Random, docs: Docs) -> Draft | None:
    doc = _pick(rng, docs["compound"], "critical_temperature")
    if doc is None:
        return None
    tc = fact(doc, "critical_temperature").value  # type: ignore[union-attr]
    temp = float(round(tc * rng.uniform(0.5, 1.5)))
    name = doc.metadata["name"]
    return Draft("reduced_temperature", f"What is the reduced temperature (T/Tc) of {name} at {temp:g} K?",
                 "T / Tc", "", {"Tc": fact(doc, "critical_temperature")}, {"T": temp}, name)  # type: ignore[dict-item]


def _compound_with_element(rng: random.Random, docs: Docs) -> tuple[Document, Document, int] | None:
    by_symbol = {d.metadata["symbol"]: d for d in docs["element"] if fact(d, "atomic_weight")}
    pairs = [(c, by_symbol[s], n) for c in docs["compound"] if fact(c, "molar_mass")
             for s, n in c.metadata.get("atoms", {}).items() if s in by_symbol]
    return rng.choice(pairs) if pairs else None


def mass_percent(rng: random.Random, docs: Docs) -> Draft | None:
    pick = _compound_with_element(rng, docs)
    if pick is None:
        return None
    compound, element, count = pick
    cname, ename = compound.metadata["name"], element.metadata["name"].lower()
    question = f"What is the mass percent of {ename} in {cname} ({compound.metadata['formula']})?"
    return Draft("mass_percent", question, "k * A / M * 100", "%",
                 {"A": fact(element, "atomic_weight"), "M": fact(compound, "molar_mass")},  # type: ignore[dict-item]
                 {"k": float(count)}, cname)


def atom_moles(rng: random.Random, docs: Docs) -> Draft | None:
    pick = _compound_with_element(rng, docs)
    if pick is None:
        return None
    compound, element, count = pick
    m = _round(rng.uniform(1, 200))
    cname, ename = compound.metadata["name"], element.metadata["name"].lower()
    question = (f"How many moles of {ename} atoms are in {m} g of {cname} ({compound.metadata['formula']})?")
    return Draft("atom_moles", question, "m / M * k", "mol", {"M": fact(compound, "molar_mass")},  # type: ignore[dict-item]
                 {"m": m, "k": float(count)}, cname)


def boiling_gap(rng: random.Random, docs: Docs) -> Draft | None:
    usable = [d for d in docs["compound"] if fact(d, "boiling_point")]
    if len(usable) < 2:
        return None
    a, b = rng.sample(usable, 2)
    if fact(a, "boiling_point").value < fact(b, "boiling_point").value:  # type: ignore[union-attr]
        a, b = b, a
    question = (f"By how many kelvin does the normal boiling point of {a.metadata['name']} exceed that of "
                f"{b.metadata['name']}?")
    return Draft("boiling_gap", question, "Tb1 - Tb2", "K",
                 {"Tb1": fact(a, "boiling_point"), "Tb2": fact(b, "boiling_point")},  # type: ignore[dict-item]
                 {}, a.metadata["name"])


TEMPLATES: dict[str, TemplateFn] = {
    "element_mass": element_mass, "element_volume": element_volume, "gas_pressure": gas_pressure,
    "reduced_temperature": reduced_temperature, "mass_percent": mass_percent, "atom_moles": atom_moles,
    "boiling_gap": boiling_gap,
}
