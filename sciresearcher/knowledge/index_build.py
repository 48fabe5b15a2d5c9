"""Building and updating the local index on disk: `build_index` and the writing of its folder.

On disk (one folder): `manifest.json` (format, corpus hash, model, parameters, counts; written last, so
its presence means the index is complete), `documents.jsonl`, `passages.jsonl`, `hashes.json`, `bm25/`
(bm25s), `dense.npy` (normalised embeddings, row = passage). `build_index` reuses an index whose manifest
matches, adds only new documents when nothing else changed, and rebuilds otherwise; with an `EmbeddingStore`
(the CLI's default) passages embedded by any earlier build with the same model are read back instead of embedded
again (benchmarks/index_build.py). The folder is written next to the target and swapped in whole.
Not here: loading and searching (index.py); loaders, evidence selection and the tools live elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from pathlib import Path

import numpy as np

from sciresearcher.errors import DataError
from sciresearcher.knowledge.embedding import EmbeddingStore, Encoder, Precision, tokenize
from sciresearcher.knowledge.index import (
    FORMAT,
    INDEX_MAX_TOKENS,
    INDEX_PRECISION,
    LocalIndex,
    Passage,
    _bm25_text,
    _params,
    doc_hash,
)
from sciresearcher.knowledge.passages import MAX_PARAGRAPH_WORDS, paragraphs
from sciresearcher.records import Document

log = logging.getLogger(__name__)


def _passages_for(docs: list[Document], start: int, max_words: int) -> list[Passage]:
    out = []
    for i, doc in enumerate(docs, start):
        for par in paragraphs(doc, max_words):
            out.append(Passage(i, par.passage.text, par.passage.locator))
    return out


def _write_bm25(tmp: Path, documents: list[Document], passages: list[Passage], k1: float, b: float) -> None:
    import bm25s

    from sciresearcher.knowledge.progress import track

    tokens = [tokenize(_bm25_text(documents[p.doc].title, p.text))
              for p in track(passages, "tokenizing passages", total=len(passages))]
    retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
    retriever.index(tokens, show_progress=False)
    retriever.save(str(tmp / "bm25"))


def _embed(passages: list[Passage], documents: list[Document], enc: Encoder,
           store: EmbeddingStore | None, stats: dict) -> np.ndarray:
    texts = [f"{documents[p.doc].title}. {p.text}" if documents[p.doc].title else p.text for p in passages]
    log.info("embedding %d passages with %s%s", len(texts), enc.name,
             f" (embedding cache {store.root})" if store is not None else "")
    started = time.perf_counter()
    vecs = enc.encode(texts, progress=len(texts) > 500, store=store)
    from_cache = enc.last_stored if store is not None else 0
    stats.update(embed_s=stats.get("embed_s", 0.0) + time.perf_counter() - started,
                 passages_embedded=stats.get("passages_embedded", 0) + len(texts) - from_cache,
                 embeddings_from_cache=stats.get("embeddings_from_cache", 0) + from_cache)
    return vecs


def build_index(docs: list[Document], out: Path | str, *, dense: bool = True, model: str | None = None,
                k1: float = 1.2, b: float = 0.75, max_paragraph_words: int = MAX_PARAGRAPH_WORDS,
                sources: list[str] | None = None, embedding_store: EmbeddingStore | None = None,
                precision: Precision = INDEX_PRECISION, max_tokens: int | None = INDEX_MAX_TOKENS) -> LocalIndex:
    """Builds the index at `out`, reusing or incrementally extending a matching one already there. With
    `embedding_store`, passages embedded by an earlier build (any index, same model) are not embedded again.
    `precision` and `max_tokens` say how passages (and later the queries) are embedded. The defaults (int8, 160
    tokens) were chosen on the validation half of SciFact's claims: the fewest tokens whose hybrid nDCG@10 stays
    within 0.005 of fp32 at 256 tokens (128 tokens lost 0.006). On the test half: hybrid 0.751 vs 0.755, dense
    0.650 vs 0.669 (`--max-tokens 0` keeps dense at 0.666); the first SciFact build is several times faster
    (benchmarks/retrieval.py --half, benchmarks/index_build.py).
    The returned index's `build_stats` say what the build did: seconds, documents added, passages embedded or
    read from the store, seconds spent embedding."""
    started = time.perf_counter()
    stats: dict = {"documents_added": 0, "passages_embedded": 0, "embeddings_from_cache": 0, "embed_s": 0.0}
    encoder = Encoder(model, precision=precision, max_tokens=max_tokens) if dense else None
    index = _build(docs, Path(out), encoder, k1, b, max_paragraph_words, sources, embedding_store, stats)
    stats["seconds"] = time.perf_counter() - started
    stats["documents_per_s"] = stats["documents_added"] / stats["seconds"] if stats["seconds"] > 0 else 0.0
    index.build_stats = stats
    if stats["documents_added"]:
        log.info("index %s built in %.1fs: %d documents (%.1f documents/s), %d passages embedded, %d from the "
                 "embedding cache", out, stats["seconds"], stats["documents_added"], stats["documents_per_s"],
                 stats["passages_embedded"], stats["embeddings_from_cache"])
    return index


def _build(docs: list[Document], out: Path, encoder: Encoder | None, k1: float, b: float,
           max_paragraph_words: int, sources: list[str] | None, store: EmbeddingStore | None,
           stats: dict) -> LocalIndex:
    """The build itself; `encoder` is None for a BM25-only index."""
    if not docs:
        raise DataError("the corpus is empty: no documents to index",
                        hint="check the SOURCES paths (JSONL, PDF, XML, HTML, TXT, MD files or folders of them)")
    params = _params(encoder is not None, encoder.name if encoder else None, k1, b, max_paragraph_words,
                     encoder.precision if encoder else "fp32", encoder.max_tokens if encoder else None)
    hashes = {d.id: doc_hash(d) for d in docs}
    old: LocalIndex | None = None
    if (out / "manifest.json").exists():
        manifest = json.loads((out / "manifest.json").read_text())
        same = manifest.get("params") == params
        old_hashes = json.loads((out / "hashes.json").read_text()) if (out / "hashes.json").exists() else {}
        changed = [i for i, h in old_hashes.items() if i in hashes and hashes[i] != h]
        if same and not changed:
            old = LocalIndex.load(out)
        else:
            log.warning("rebuilding index %s: %s", out, "parameters changed" if not same else f"{len(changed)} documents changed")
    if old is not None:
        new_docs = [d for d in docs if d.id not in old._by_id]
        if not new_docs:
            log.info("index %s is up to date (%d documents)", out, len(old.documents))
            return old
        log.info("adding %d new documents to %s", len(new_docs), out)
        stats["documents_added"] = len(new_docs)
        documents = list(old.documents) + new_docs
        passages = list(old.passages) + _passages_for(new_docs, len(old.documents), max_paragraph_words)
        new_rows = passages[len(old.passages):]
        emb = None
        if encoder is not None:
            emb = np.concatenate([np.asarray(old.dense), _embed(new_rows, documents, encoder, store, stats)]) \
                if old.dense is not None else _embed(passages, documents, encoder, store, stats)
        hashes = {**json.loads((out / "hashes.json").read_text()), **{d.id: hashes[d.id] for d in new_docs}}
    else:
        documents = list({d.id: d for d in docs}.values())
        stats["documents_added"] = len(documents)
        passages = _passages_for(documents, 0, max_paragraph_words)
        if not passages:
            raise DataError("the corpus has no text: every document is empty")
        emb = _embed(passages, documents, encoder, store, stats) if encoder is not None else None
    return _write(out, documents, passages, emb, hashes, params, sources)


def _write(out: Path, documents: list[Document], passages: list[Passage], emb: np.ndarray | None,
           hashes: dict, params: dict, sources: list[str] | None) -> LocalIndex:
    tmp = out.with_name(out.name + ".tmp-build")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with (tmp / "documents.jsonl").open("w", encoding="utf-8") as fh:
        for d in documents:
            fh.write(d.model_dump_json(exclude_defaults=True) + "\n")
    with (tmp / "passages.jsonl").open("w", encoding="utf-8") as fh:
        for p in passages:
            fh.write(json.dumps({"d": p.doc, "t": p.text, "l": p.locator.model_dump(exclude_none=True)}, ensure_ascii=False) + "\n")
    (tmp / "hashes.json").write_text(json.dumps(hashes))
    _write_bm25(tmp, documents, passages, params["bm25"]["k1"], params["bm25"]["b"])
    if emb is not None:
        np.save(tmp / "dense.npy", emb.astype(np.float32))
    corpus_hash = hashlib.sha256("".join(f"{k}:{hashes[k]}" for k in sorted(hashes)).encode()).hexdigest()[:32]
    manifest = {"format": FORMAT, "params": params, "dense": params["dense"], "model": params["model"],
                "corpus_hash": corpus_hash, "documents": len(documents), "passages": len(passages),
                "dim": int(emb.shape[1]) if emb is not None else None, "sources": sources or [],
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        (out / "manifest.json").unlink(missing_ok=True)  # an interrupted swap leaves no half-valid index
        shutil.rmtree(out)
    tmp.rename(out)
    log.info("index %s: %d documents, %d passages%s", out, len(documents), len(passages),
             f", dense {params['model']}" if emb is not None else "")
    return LocalIndex.load(out)
