"""Screening tasks before they cost rollouts or training: decontamination against eval sets, and dedup.

`load_eval_sets(specs)` loads the benchmarks to screen against ('auto' = every known one whose data is at
hand; NAME=FILE for gated or unshipped ones such as HLE and TRQA). `screen_tasks(tasks, config)` drops a task
whose question overlaps an eval item (word n-grams, `overlap.py`) at or above `contamination_overlap`, and,
with `dedup`, a task that overlaps an earlier kept task at or above `duplicate_overlap`. Each removal names the
item it matched and the overlap, so a user can audit the screen; kept tasks record the screens they passed in
`verification.filters_passed`.

Boilerplate shared by many questions of one set is ignored (`overlap.common_ngrams`). Only question stems are compared, not options: options are often shared boilerplate across a benchmark (SciFact's
three verdicts, "insufficient information"), and would make unrelated short questions look alike.

Numeric variants (the same question with other numbers, same entities: `variants.py`) are dropped too, and
`near_duplicate_index: minhash` swaps the n-gram dedup for MinHash LSH for sets of 10^5-10^6 tasks.

It does not judge whether a task is answerable or correct (synthesis verification does), and it does not
catch paraphrases with different words (lexical overlap only).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sciresearcher.data.config import ScreenConfig
from sciresearcher.data.overlap import Match, OverlapIndex, common_ngrams
from sciresearcher.data.variants import NearDuplicateIndex, VariantIndex, entity_key
from sciresearcher.errors import ConfigError, DataError
from sciresearcher.records import Task, Verification

log = logging.getLogger(__name__)

# In 'auto', these are skipped unless given as NAME=FILE: the Hub copy is gated (HLE) or there is none.
_NEEDS_FILE = ("hle-bio-chem-gold", "trqa-lit", "gpqa-diamond", "litqa2")


@dataclass
class EvalSets:
    """Eval items by benchmark, and the benchmarks that were asked for but could not be screened."""

    tasks: dict[str, list[Task]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # name -> why

    def summary(self) -> dict[str, Any]:
        return {"screened": {name: len(ts) for name, ts in self.tasks.items()}, "not_screened": self.skipped}


def load_eval_sets(specs: list[str]) -> EvalSets:
    """Loads each spec: a benchmark name, NAME=FILE, a task file, or 'auto'. Named sets that fail are errors."""
    from sciresearcher.tasks.registry import BENCHMARKS, load_benchmark

    out = EvalSets()
    for spec in specs:
        if spec == "auto":
            for name in BENCHMARKS:
                if name in out.tasks:
                    continue
                if name in _NEEDS_FILE:
                    out.skipped.setdefault(name, f"not at hand: pass eval_sets: [{name}=FILE] to screen it")
                    continue
                try:
                    out.tasks[name] = load_benchmark(name).tasks
                except DataError as exc:
                    out.skipped[name] = f"not at hand ({exc})"
            continue
        name, _, path = spec.partition("=")
        try:
            bench = load_benchmark(name, path=path or None)
        except (ConfigError, DataError) as exc:
            raise ConfigError(f"eval set {spec!r} cannot be loaded: {exc}",
                              hint="use a known benchmark name, NAME=FILE, or a task file; "
                              "`sciresearcher eval list` shows which are at hand") from exc
        out.tasks[bench.name] = bench.tasks
        out.skipped.pop(bench.name, None)
    for name, why in out.skipped.items():
        log.warning("eval set %s not screened: %s", name, why)
    return out


def eval_index(eval_sets: EvalSets, config: ScreenConfig, ignore: set[str] | None = None) -> OverlapIndex:
    """The eval questions, indexed without each set's boilerplate (and without `ignore`)."""
    ignore = set(ignore or ())
    for tasks in eval_sets.tasks.values():
        ignore |= common_ngrams([t.question for t in tasks], config.n)
    index = OverlapIndex(config.n, ignore)
    for name, tasks in eval_sets.tasks.items():
        for task in tasks:
            index.add(name, task.id, task.question)
    return index


def _match_info(match: Match) -> dict[str, Any]:
    return {"source": match.source, "item_id": match.item_id, "overlap": round(match.overlap, 4),
            "shared_ngrams": match.shared, "item_text": match.text[:300]}


@dataclass
class ScreenResult:
    kept: list[Task]
    removed: list[dict[str, Any]]  # {"id", "reason": contaminated|duplicate, "match": {...}}


def contamination(index: OverlapIndex, text: str, config: ScreenConfig) -> Match | None:
    """The eval item `text` overlaps at or above the threshold, or None."""
    match = index.best_match(text)
    return match if match is not None and match.overlap >= config.contamination_overlap else None


def screen_tasks(tasks: list[Task], config: ScreenConfig, eval_sets: EvalSets | None = None) -> ScreenResult:
    """Drops contaminated tasks, then numeric variants and near-duplicates (first in order stays); tags the rest."""
    eval_sets = eval_sets if eval_sets is not None else load_eval_sets(config.eval_sets)
    own_boilerplate = common_ngrams([t.question for t in tasks], config.n)
    index = eval_index(eval_sets, config, own_boilerplate)
    seen = OverlapIndex(config.n, index.ignore)
    variants = VariantIndex()
    entity_sets: dict[str, tuple[str, ...]] = {}
    near = NearDuplicateIndex(config.minhash_threshold) if config.near_duplicate_index == "minhash" else None
    if near is not None and config.dedup:
        near.prepare([t.question for t in tasks])
    kept: list[Task] = []
    removed: list[dict[str, Any]] = []
    passed = ["not_contaminated"] + (["not_duplicate"] if config.dedup else [])
    for task in tasks:
        text = task.question
        hit = contamination(index, text, config)
        if hit is not None:
            removed.append({"id": task.id, "reason": "contaminated", "match": _match_info(hit)})
            continue
        if config.dedup:
            entities = entity_key(task)
            first = variants.find(text, entities) if config.numeric_variants else None
            if first is not None:
                removed.append({"id": task.id, "reason": "numeric_variant", "match": {"item_id": first}})
                continue
            if near is not None:
                found = near.find(text)
                if found is not None:
                    removed.append({"id": task.id, "reason": "duplicate",
                                    "match": {"item_id": found[0], "jaccard": round(found[1], 4)}})
                    continue
                near.add(task.id, text)
            else:
                dup = seen.best_match(text)
                other = entity_sets.get(dup.item_id, ()) if dup is not None else ()
                about_others = bool(entities and other and entities != other)  # same wording, other entities
                if dup is not None and dup.overlap >= config.duplicate_overlap and not about_others:
                    removed.append({"id": task.id, "reason": "duplicate", "match": _match_info(dup)})
                    continue
                seen.add("tasks", task.id, text)
                entity_sets[task.id] = entities
            variants.add(task.id, text, entities)
        verification = task.verification or Verification()
        verification = verification.model_copy(update={"filters_passed": [
            *verification.filters_passed, *(p for p in passed if p not in verification.filters_passed)]})
        kept.append(task.model_copy(update={"verification": verification}))
    return ScreenResult(kept, removed)


def screen_summary(result: ScreenResult, eval_sets: EvalSets, source: str | Path) -> dict[str, Any]:
    reasons: dict[str, int] = {}
    for row in result.removed:
        reasons[row["reason"]] = reasons.get(row["reason"], 0) + 1
    return {"input": str(source), "tasks_in": len(result.kept) + len(result.removed), "kept": len(result.kept),
            "removed": reasons, **eval_sets.summary()}
