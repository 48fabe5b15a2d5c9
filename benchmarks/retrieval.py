"""Retrieval quality on SciFact-style claims: document level (nDCG@10, recall@100) or sentence level.

Document level: every claim is a query and its `cited_docs` are the relevant set (BEIR's SciFact
judgements, so claims without evidence count too); binary-relevance nDCG@10 and recall@100 over the local
index (`--mode bm25|dense|hybrid`). Sentence level (`--level sentence`): for each claim with rationales and
each gold document, three-level evidence selection picks 3 sentences from that document; recall@3 of the
gold rationale sentences, averaged over (claim, document) pairs.

Usage:
  python benchmarks/retrieval.py --corpus ../shared/data/corpus/scifact.jsonl \
      --claims ../shared/data/eval/scifact_claims_train.jsonl --mode hybrid [--level sentence] \
      [--precision int8|fp32] [--max-tokens N] [--half validation|test]

Embedding settings (precision, tokens read per passage) are chosen on the validation half of the claims and
reported on the test half (`--half`); the index build's defaults came from that split.

The index is cached under `.cache/retrieval/` (rebuilt when the corpus or parameters change).
Last line: `ndcg@10=<x> recall@100=<y>` or `sentence_recall@3=<x>`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def ndcg_at_k(ranked: list[str], relevant: set[str], k: int = 10) -> float:
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def load_claims(path: Path, limit: int | None) -> list[dict]:
    claims = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                try:
                    claims.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    sys.exit(f"{path}:{lineno}: not valid JSON ({exc.msg})")
    return claims[:limit] if limit else claims


def half(args: argparse.Namespace, claims: list[dict]) -> list[dict]:
    """Alternate claims: odd positions are the validation half, even ones the test half."""
    if args.half == "all":
        return claims
    return claims[1::2] if args.half == "validation" else claims[0::2]


def doc_level(args: argparse.Namespace) -> None:
    from sciresearcher.knowledge.index_build import build_index
    from sciresearcher.knowledge.loaders import load_sources

    docs = load_sources([args.corpus]).documents
    key = hashlib.sha1(f"{Path(args.corpus).resolve()}:{args.mode != 'bm25'}:{args.model}:{args.precision}:"
                       f"{args.max_tokens}".encode()).hexdigest()[:10]
    index_dir = Path(args.index_dir) if args.index_dir else ROOT / ".cache" / "retrieval" / f"{Path(args.corpus).stem}-{key}"
    t0 = time.perf_counter()
    store = None
    if args.embedding_cache:
        from sciresearcher.knowledge.embedding import EmbeddingStore

        store = EmbeddingStore(args.embedding_cache)
    index = build_index(docs, index_dir, dense=args.mode != "bm25", model=args.model, sources=[str(args.corpus)],
                        embedding_store=store, precision=args.precision, max_tokens=args.max_tokens or None)
    print(f"index: {index_dir} ({len(index.documents)} docs, {len(index.passages)} passages, "
          f"ready in {time.perf_counter() - t0:.1f}s)")
    claims = half(args, [c for c in load_claims(Path(args.claims), args.limit) if c.get("cited_docs") or c.get("evidence")])
    vecs = [None] * len(claims)
    t_encode = 0.0
    if args.mode != "bm25":  # queries are embedded in one batch; per-query time below is retrieval only
        t = time.perf_counter()
        vecs = list(index.encoder.encode([c["claim"] for c in claims]))
        t_encode = time.perf_counter() - t
    ndcgs, recalls, t_query = [], [], 0.0
    for claim, vec in zip(claims, vecs):
        relevant = set(claim.get("cited_docs") or claim.get("evidence", {}).keys())
        t = time.perf_counter()
        hits = index.search(claim["claim"], k=100, mode=args.mode, weight=args.weight, fusion=args.fusion,
                            depth=args.depth, query_vec=vec)
        t_query += time.perf_counter() - t
        ranked = [h.doc_id for h in hits]
        ndcgs.append(ndcg_at_k(ranked, relevant))
        recalls.append(len(relevant & set(ranked[:100])) / len(relevant))
    n = len(ndcgs)
    print(f"mode={args.mode} fusion={args.fusion} weight={args.weight} precision={args.precision} "
          f"max_tokens={args.max_tokens or 'model'} claims={args.half} queries={n} "
          f"mean_query_ms={1000 * t_query / max(n, 1):.1f} query_encoding_s={t_encode:.1f}")
    print(f"ndcg@10={sum(ndcgs) / n:.4f} recall@100={sum(recalls) / n:.4f}")


def sentence_level(args: argparse.Namespace) -> None:
    from sciresearcher.knowledge.embedding import Encoder
    from sciresearcher.knowledge.evidence import EvidenceSelector
    from sciresearcher.knowledge.loaders import load_sources

    docs = {d.id: d for d in load_sources([args.corpus]).documents}
    # the reader embeds as the index it reads from does (agent/toolbox.py hands it the index's encoder)
    encoder = Encoder(args.model, precision=args.precision, max_tokens=args.max_tokens or None)
    selector = EvidenceSelector(use_dense=args.mode != "bm25", model=args.model, encoder=encoder)
    claims = half(args, [c for c in load_claims(Path(args.claims), args.limit) if c.get("cited_docs") or c.get("evidence")])
    recalls = []
    for claim in claims:
        for doc_id, rationales in (claim.get("evidence") or {}).items():
            gold = {s for r in rationales for s in r.get("sentences", [])}
            if not gold or doc_id not in docs:
                continue
            ev = selector.sentences(claim["claim"], [docs[doc_id]], k=3)
            picked = {e.locator.sentence for e in ev}
            recalls.append(len(gold & picked) / len(gold))
    print(f"mode={args.mode} precision={args.precision} max_tokens={args.max_tokens or 'model'} claims={args.half} "
          f"pairs={len(recalls)}")
    print(f"sentence_recall@3={sum(recalls) / max(len(recalls), 1):.4f}")


def main() -> None:
    from sciresearcher.knowledge.index import INDEX_MAX_TOKENS, INDEX_PRECISION

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=str(SHARED / "corpus" / "scifact.jsonl"))
    p.add_argument("--claims", default=str(SHARED / "eval" / "scifact_claims_train.jsonl"))
    p.add_argument("--mode", choices=["bm25", "dense", "hybrid"], default="hybrid")
    p.add_argument("--level", choices=["document", "sentence"], default="document")
    p.add_argument("--model", default=None, help="sentence-transformers model (default: bundled all-MiniLM-L6-v2)")
    p.add_argument("--weight", type=float, default=0.5, help="dense weight in hybrid fusion")
    p.add_argument("--fusion", choices=["zscore", "rrf"], default="zscore")
    p.add_argument("--depth", type=int, default=200, help="candidates taken from each retriever for fusion")
    p.add_argument("--index-dir", default=None, help="where to cache the index (default .cache/retrieval/...)")
    p.add_argument("--limit", type=int, default=None, help="only the first N claims")
    p.add_argument("--embedding-cache", default=None, help="embedding cache folder (as `index build` uses; default: none)")
    p.add_argument("--precision", choices=["int8", "fp32"], default=INDEX_PRECISION, help="how passages and queries "
                   "are embedded (int8: the model's int8 ONNX twin)")
    p.add_argument("--max-tokens", type=int, default=INDEX_MAX_TOKENS, help="tokens of a passage the model reads "
                   "(0 = the model's own limit)")
    p.add_argument("--half", choices=["all", "validation", "test"], default="all", help="claims at odd positions "
                   "(validation: choose settings there) or even ones (test: report there)")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    if args.level == "sentence":
        sentence_level(args)
    else:
        doc_level(args)


if __name__ == "__main__":
    main()
