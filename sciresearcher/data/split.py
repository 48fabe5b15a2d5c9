"""Splitting tasks by entity into train / rl / validation / test, and keeping evaluation documents out of training.

A task's **entities** are the documents its evidence chain cites (evidence, cited variables, hops). Documents,
not tasks, are assigned to splits: each namespace of document ids (`mendeleev:element:`, `chemicals:cas:`,
`pmid:`...) is ordered by a salted hash and cut by the split fractions, so every split gets its share of each
kind of entity; a namespace under a `train_only` prefix (`fictional:`: made-up elements and stocks), and the
documents named `made_up` (the synthesis's made-up ones, whatever their ids), go to train whole (or, with
`train_only_rl`, a share of each namespace of them to `rl`: made-up entities only GRPO sees), apart from the real
documents of their namespace, whose cut they do not move. A
task lands in a split when all its documents are in that split; a task whose documents fall
in two splits is dropped (and counted), so no test entity or document ever appears in a train task. Then each
split is capped at `max_tasks` (a seeded sample, same seed same tasks).

`rl` is optional (empty by default): tasks for reinforcement learning that SFT never trains on. After SFT the
student solves most of its own training tasks (it has memorised their names and values), so GRPO on them mostly
reinforces recall. Two ways to fill it: a share of the entities (`fractions.rl`: entities no SFT trajectory cites,
so the reward measures what the test split does, but SFT sees fewer entities), or `rl_from_train: N` (N tasks
about the train entities whose questions SFT never sees: drawn first from the tasks `max_tasks.train` leaves out,
so SFT's tasks stay the same, then from train's own), or `train_only_rl` (a share of the made-up entities: names
neither SFT nor any evaluation saw, so GRPO practises copying unseen names, the test split's failure, while SFT
keeps every real entity), or `rl_counterfactual` (SFT's own tasks re-posed over copies of their documents with
other values, data/counterfactual.py: known names, values no model has seen; the pipeline's split stage makes
them, since it holds the documents). Its documents are training documents, never held out; the pipeline's split stage
keeps those of its own entities (documents no train task cites) out of what the student reads before GRPO
(tokenizer, copy pretraining) and out of the teacher's index, in GRPO's index alone (`rl_index`).

`held_out_documents(tasks)` names the documents evaluation items rest on (evidence ids, PMIDs, DOIs) and
`training_documents(docs, held_out)` drops them from a corpus, so the index that teacher rollouts and GRPO
search cannot hand an evaluation item's source to the model (question screening cannot catch that leak).

It does not decide what a good task is (synthesis and screening do), and it reads no files.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sciresearcher.data.counterfactual import CounterfactualConfig
from sciresearcher.records import Document, Task

SPLITS = ("train", "rl", "validation", "test")
TRAINING_SPLITS = ("train", "rl")  # their documents are never held out of training


class SplitConfig(BaseModel):
    """How tasks are split by entity (document), and how many each split keeps."""

    model_config = ConfigDict(extra="forbid")

    fractions: dict[str, float] = Field(
        default_factory=lambda: {"train": 0.7, "validation": 0.15, "test": 0.15},
        description="share of each namespace's documents per split (train, rl, validation, test); rl is optional")
    max_tasks: dict[str, int | None] = Field(
        default_factory=dict, description="cap per split (a seeded sample); a split not named is not capped")
    rl_from_train: int = Field(
        0, ge=0, description="train-entity tasks set aside for GRPO (questions SFT never sees): first those "
        "max_tasks.train leaves out, then train's own; 0 = none")
    train_only: list[str] = Field(
        default_factory=lambda: ["fictional:"], description="id prefixes of documents that always go to train: "
        "entities no evaluation may rest on (synth's fictional elements)")
    train_only_rl: float = Field(
        0.0, ge=0.0, le=1.0, description="share of the train_only documents (made-up entities) that go to the rl "
        "split instead of train: entities SFT never trains on, for GRPO; 0 = all to train, 1 = all to rl")
    rl_counterfactual: CounterfactualConfig | None = Field(
        None, description="the rl split is the train tasks re-posed over copies of their documents with changed "
        "values (data/counterfactual.py), which GRPO's index holds in place of the originals: SFT's tasks and "
        "texts stay the same; none = off")
    seed: int = Field(0, description="salt of the document assignment and of the capping sample")

    @property
    def rl_sources(self) -> list[str]:
        """The settings that fill the `rl` split: entities of its own, train tasks set aside, made-up ones, or
        train tasks re-posed over counterfactual documents."""
        return [name for name, on in (("fractions.rl", self.fractions.get("rl", 0) > 0),
                                      ("rl_from_train", self.rl_from_train > 0),
                                      ("train_only_rl", self.train_only_rl > 0),
                                      ("rl_counterfactual", self.rl_counterfactual is not None)) if on]

    @property
    def has_rl(self) -> bool:
        """Whether an `rl` split is filled."""
        return bool(self.rl_sources)

    @model_validator(mode="after")
    def _check(self) -> SplitConfig:
        unknown = sorted(set(self.fractions) - set(SPLITS)) + sorted(set(self.max_tasks) - set(SPLITS))
        if unknown:
            raise ValueError(f"unknown split name(s) {unknown}; splits are {', '.join(SPLITS)}")
        if any(v < 0 for v in self.fractions.values()) or not 0.999 <= sum(self.fractions.values()) <= 1.001:
            raise ValueError(f"split fractions must be >= 0 and sum to 1 (got {self.fractions})")
        if len(sources := self.rl_sources) > 1:
            raise ValueError(f"the rl split comes from one source, got {' and '.join(sources)}: entities of its own "
                             "(fractions.rl), train tasks (rl_from_train), made-up entities (train_only_rl) or "
                             "re-posed train tasks (rl_counterfactual); set the others to 0 (or null)")
        if self.train_only_rl and not self.train_only:
            raise ValueError("train_only_rl sends a share of the train_only documents to rl, but train_only is "
                             "empty: name their id prefixes (e.g. ['fictional:']) or set train_only_rl to 0")
        return self


def task_documents(task: Task) -> set[str]:
    """The ids of the documents a task's evidence chain cites."""
    ids = {e.doc_id for e in task.evidence}
    for var in (task.metadata.get("variables") or {}).values():
        if isinstance(var, dict) and var.get("doc_id"):
            ids.add(str(var["doc_id"]))
    if task.provenance is not None:
        ids.update(h.source_doc_id for h in task.provenance.hops if h.source_doc_id)
    return ids


