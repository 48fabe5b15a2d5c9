"""Fictional chemical elements and reagent stocks: made-up names and values, so that a student must read a document.

A tiny student trained on the offline world's element tasks sees each of ~20 real elements in ~10 training tasks
with the same id and values every time: asked about an element it never saw, the demo's students copy the name
into their search (29-36 of 40 made-up names) but write `mendeleev:element:` whatever id search printed, and after
a right read rarely copy the values (docs/training.md, sixteenth round). A fictional element's name, symbol and
values are in no other task, so the only way to its answer is the routine itself: search for the name, read the
id search printed, copy the values read (benchmarks/unseen_names_probe.py asks a trained student to). Each
document says in its first sentence that the element is made up, and its id is `fictional:element:<symbol>`, so
nothing fictional passes for a fact: the split keeps the `fictional:` namespace in training (data/split.py), and
the evaluation's index never holds these documents. `namespace=REAL_FORM["element"]` writes the ids in the real
elements' form instead (`mendeleev:element:<symbol>`, a symbol no real element has): a student that has learnt
to read real ids by their form can read these, where a `fictional:` id is one it has never copied (docs/training.md,
twentieth round); the text still says the element is made up, and the split knows these documents by the
synthesis's list of made-up ones, whatever their ids.

Fictional stock records (`fictional_stocks`) do the same for `serial_dilution`, the demo's other failure on held-out
entities (docs/training.md, seventeenth round): a stock code and a concentration no other task has, under
`fictional:stock:<code>`, written as the seeded stock records are (records_bio.py) with a second sentence saying
the record is made up.

`made_up_word(rng)` is the generator of made-up words that copy pretraining uses too (train/copy_pretrain.py).
Not here: the task shapes (shapes_chem.element_atoms drafts tasks over these documents as over real ones).
"""

from __future__ import annotations

import random

from sciresearcher.records import Document
from sciresearcher.synth.facts import Builder
from sciresearcher.synth.records_bio import REAGENTS

NAMESPACE = "fictional:element"
STOCK_NAMESPACE = "fictional:stock"
# the real documents' id namespaces (synth/facts.py, records_bio.py), for made-up documents written in their form
REAL_FORM = {"element": "mendeleev:element", "stock": "record:stock"}
# the namespaces of each id form (`synth.computational.fictional.ids`), by kind of document
ID_FORMS = {"fictional": {"element": NAMESPACE, "stock": STOCK_NAMESPACE}, "real": REAL_FORM}
STOCK_CODES = range(5000, 10000)  # real stock records are ST-0000 on (records_bio.py: 60), so none shares a code
# every real element's symbol, so that no fictional one borrows a real symbol
_SYMBOLS = """H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se
Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W
Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh
Fl Mc Lv Ts Og"""
REAL_SYMBOLS = frozenset(_SYMBOLS.split())

_ONSETS = ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "ch", "cl", "gr",
           "ph", "pl", "st", "th", "tr"]
_VOWELS = ["a", "e", "i", "o", "u", "ae", "io", "ou"]
_CODAS = ["", "", "", "l", "m", "n", "r", "s", "t", "x"]


def made_up_word(rng: random.Random, like: str = "") -> str:
    """A made-up word of 1-4 syllables (onset, vowel, coda), capitalised like `like`: 'tobaric', 'Plenx'."""
    word = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(rng.randint(1, 4)))
    return word.capitalize() if like[:1].isupper() else word


def fictional_elements(n: int, seed: int | str = 0, *, max_letters: int = 8,
                       namespace: str = NAMESPACE) -> list[Document]:
    """`n` fictional elements with a standard atomic weight and a density near room temperature, written as the
    real element documents are (synth/facts.py), under `<namespace>:<symbol>` (`fictional:element:`). Names have
    4 to `max_letters` letters (real element names: 3-10), symbols are two letters of the name that no real element
    (of all 118) and no other fictional one has; same `seed`, same documents."""
    rng = random.Random(f"fictional-elements:{seed}")
    taken = set(REAL_SYMBOLS)
    names: set[str] = set()
    docs: list[Document] = []
    while len(docs) < n:
        name = made_up_word(rng).capitalize()
        if not 4 <= len(name) <= max_letters or name in names:
            continue
        symbol = next((name[0] + c for c in name[1:] if name[0] + c not in taken), None)
        if symbol is None:
            continue
        taken.add(symbol)
        names.add(name)
        lower = name.lower()
        b = Builder()
        b.sentences.append(f"{name} (symbol {symbol}) is a fictional chemical element, made up for training.")
        b.say(f"The standard atomic weight of {lower} is {{atomic_weight}} g/mol.",
              atomic_weight=(round(rng.uniform(6.0, 240.0), rng.choice([2, 3])), "g/mol"))
        b.say(f"The density of {lower} near room temperature is {{density}} g/cm3.",
              density=(round(rng.uniform(0.5, 22.5), rng.choice([2, 3])), "g/cm3"))
        docs.append(Document(
            id=f"{namespace}:{symbol}", title=f"{name} ({symbol})", text=" ".join(b.sentences),
            sentences=b.sentences, source="sciresearcher fictional elements", license="CC0-1.0",
            metadata={"kind": "element", "symbol": symbol, "name": name, "fictional": True, "facts": b.facts}))
    return docs


def fictional_stocks(n: int, seed: int | str = 0, *, namespace: str = STOCK_NAMESPACE) -> list[Document]:
    """`n` fictional reagent stock records, written as the seeded ones are (`Stock record ST-xxxx: the <reagent>
    stock solution was <c> mM.`, a real reagent, a concentration from the same range) under
    `<namespace>:<code>` (`fictional:stock:`), with codes from ST-5000 on that no real record has; same `seed`, same
    documents."""
    if n > len(STOCK_CODES):
        raise ValueError(f"at most {len(STOCK_CODES)} fictional stock records (asked for {n})")
    rng = random.Random(f"fictional-stocks:{seed}")
    docs: list[Document] = []
    for number in rng.sample(STOCK_CODES, n):
        reagent, code = rng.choice(REAGENTS), f"ST-{number}"
        b = Builder()
        b.say(f"Stock record {code}: the {reagent} stock solution was {{conc}} mM.", None,
              conc=(round(10 ** rng.uniform(1, 3.3), 1), "mM"))
        b.sentences.append(f"Stock record {code} is fictional, made up for training.")
        docs.append(Document(
            id=f"{namespace}:{code}", title=f"Stock record {code}: {reagent}", text=" ".join(b.sentences),
            sentences=b.sentences, source="sciresearcher fictional records", license="CC0-1.0",
            metadata={"kind": "record", "record": "stock", "code": code, "reagent": reagent, "entity": code,
                      "fictional": True, "facts": b.facts}))
    return docs
