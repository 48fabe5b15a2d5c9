"""Real, offline, citable facts from scientific packages, rendered as documents (docs/architecture.md, "Synthesis").

Each fact is one sentence of a `Document` (elements from `mendeleev`, compounds from `chemicals`), so the same
documents can be indexed for the agent's `search`/`read` tools and cited as sentence-level `Evidence` by the
synthesis pipelines. `Document.metadata["facts"]` maps a property name to `{"value", "unit", "sentence"}`, where
`value` is exactly the number written in that sentence (rendered with 7 significant digits), so a computation
from the evidence reproduces the answer bit for bit.

Sources: mendeleev (element properties; MIT licence, data from the references it cites) and chemicals
(compound identifiers, critical constants, phase-change temperatures; MIT licence). It does not fetch anything
and it does not judge which facts are interesting (the pipelines do).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from sciresearcher.errors import DataError
from sciresearcher.records import Document, Evidence, Locator

log = logging.getLogger(__name__)

# The demo's `element_atoms` draws from the 28 of these with a condensed-phase density. Every stable element through
# bismuth (71 with a density) was tried for the demo (docs/training.md, sixth round): validation accuracy on two
# seeds moved 0.467 -> 0.475 (SFT) and 0.525 -> 0.475 (GRPO), so the smaller world stays.
ELEMENTS = ("H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar",
            "K", "Ca", "Ti", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Br", "Ag", "Sn", "I", "Pt", "Au", "Hg", "Pb")
COMPOUNDS = ("water", "methane", "ethane", "propane", "butane", "ethanol", "methanol", "acetone", "benzene",
             "toluene", "carbon dioxide", "ammonia", "chloroform", "acetic acid", "diethyl ether", "hexane",
             "cyclohexane", "nitrogen", "oxygen", "sulfur dioxide", "hydrogen sulfide", "ethylene", "acetylene",
             "glycerol", "phenol", "pyridine", "acetonitrile", "dichloromethane", "carbon tetrachloride", "urea")


def fmt(value: float) -> str:
    """How a number is written in a fact sentence (and therefore what a solver reads back)."""
    return f"{value:.7g}"


@dataclass(frozen=True)
class Fact:
    """One citable value: which document and sentence states it. `value` is a number or, for sequences, the
    text; `ref` says which library lookup gives the same property (None: no library states it), which is what
    the reference-value solver and the well-posedness checks use."""

    doc: Document
    prop: str
    value: Any
    unit: str
    sentence: int
    ref: dict[str, Any] | None = None

    @property
    def text(self) -> str:
        return (self.doc.sentences or [])[self.sentence]

    def evidence(self) -> Evidence:
        return Evidence(doc_id=self.doc.id, level="sentence", text=self.text, score=1.0,
                        locator=Locator(sentence=self.sentence), url=self.doc.url, title=self.doc.title)


def fact(doc: Document, prop: str) -> Fact | None:
    entry = doc.metadata.get("facts", {}).get(prop)
    if entry is None:
        return None
    value = entry["value"] if isinstance(entry["value"], str) else float(entry["value"])
    return Fact(doc, prop, value, entry["unit"], int(entry["sentence"]), entry.get("ref"))


class Builder:
    """Collects a document's sentences and the facts each states (`say`: numbers, `say_text`: sequences)."""

    def __init__(self) -> None:
        self.sentences: list[str] = []
        self.facts: dict[str, dict[str, Any]] = {}

    def say(self, text: str, refs: dict[str, dict[str, Any]] | None = None,
            **values: tuple[float | None, str]) -> None:
        """Adds a sentence; `values` are prop=(number, unit); skipped when a number is missing."""
        if any(v is None or math.isnan(float(v)) for v, _ in values.values()):
            return
        rendered = {prop: fmt(float(v)) for prop, (v, _) in values.items()}  # type: ignore[arg-type]
        self.sentences.append(text.format(**rendered))
        for prop, (_, unit) in values.items():
            self.facts[prop] = {"value": float(rendered[prop]), "unit": unit, "sentence": len(self.sentences) - 1,
                                "ref": (refs or {}).get(prop)}

    def say_text(self, text: str, prop: str, value: str, unit: str = "sequence") -> None:
        """Adds a sentence that states a text value (a sequence) as written."""
        self.sentences.append(text.format(value=value))
        self.facts[prop] = {"value": value, "unit": unit, "sentence": len(self.sentences) - 1, "ref": None}


_Builder = Builder