def _namespace(doc_id: str) -> str:
    return doc_id.rsplit(":", 1)[0] if ":" in doc_id else ""


def _rank(doc_id: str, seed: int) -> bytes:
    return hashlib.blake2b(f"{seed}:{doc_id}".encode(), digest_size=8).digest()


def _cut(ids: list[str], shares: dict[str, float], seed: int) -> dict[str, str]:
    """doc id -> split: `ids` in salted-hash order, cut by `shares` (split -> share, in order; the last split takes
    what rounding leaves)."""
    ordered = sorted(ids, key=lambda d: _rank(d, seed))
    names = [name for name, share in shares.items() if share > 0]
    out: dict[str, str] = {}
    n, start, cum = len(ordered), 0, 0.0
    for i, name in enumerate(names):
        cum += shares[name]
        end = n if i == len(names) - 1 else round(cum * n)
        out.update(dict.fromkeys(ordered[start:end], name))
        start = end
    return out


def assign_documents(doc_ids: set[str], config: SplitConfig, made_up: Collection[str] = ()) -> dict[str, str]:
    """doc id -> split: within each id namespace, documents in salted-hash order cut by the fractions; made-up
    documents (a `train_only` namespace, or named in `made_up`), per namespace on their own: the first
    `train_only_rl` share to rl, the rest to train."""
    fractions = {name: config.fractions.get(name, 0.0) for name in SPLITS}
    made_up_shares = {"rl": config.train_only_rl, "train": 1.0 - config.train_only_rl}
    named, prefixes = set(made_up), tuple(config.train_only)
    by_ns: dict[tuple[bool, str], list[str]] = {}
    for doc_id in doc_ids:
        ns = _namespace(doc_id)
        by_ns.setdefault((doc_id in named or ns.startswith(prefixes), ns), []).append(doc_id)
    out: dict[str, str] = {}
    for (is_made_up, _), ids in by_ns.items():
        out.update(_cut(ids, made_up_shares if is_made_up else fractions, config.seed))
    return out


