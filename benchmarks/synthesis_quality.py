"""Synthesis quality as a reviewer would measure it (issue 15): offline tasks, the paper writer, dedup, seeds.

For `--n` offline tasks (default 1,000) from `synth computational`'s templates: the ill-posed rate by the
independent checks (`synth/wellposed.py`), the share a reference-value solver answers from chemicals, mendeleev
and textbook values without the cited documents (`synth/reference_solver.py`), distinct (shape, entity set)
pairs, shapes (and how many are biology), mean operations and documents per task by difficulty. For the offline
paper writer on the shared PLOS and PubMedQA corpora: tasks, documents yielding one, kinds, ill-posed rate.
Numeric-variant dedup: every offline task with a distinct (shape, entity set) and one SciBench question per
exercise (its parts (a), (b) share a stem) gets a copy with its numbers changed; recall is the share of copies
`data clean`'s screen drops, the false-positive rate the share of distinct originals it drops. Seeds: the junk rate in the top 30 of each shared corpus against tests/synth/seed_labels.json.

Usage: python benchmarks/synthesis_quality.py [--n 1000] [--skip-papers] [--scale 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def offline(n: int) -> tuple[dict, list]:
    from sciresearcher.synth.computational import draft_tasks, to_task
    from sciresearcher.synth.config import SynthConfig
    from sciresearcher.synth.fact_corpus import fact_documents
    from sciresearcher.synth.reference_solver import answerable_without_documents
    from sciresearcher.synth.wellposed import check_task

    t0 = time.time()
    drafts = draft_tasks(SynthConfig(n=n, seed=0), fact_documents())
    tasks = [to_task(d, 0.01) for d in drafts]
    seconds = time.time() - t0
    ill = [(t.metadata["template"], check_task(t)) for t in tasks]
    by_diff: dict[str, list] = defaultdict(list)
    for d in drafts:
        by_diff[d.difficulty].append((d.operations, len(d.documents)))
    shapes = {d.template: d.domain for d in drafts}
    return {
        "tasks": len(tasks), "seconds_to_write": round(seconds, 1),
        "ill_posed_rate": sum(bool(r) for _, r in ill) / len(tasks),
        "ill_posed_examples": [x for x in ill if x[1]][:3],
        "reference_solver_share": sum(answerable_without_documents(t) for t in tasks) / len(tasks),
        "distinct_shape_entity_pairs_per_1000": round(len({(d.template, d.entities) for d in drafts}) * 1000 / len(drafts)),
        "shapes": len(shapes), "biology_shapes": sum(v == "biology" for v in shapes.values()),
        "by_difficulty": {k: {"tasks": len(v), "mean_operations": round(statistics.mean(o for o, _ in v), 2),
                              "mean_documents": round(statistics.mean(x for _, x in v), 2)}
                          for k, v in sorted(by_diff.items())},
    }, tasks


def _vary(text: str, rng: random.Random) -> str:
    """The same question with every free-standing number changed (format kept: decimals, thousands)."""
    from sciresearcher.data.variants import _NUMBER

    def change(m: re.Match) -> str:
        raw = m.group(0)
        digits = re.sub(r"[^\d.]", "", raw.split("e")[0].split("x")[0].split("×")[0])
        try:
            value = float(digits)
        except ValueError:
            return raw
        new = value * rng.choice((0.5, 1.5, 2, 3, 0.25)) + rng.choice((0, 1))
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        return raw.replace(digits, f"{new:.{decimals}f}", 1)

    return _NUMBER.sub(change, text)


def dedup(tasks: list) -> dict:
    from sciresearcher.data.config import ScreenConfig
    from sciresearcher.data.screen import EvalSets, screen_tasks
    from sciresearcher.records import Task

    rng = random.Random(0)
    pairs = Counter((t.metadata["template"], tuple(t.metadata["entities"])) for t in tasks)
    originals = [t for t in tasks if pairs[(t.metadata["template"], tuple(t.metadata["entities"]))] == 1]
    scibench = SHARED / "eval" / "scibench_chem.jsonl"
    if scibench.is_file():  # one part per exercise: parts (a), (b) of one exercise share their stem
        seen: set[str] = set()
        for line in scibench.read_text().splitlines():
            row = json.loads(line)
            base = re.sub(r"\([a-z]\)$", "", row["id"])
            if base not in seen:
                seen.add(base)
                originals.append(Task(id=row["id"], question=row["question"], answer="0"))
    variants = []
    for t in originals:
        changed = _vary(t.question, rng)
        if changed != t.question:
            variants.append(t.model_copy(update={"id": t.id + "-variant", "question": changed}))
    result = screen_tasks(originals + variants, ScreenConfig(eval_sets=[]), EvalSets())
    removed = {r["id"]: r["reason"] for r in result.removed}
    return {"originals": len(originals), "variants": len(variants),
            "recall": sum(v.id in removed for v in variants) / max(len(variants), 1),
            "false_positive_rate": sum(o.id in removed for o in originals) / max(len(originals), 1),
            "removed_originals": Counter(removed[o.id] for o in originals if o.id in removed)}


def scale(n: int) -> dict:
    """Throughput of the MinHash LSH near-duplicate index on n synthetic questions (signatures in bulk)."""
    from sciresearcher.data.variants import NearDuplicateIndex

    rng = random.Random(0)
    vocab = [f"w{i}" for i in range(5000)]
    texts = [" ".join(rng.choice(vocab) for _ in range(rng.randint(12, 30))) + f" item {i}?" for i in range(n)]
    t0 = time.time()
    index = NearDuplicateIndex(threshold=0.8)
    index.prepare(texts)
    for i, text in enumerate(texts):
        index.find(text)
        index.add(str(i), text)
    seconds = time.time() - t0
    return {"tasks": n, "seconds": round(seconds, 1), "tasks_per_second": round(n / seconds)}


def papers(limit: int | None) -> dict:
    from sciresearcher.knowledge.evidence import EvidenceSelector
    from sciresearcher.knowledge.loaders import load_file
    from sciresearcher.synth.paper_writer import paper_tasks
    from sciresearcher.synth.wellposed import check_task

    out = {}
    selector = EvidenceSelector(use_dense=False)
    for name in ("plos", "pubmedqa"):
        docs = load_file(SHARED / "corpus" / f"{name}.jsonl")[:limit]
        t0 = time.time()
        per_doc = [paper_tasks(d, selector) for d in docs]
        tasks = [t for ts in per_doc for t in ts]
        out[name] = {"documents": len(docs), "tasks": len(tasks), "documents_with_a_task": sum(bool(x) for x in per_doc),
                     "cited": sum(bool(t.evidence) for t in tasks),
                     "kinds": dict(Counter(t.metadata["template"] for t in tasks)),
                     "ill_posed_rate": sum(bool(check_task(t)) for t in tasks) / max(len(tasks), 1),
                     "mean_operations": round(statistics.mean(t.metadata["operations"] for t in tasks), 2) if tasks else 0,
                     "seconds": round(time.time() - t0, 1)}
    return out


def seeds() -> dict:
    from sciresearcher.knowledge.loaders import load_file
    from sciresearcher.synth.seeds import SeedConfig, select_seeds

    labels = json.loads((ROOT / "tests" / "synth" / "seed_labels.json").read_text())
    out = {}
    for name in ("pubmedqa", "plos"):
        top = asyncio.run(select_seeds(load_file(SHARED / "corpus" / f"{name}.jsonl"), SeedConfig(top_k=30)))
        tags = [labels[name].get(s.entity, "unlabelled") for s in top]
        out[name] = {"junk_rate_top30": tags.count("junk") / len(top), "unlabelled": tags.count("unlabelled"),
                     "junk": [s.entity for s, t in zip(top, tags) if t == "junk"]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--skip-papers", action="store_true")
    parser.add_argument("--paper-limit", type=int, default=None, help="documents per corpus for the paper writer")
    parser.add_argument("--scale", type=int, default=0, help="also time the MinHash index on this many questions")
    args = parser.parse_args()
    report, tasks = offline(args.n)
    report = {"offline": report, "dedup": dedup(tasks), "seeds": seeds()}
    if not args.skip_papers:
        report["papers"] = papers(args.paper_limit)
    if args.scale:
        report["minhash_scale"] = scale(args.scale)
    print(json.dumps(report, indent=1, default=str))
    o, d = report["offline"], report["dedup"]
    goals = [
        ("ill-posed offline tasks", o["ill_posed_rate"], "== 0", o["ill_posed_rate"] == 0),
        ("reference-value solver share", round(o["reference_solver_share"], 3), "<= 0.30",
         o["reference_solver_share"] <= 0.30),
        ("distinct (shape, entity set) per 1000", o["distinct_shape_entity_pairs_per_1000"], ">= 600",
         o["distinct_shape_entity_pairs_per_1000"] >= 600),
        ("mean operations, medium / hard", (o["by_difficulty"].get("medium", {}).get("mean_operations"),
                                            o["by_difficulty"].get("hard", {}).get("mean_operations")), ">= 3",
         all(o["by_difficulty"][k]["mean_operations"] >= 3 for k in ("medium", "hard") if k in o["by_difficulty"])),
        ("shapes (biology)", (o["shapes"], o["biology_shapes"]), ">= 20, biology > 0",
         o["shapes"] >= 20 and o["biology_shapes"] > 0),
        ("numeric-variant recall", round(d["recall"], 3), ">= 0.95", d["recall"] >= 0.95),
        ("numeric-variant false positives", round(d["false_positive_rate"], 4), "<= 0.01",
         d["false_positive_rate"] <= 0.01),
        *[(f"seed junk top 30, {c}", round(v["junk_rate_top30"], 3), "<= 0.10", v["junk_rate_top30"] <= 0.10)
          for c, v in report["seeds"].items()],
        *[(f"paper writer tasks, {c}", v["tasks"], "> 0 cited", v["cited"] > 0)
          for c, v in report.get("papers", {}).items()],
    ]
    print("\ngoal                                      value                 target        met")
    for name, value, target, met in goals:
        print(f"{name:41s} {value!s:21s} {target:13s} {'yes' if met else 'NO'}")


if __name__ == "__main__":
    main()
