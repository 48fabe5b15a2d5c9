"""Index build speed, side by side in one run: where the time goes, and what the embedding cache saves.

Sides, all over the same documents (the first `--limit` of the corpus; 0 = all of it):
  before        build_index as before this change: every passage embedded (no embedding cache);
  after, cold   build_index with an empty embedding cache: the same work, plus writing the cache;
  after, warm   another build of the same corpus (a new index folder, or a rebuild after a parameter change)
                with the cache the cold side filled: only new passages are embedded.
For each side it prints seconds, documents/s and the speedup over `before`; first it prints where a build's time
goes (loading, paragraphs, embedding vs BM25 and writing), the passages embedded, their token lengths against the
model's limit, the batch size and torch's threads. The full SciFact corpus (5,183 abstracts) takes tens of minutes
per embedding side on 2 shared cores, so the default is a subset; pass --limit 0 for all of it.

Usage:
  python benchmarks/index_build.py [--corpus ../shared/data/corpus/scifact.jsonl] [--limit 500]
Last line: `before=<s> after_cold=<s> after_warm=<s> speedup_warm=<x>`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=str(SHARED / "corpus" / "scifact.jsonl"))
    p.add_argument("--limit", type=int, default=500, help="first N documents (0 = the whole corpus)")
    p.add_argument("--model", default=None, help="sentence-transformers model (default: bundled all-MiniLM-L6-v2)")
    args = p.parse_args()
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)  # bm25s sets its own logger to DEBUG
    logging.basicConfig(level=logging.WARNING, handlers=[handler])

    import numpy as np
    import torch

    from sciresearcher.knowledge.embedding import EmbeddingStore, Encoder
    from sciresearcher.knowledge.index import _passages_for, build_index
    from sciresearcher.knowledge.loaders import load_sources

    t = time.perf_counter()
    docs = load_sources([args.corpus]).documents
    docs = docs[: args.limit] if args.limit else docs
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    passages = _passages_for(docs, 0, 400)
    passages_s = time.perf_counter() - t
    enc = Encoder(args.model)
    texts = [f"{docs[p.doc].title}. {p.text}" if docs[p.doc].title else p.text for p in passages]
    lengths = np.array([len(ids) for ids in enc.model.tokenizer(texts[:2000], verbose=False)["input_ids"]])
    limit = enc.model.max_seq_length
    print(f"corpus {args.corpus}: {len(docs)} documents ({'all' if not args.limit else f'first {args.limit}'}), "
          f"loaded in {load_s:.1f}s; {len(passages)} passages (paragraphs, title in front) in {passages_s:.2f}s")
    print(f"embedded per build: {len(passages)} passages, no sentences (the reader embeds those when it reads); "
          f"tokens per passage median {int(np.median(lengths))}, {np.mean(lengths > limit):.0%} over the model's "
          f"limit of {limit} (cut there); batch size {enc.batch_size}; torch threads {torch.get_num_threads()}")

    sides = {}
    with tempfile.TemporaryDirectory(prefix="index-build-bench-") as tmp:
        store_dir = Path(tmp) / "store"
        for name, store, out in (("before", None, "before"), ("after, cold", EmbeddingStore(store_dir), "cold"),
                                 ("after, warm", EmbeddingStore(store_dir), "warm")):
            t = time.perf_counter()
            index = build_index(docs, Path(tmp) / out, embedding_store=store)
            seconds = time.perf_counter() - t
            stats = index.build_stats or {}
            sides[name] = seconds
            print(f"{name:12s} {seconds:8.1f}s  {len(docs) / seconds:8.1f} documents/s  embedding {stats['embed_s']:7.1f}s "
                  f"({stats['passages_embedded']} embedded, {stats['embeddings_from_cache']} from the cache), "
                  f"BM25 + writing {seconds - stats['embed_s']:5.1f}s  speedup {sides['before'] / seconds:6.1f}x",
                  flush=True)
    print(f"before={sides['before']:.1f} after_cold={sides['after, cold']:.1f} after_warm={sides['after, warm']:.1f} "
          f"speedup_warm={sides['before'] / sides['after, warm']:.1f}")


if __name__ == "__main__":
    main()