@dataclass
class Split:
    """Tasks by split, each document's split, and the tasks dropped because they straddle two splits."""

    tasks: dict[str, list[Task]] = field(default_factory=dict)
    documents: dict[str, str] = field(default_factory=dict)
    straddling: list[str] = field(default_factory=list)
    no_documents: list[str] = field(default_factory=list)
    capped: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        docs: dict[str, int] = {}
        for name in self.documents.values():
            docs[name] = docs.get(name, 0) + 1
        return {"tasks": {s: len(ts) for s, ts in self.tasks.items()}, "documents": docs,
                "dropped_straddling": len(self.straddling), "dropped_no_documents": len(self.no_documents),
                "capped": self.capped}


def split_by_entity(tasks: list[Task], config: SplitConfig, made_up: Collection[str] = ()) -> Split:
    """Assigns documents to splits, then each task to the split holding all its documents; `made_up`: ids of
    made-up documents outside the `train_only` prefixes (training only, see `assign_documents`)."""
    docs_of = {t.id: task_documents(t) for t in tasks}
    assigned = assign_documents(set().union(*docs_of.values()) if docs_of else set(), config, made_up)
    used = set(assigned.values())
    out = Split(tasks={s: [] for s in SPLITS if config.fractions.get(s, 0) > 0 or s in used}, documents=assigned)
    for task in tasks:
        docs = docs_of[task.id]
        if not docs:
            out.no_documents.append(task.id)
            continue
        names = {assigned[d] for d in docs}
        if len(names) > 1:
            out.straddling.append(task.id)
            continue
        name = names.pop()
        out.tasks[name].append(task.model_copy(update={"split": name}))
    left_out: list[Task] = []
    for name, cap in config.max_tasks.items():
        kept = out.tasks.get(name, [])
        if cap is not None and len(kept) > cap:
            out.capped[name] = len(kept) - cap
            chosen = set(random.Random(f"{config.seed}:{name}").sample(range(len(kept)), cap))
            out.tasks[name] = [t for i, t in enumerate(kept) if i in chosen]
            if name == "train":
                left_out = [t for i, t in enumerate(kept) if i not in chosen]
    if config.rl_from_train:
        _set_aside_for_rl(out, left_out, config)
    return out


def _set_aside_for_rl(out: Split, left_out: list[Task], config: SplitConfig) -> None:
    """Moves `rl_from_train` train-entity tasks to `rl`: those the train cap left out first, then train's own."""
    want = config.rl_from_train
    rng = random.Random(f"{config.seed}:rl")
    rl = [left_out[i] for i in sorted(rng.sample(range(len(left_out)), min(want, len(left_out))))]
    train = out.tasks.get("train", [])
    if len(rl) < want:
        taken = set(rng.sample(range(len(train)), min(want - len(rl), max(len(train) - 1, 0))))
        rl += [t for i, t in enumerate(train) if i in taken]
        out.tasks["train"] = [t for i, t in enumerate(train) if i not in taken]
    out.tasks["rl"] = [t.model_copy(update={"split": "rl"}) for t in rl]


def held_out_documents(tasks: list[Task]) -> set[str]:
    """Identifiers of the documents evaluation items rest on: evidence ids, and PMIDs / DOIs in metadata."""
    ids: set[str] = set()
    for task in tasks:
        ids |= task_documents(task)
        ids.update(f"{key}:{task.metadata[key]}" for key in ("pmid", "doi") if task.metadata.get(key))
    return ids


def training_documents(docs: list[Document], held_out: set[str]) -> tuple[list[Document], list[str]]:
    """`docs` without those an evaluation item rests on (by id, PMID or DOI); returns (kept, dropped ids)."""
    lowered = {h.lower() for h in held_out}
    kept, dropped = [], []
    for doc in docs:
        keys = {doc.id.lower()}
        if doc.pmid:
            keys.add(f"pmid:{doc.pmid}".lower())
        if doc.doi:
            keys.add(f"doi:{doc.doi}".lower())
        (dropped.append(doc.id) if keys & lowered else kept.append(doc))
    return kept, dropped
