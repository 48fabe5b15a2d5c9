"""Reader latency on full PLOS papers: the first read of a paper (its paragraphs and sentences are embedded)
against re-reading it with a new goal (only the goal and unseen sentences are embedded), side by side.

The agent reads a paper, then often comes back to it for another detail; three-level evidence selection
with the dense model (the bundled all-MiniLM-L6-v2) is what costs time. The BM25-only figure is printed for
scale. Papers are the longest ones in ../shared/data/corpus/plos.jsonl.

Usage: python benchmarks/read_latency.py [--papers 5]
Last line: `first_read_s=<median> reread_s=<median> speedup=<first/reread>`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

GOALS = ["the main quantitative result and its units", "which methods or assays were used",
         "the organism, cell line or cohort studied"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "plos.jsonl")
    args = parser.parse_args()
    if not args.corpus.is_file():
        sys.exit(f"corpus {args.corpus} not found; pass --corpus PATH to a PLOS-style JSONL file")

    from sciresearcher.knowledge.evidence import EvidenceSelector
    from sciresearcher.knowledge.loaders import iter_jsonl
    from sciresearcher.knowledge.passages import paragraphs

    docs = sorted(iter_jsonl(args.corpus), key=lambda d: -len(d.text))[: args.papers]
    dense = EvidenceSelector(use_dense=True)
    if dense._encoder_or_none() is None:
        sys.exit("the dense model is not installed: pip install -e '.[retrieval]'")
    dense.select("warm up the model", [docs[-1]])  # loads weights and torch kernels outside the timing
    dense._encoder._cache.clear()
    lexical = EvidenceSelector(use_dense=False)
    first, again, bm25 = [], [], []
    for doc in docs:
        t = time.perf_counter()
        dense.select(GOALS[0], [doc])
        first.append(time.perf_counter() - t)
        for goal in GOALS[1:]:
            t = time.perf_counter()
            dense.select(goal, [doc])
            again.append(time.perf_counter() - t)
        t = time.perf_counter()
        lexical.select(GOALS[0], [doc])
        bm25.append(time.perf_counter() - t)
        print(json.dumps({"doc": doc.id, "chars": len(doc.text), "paragraphs": len(paragraphs(doc)),
                          "first_read_s": round(first[-1], 3), "reread_s": [round(x, 3) for x in again[-2:]],
                          "bm25_only_s": round(bm25[-1], 3)}), flush=True)
    f, r = statistics.median(first), statistics.median(again)
    print(json.dumps({"papers": len(docs), "bm25_only_median_s": round(statistics.median(bm25), 3)}))
    print(f"first_read_s={f:.3f} reread_s={r:.3f} speedup={f / r:.1f}")


if __name__ == "__main__":
    main()
