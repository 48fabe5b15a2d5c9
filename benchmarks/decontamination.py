"""How well the n-gram screen catches eval questions leaking into training tasks, and how often it flags clean ones.

Positives: every question of the eval sets at hand (SuperGPQA hard biology, PubMedQA, SciBench, SciFact claims),
perturbed as a synthesis pipeline or a careless copy would: verbatim, wrapped in extra text, with 10% / 25% of
its words dropped, and cut to its first 60%. Each is screened against the index of all eval sets. Negatives:
each set's questions screened against the *other* sets (different sources, so a hit is a false positive).
Recall and false-positive rate are printed per threshold.

Usage: python benchmarks/decontamination.py [--n 5] [--seed 0]
Last line: `recall_at_default=<mean recall over perturbations> fpr_at_default=<rate> threshold=<default>`.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys

from sciresearcher.data.config import ScreenConfig
from sciresearcher.data.screen import EvalSets, eval_index, load_eval_sets

THRESHOLDS = (0.1, 0.2, 0.3, 0.5, 0.7)


def perturbations(question: str, rng: random.Random, filler: list[str]) -> dict[str, str]:
    words = question.split()

    def drop(share: float) -> str:
        return " ".join(w for w in words if rng.random() >= share)

    return {
        "verbatim": question,
        "wrapped": f"Background: {rng.choice(filler)} Question: {question} Explain your reasoning step by step.",
        "drop10": drop(0.10),
        "drop25": drop(0.25),
        "first60": " ".join(words[: max(1, int(len(words) * 0.6))]),
    }


def corpus_sentences(limit: int) -> list[str]:
    """Filler text that is not from any eval set: titles of the PLOS papers in the shared corpus."""
    import json

    from sciresearcher.tasks.benchmark import shared_data_dir

    path = shared_data_dir() / "corpus" / "plos.jsonl"
    if not path.is_file():
        return ["We consider a cell culture grown under standard conditions."]
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line)["title"] + "." for line, _ in zip(fh, range(limit), strict=False)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=ScreenConfig().n)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    rng = random.Random(args.seed)
    config = ScreenConfig(n=args.n)
    sets = load_eval_sets(["auto"])
    if not sets.tasks:
        sys.exit("no eval sets at hand: run from a checkout beside ../shared/data")
    index = eval_index(sets, config)
    filler = corpus_sentences(200)

    recall: dict[str, dict[float, float]] = {}
    for kind in ("verbatim", "wrapped", "drop10", "drop25", "first60"):
        hits = {th: 0 for th in THRESHOLDS}
        total = 0
        for name, tasks in sets.tasks.items():
            for task in tasks:
                text = perturbations(task.question, rng, filler)[kind]
                match = index.best_match(text)
                total += 1
                right = match is not None and match.source == name and match.item_id == task.id
                for th in THRESHOLDS:
                    hits[th] += int(right and match.overlap >= th)
        recall[kind] = {th: hits[th] / total for th in THRESHOLDS}
        print(f"recall {kind:9s} " + "  ".join(f"@{th}: {recall[kind][th]:.3f}" for th in THRESHOLDS)
              + f"  (n={total})")

    flagged = {th: 0 for th in THRESHOLDS}
    negatives = 0
    for name, tasks in sets.tasks.items():
        others = EvalSets(tasks={k: v for k, v in sets.tasks.items() if k != name})
        other_index = eval_index(others, config)
        for task in tasks:
            match = other_index.best_match(task.question)
            negatives += 1
            for th in THRESHOLDS:
                flagged[th] += int(match is not None and match.overlap >= th)
    fpr = {th: flagged[th] / negatives for th in THRESHOLDS}
    print("false positives (cross-set) " + "  ".join(f"@{th}: {fpr[th]:.4f}" for th in THRESHOLDS)
          + f"  (n={negatives})")
    default = config.contamination_overlap
    mean_recall = sum(r[default] for r in recall.values()) / len(recall)
    print(f"recall_at_default={mean_recall:.3f} fpr_at_default={fpr[default]:.4f} threshold={default}")


if __name__ == "__main__":
    main()