def element_documents(symbols: tuple[str, ...] = ELEMENTS) -> list[Document]:
    """One document per element: atomic number, standard atomic weight, density, melting and boiling points."""
    try:
        import mendeleev
        from mendeleev.fetch import fetch_table
    except ImportError as exc:
        raise DataError("element facts need mendeleev", hint="pip install 'sciresearcher[science]'") from exc
    table = fetch_table("elements").set_index("symbol")
    phases = fetch_table("phasetransitions")
    # one row per element: the one without an allotrope label when there are several (graphite vs diamond...)
    phases = phases.assign(_alt=phases["allotrope"].notna()).sort_values(["atomic_number", "_alt", "id"])
    phases = phases.drop_duplicates("atomic_number").set_index("atomic_number")
    docs = []
    for symbol in symbols:
        if symbol not in table.index:
            raise DataError(f"unknown element symbol {symbol!r}", hint="use symbols such as Fe, Cu, Na")
        e = table.loc[symbol]
        z = int(e["atomic_number"])
        phase = phases.loc[z] if z in phases.index else None
        name = str(e["name"])
        b = _Builder()
        b.sentences.append(f"{name} (symbol {symbol}) is the chemical element with atomic number {z}.")
        ref = {"lib": "element", "symbol": symbol}
        b.say(f"The standard atomic weight of {name.lower()} is {{atomic_weight}} g/mol.",
              {"atomic_weight": {**ref, "prop": "atomic_weight"}}, atomic_weight=(e["atomic_weight"], "g/mol"))
        density = e["density"]
        if density is not None and not math.isnan(density) and density > 0.1:  # condensed phases (gases: g/L)
            b.say(f"The density of {name.lower()} near room temperature is {{density}} g/cm3.",
                  {"density": {**ref, "prop": "density"}}, density=(float(density), "g/cm3"))
        if phase is not None:
            b.say(f"The melting point of {name.lower()} is {{melting_point}} K.",
                  {"melting_point": {**ref, "prop": "melting_point"}}, melting_point=(phase["melting_point"], "K"))
            b.say(f"The boiling point of {name.lower()} is {{boiling_point}} K.",
                  {"boiling_point": {**ref, "prop": "boiling_point"}}, boiling_point=(phase["boiling_point"], "K"))
        docs.append(Document(
            id=f"mendeleev:element:{symbol}", title=f"{name} ({symbol})", text=" ".join(b.sentences),
            sentences=b.sentences, source=f"mendeleev {mendeleev.__version__}", license="MIT",
            metadata={"kind": "element", "symbol": symbol, "name": name, "facts": b.facts}))
    return docs


_ESTIMATES = ("JOBACK", "WILSON_JASPERSON", "ACENTRIC_DEFINITION")


def has_normal_boiling_point(cas: str) -> bool:
    """Whether the compound boils at 1 atm: triple point below 1 atm and the data sources agree within 3%
    (sources that disagree more are how chemicals shows a compound that decomposes before boiling, e.g. urea)."""
    from chemicals.phase_change import Tb, Tb_methods
    from chemicals.triple import Pt

    pt = Pt(cas)
    if pt is not None and pt >= 101325:
        return False
    values = [Tb(cas, method=m) for m in Tb_methods(cas) if m not in _ESTIMATES]
    values = [v for v in values if v]
    return bool(values) and (max(values) - min(values)) / min(values) <= 0.03


def compound_documents(names: tuple[str, ...] = COMPOUNDS) -> list[Document]:
    """One document per compound: formula and molar mass, critical constants, normal boiling and melting points."""
    try:
        import chemicals
        from chemicals.critical import Pc, Tc
        from chemicals.elements import nested_formula_parser
        from chemicals.identifiers import search_chemical
        from chemicals.phase_change import Tb, Tm
    except ImportError as exc:
        raise DataError("compound facts need chemicals", hint="pip install 'sciresearcher[science]'") from exc
    from chemicals.acentric import omega

    docs = []
    for name in names:
        meta = search_chemical(name)
        cas = meta.CASs
        if name == cas:  # given by CAS number: named by its common name
            name = meta.common_name
        refs = {p: {"lib": "compound", "cas": cas, "prop": p} for p in (
            "molar_mass", "critical_temperature", "critical_pressure", "boiling_point", "melting_point", "omega")}
        b = _Builder()
        b.say(f"{name.capitalize()} (CAS {cas}) has the molecular formula {meta.formula} and a molar mass of "
              "{molar_mass} g/mol.", refs, molar_mass=(meta.MW, "g/mol"))
        b.say(f"The critical temperature of {name} is {{critical_temperature}} K.", refs,
              critical_temperature=(Tc(cas), "K"))
        pc = Pc(cas)
        b.say(f"The critical pressure of {name} is {{critical_pressure}} bar.", refs,
              critical_pressure=(pc / 1e5 if pc else None, "bar"))
        if has_normal_boiling_point(cas):  # not for what sublimes (CO2) or decomposes (urea) at 1 atm
            b.say(f"The normal boiling point of {name} is {{boiling_point}} K.", refs, boiling_point=(Tb(cas), "K"))
        b.say(f"The melting point of {name} is {{melting_point}} K.", refs, melting_point=(Tm(cas), "K"))
        b.say(f"The acentric factor of {name} is {{omega}}.", refs, omega=(omega(cas), ""))
        docs.append(Document(
            id=f"chemicals:cas:{cas}", title=f"{name.capitalize()} ({meta.formula})", text=" ".join(b.sentences),
            sentences=b.sentences, source=f"chemicals {chemicals.__version__}", license="MIT",
            metadata={"kind": "compound", "name": name, "cas": cas, "formula": meta.formula,
                      "atoms": nested_formula_parser(meta.formula), "facts": b.facts}))
    return docs
