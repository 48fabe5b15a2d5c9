"""Index build speed, side by side in one run: the first build before and after int8 embedding, and what the
embedding cache saves on later builds.

Sides, all over the same documents (the first `--limit` of the corpus; 0 = all of it):
  fp32, before  a first build as it was: sentence-transformers fp32, the model's own 256-token limit, no cache;
  int8, first   a first build now (the defaults): the model's int8 ONNX twin, exported into an empty cache folder
                (the one-time export is counted), the default tokens per passage (INDEX_MAX_TOKENS), an empty embedding cache filled on the way;
  int8, warm    another build of the same corpus (a new index folder, or a rebuild after a parameter change)
                with the embedding cache the first one filled: only new passages are embedded.
For each side it prints seconds, documents/s and the speedup over `fp32, before`; first it prints where a build's
time goes (loading, paragraphs, embedding vs BM25 and writing), the passages embedded, their token lengths against
the limits, and the threads. Retrieval quality of the same settings: benchmarks/retrieval.py --precision/--max-tokens.

Usage:
  python benchmarks/index_build.py [--corpus ../shared/data/corpus/scifact.jsonl] [--limit 500]
Last line: `before=<s> after_cold=<s> after_warm=<s> speedup_cold=<x> speedup_warm=<x>`.
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
    from sciresearcher.knowledge.index import INDEX_MAX_TOKENS, INDEX_PRECISION
    from sciresearcher.knowledge.index_build import _passages_for, build_index
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
    lengths = np.array([len(ids) for ids in enc.model.tokenizer(texts, verbose=False)["input_ids"]])
    limit, cut = enc.model.max_seq_length, INDEX_MAX_TOKENS
    print(f"corpus {args.corpus}: {len(docs)} documents ({'all' if not args.limit else f'first {args.limit}'}), "
          f"loaded in {load_s:.1f}s; {len(passages)} passages (paragraphs, title in front) in {passages_s:.2f}s")
    print(f"embedded per build: {len(passages)} passages, no sentences (the reader embeds those when it reads); "
          f"tokens per passage median {int(np.median(lengths))}, {np.mean(lengths > limit):.0%} over the model's "
          f"limit of {limit}, {np.mean(lengths > cut):.0%} over the index default of {cut}; tokens embedded "
          f"{np.minimum(lengths, limit).sum()} at {limit}, {np.minimum(lengths, cut).sum()} at {cut}; torch threads "
          f"{torch.get_num_threads()}")

    sides: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="index-build-bench-") as tmp:
        os.environ["SCIRESEARCHER_CACHE_DIR"] = str(Path(tmp) / "cache")  # the int8 export starts from nothing
        store_dir = Path(tmp) / "store"
        for name, store, out, precision, max_tokens in (
                ("fp32, before", None, "before", "fp32", None),
                ("int8, first", EmbeddingStore(store_dir), "cold", INDEX_PRECISION, INDEX_MAX_TOKENS),
                ("int8, warm", EmbeddingStore(store_dir), "warm", INDEX_PRECISION, INDEX_MAX_TOKENS)):
            t = time.perf_counter()
            index = build_index(docs, Path(tmp) / out, model=args.model, embedding_store=store, precision=precision,
                                max_tokens=max_tokens)
            seconds = time.perf_counter() - t
            stats = index.build_stats or {}
            sides[name] = seconds
            export = ""
            if name == "int8, first":
                from sciresearcher.knowledge.embedding import cache_dir
                from sciresearcher.knowledge.onnx_int8 import int8_embedder

                int8 = int8_embedder(enc.model, enc.name, cache_dir("onnx"))
                export = f", of which the one-time int8 export {int8.export_s:.1f}s"
            print(f"{name:12s} {seconds:8.1f}s  {len(docs) / seconds:8.1f} documents/s  embedding {stats['embed_s']:7.1f}s "
                  f"({stats['passages_embedded']} embedded, {stats['embeddings_from_cache']} from the cache{export}), "
                  f"BM25 + writing {seconds - stats['embed_s']:5.1f}s  speedup {sides['fp32, before'] / seconds:6.1f}x",
                  flush=True)
    before, cold, warm = sides["fp32, before"], sides["int8, first"], sides["int8, warm"]
    print(f"before={before:.1f} after_cold={cold:.1f} after_warm={warm:.1f} speedup_cold={before / cold:.2f} "
          f"speedup_warm={before / warm:.1f}")


if __name__ == "__main__":
    main()
