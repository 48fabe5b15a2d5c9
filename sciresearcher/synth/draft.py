"""The offline question writer's core: a `Draft` (question, cited facts, given values, formula).

A shape (`shapes_chem.py`, `shapes_bio.py`) picks documents and parameters with a seeded RNG and returns a
`Draft`: the question, the variables (each a cited `Fact`, numbers or sequences, or a value given in the
question), a Python expression over them, the unit, the physical state it presupposes (`state`, read by the
well-posedness checks) and how many unit conversions it asks for. The reference solution is Python written from
the draft (cited values as named constants with their sources in comments, the library imports the formula
needs), so the answer is reproducible in the sandbox from the evidence alone.

`operations(formula)` counts the arithmetic operations and library calls of a formula (its AST), and
`difficulty` grades a draft by operations, cited documents and unit conversions: fewer than 3 operations is
always easy. It writes no free text beyond the shapes and does not verify (see `verify.py`, `wellposed.py`).
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sciresearcher.records import Document
from sciresearcher.synth.facts import Fact, fact, fmt

R_BAR = 0.08314462618  # L·bar/(mol·K), CODATA 2018 (exact by definition of k_B and N_A)
R_J = 8.314462618  # J/(mol·K)
N_A = 6.02214076e23  # 1/mol (exact)

# names a formula may call: the import the reference solution writes for each
IMPORTS = {
    "ProteinAnalysis": "from Bio.SeqUtils.ProtParam import ProteinAnalysis",
    "gc_fraction": "from Bio.SeqUtils import gc_fraction",
    "molecular_weight": "from Bio.SeqUtils import molecular_weight",
    "Tm_Wallace": "from Bio.SeqUtils.MeltingTemp import Tm_Wallace",
    "Seq": "from Bio.Seq import Seq",
}
_CONSTRUCTORS = ("ProteinAnalysis", "Seq", "str")


@lru_cache(maxsize=1)
def _namespace() -> dict[str, Any]:
    ns: dict[str, Any] = {"math": math, "str": str}
    for line in IMPORTS.values():
        exec(line, ns)  # noqa: S102 - fixed import lines above, never input
    ns["__builtins__"] = {}
    return ns


@lru_cache(maxsize=4096)
def operations(formula: str) -> int:
    """Arithmetic operations and library calls in a formula (constructors and attribute lookups not counted)."""
    count = 0
    for node in ast.walk(ast.parse(formula, mode="eval")):
        if isinstance(node, ast.BinOp) or isinstance(node, ast.UnaryOp) and not isinstance(node.operand, ast.Constant):
            count += 1
        elif isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            count += name not in _CONSTRUCTORS
    return count


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
    domain: str = "chemistry"
    conversions: int = 0  # unit conversions the question asks for (°C -> K, mmHg -> Pa, ...)
    state: dict[str, Any] = field(default_factory=dict)  # what the question presupposes, for wellposed.py
    tolerance: float | None = None  # set from the spread of the sources (spread.py)

    @property
    def id(self) -> str:
        key = json.dumps([self.template, {k: [f.doc.id, f.prop] for k, f in self.facts.items()}, self.given],
                         sort_keys=True)
        return f"comp-{self.template}-{hashlib.blake2b(key.encode(), digest_size=6).hexdigest()}"

    @property
    def documents(self) -> list[str]:
        return sorted({f.doc.id for f in self.facts.values()})

    @property
    def entities(self) -> tuple[str, ...]:
        """The entity set: the cited documents' subjects (what makes two drafts of one shape different)."""
        return tuple(sorted({f.doc.metadata.get("entity") or f.doc.metadata.get("name") or f.doc.id
                             for f in self.facts.values()}))

    @property
    def operations(self) -> int:
        return operations(self.formula)

    @property
    def difficulty(self) -> str:
        ops, docs = self.operations, len(self.documents)
        points = ops + 2 * (docs - 1) + self.conversions
        if ops < 3 or points < 5:
            return "easy"
        return "medium" if points < 9 else "hard"

    def values(self) -> dict[str, Any]:
        return {**self.given, **{name: f.value for name, f in self.facts.items()}}

    def exact_answer(self, values: dict[str, Any] | None = None) -> float:
        # formulas come from the shapes only, never from input
        return float(eval(self.formula, dict(_namespace()), values or self.values()))

    def solution(self) -> str:
        """The reference solution: imports, cited constants, given values, the formula, the printed answer."""
        names = {n.id for n in ast.walk(ast.parse(self.formula, mode="eval")) if isinstance(n, ast.Name)}
        lines = ["import math", *(line for name, line in IMPORTS.items() if name in names), ""]
        for name, f in self.facts.items():
            value = repr(f.value) if isinstance(f.value, str) else fmt(f.value)
            lines.append(f"{name} = {value}  # {f.unit}; {f.doc.id}, sentence {f.sentence}: {f.text!r}")
        for name, value in self.given.items():
            lines.append(f"{name} = {value!r}  # given in the question")
        lines += ["", f"answer = {self.formula}", "print(repr(answer))"]
        return "\n".join(lines) + "\n"


Docs = dict[str, list[Document]]
TemplateFn = Callable[[random.Random, Docs], Draft | None]


def pick(rng: random.Random, docs: list[Document], *props: str) -> Document | None:
    usable = [d for d in docs if all(fact(d, p) is not None for p in props)]
    return rng.choice(usable) if usable else None


def facts_of(doc: Document, **names: str) -> dict[str, Fact]:
    """{variable name: the fact of `doc` with that property}."""
    return {var: fact(doc, prop) for var, prop in names.items()}  # type: ignore[misc]


def rounded(x: float, digits: int = 3) -> float:
    return float(f"{x:.{digits}g}")
