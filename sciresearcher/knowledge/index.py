"""The local literature index: BM25 (bm25s), dense (sentence-transformers + faiss) and hybrid fusion.

Paragraphs (`knowledge/passages.py`) are the retrieval unit; a document's score is its best paragraph's.
Each paragraph is indexed with its document title in front (a cheap title field). Hybrid fusion is
normalised score fusion: over the union of both retrievers' top `depth` candidates, each side's scores are
z-normalised (mean 0, sd 1 over the candidates) and mixed as `(1-w)*bm25 + w*dense`; `fusion="rrf"`
gives reciprocal-rank fusion (k=60) instead. Z-score fusion keeps how far ahead a hit is, which RRF
throws away, and is what reaches nDCG@10 >= 0.70 on SciFact (benchmarks/retrieval.py). Scores are rounded
(5 decimals) and ties broken by passage order, so the same query on the same index gives the same hits in the
same order in every process (float noise in fusion or BLAS cannot swap the tail).

On disk (one folder): `manifest.json` (format, corpus hash, model, parameters, counts; written last, so
its presence means the index is complete), `documents.jsonl`, `passages.jsonl`, `hashes.json`, `bm25/`
(bm25s), `dense.npy` (normalised embeddings, row = passage). `build_index` reuses an index whose manifest
matches, adds only new documents when nothing else changed, and rebuilds otherwise; with an `EmbeddingStore`
(the CLI's default) passages embedded by any earlier build with the same model are read back instead of embedded
again (benchmarks/index_build.py). Loaders, evidence selection and the tools live elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from sciresearcher.errors import ConfigError, DataError
from sciresearcher.knowledge.embedding import EmbeddingStore, Encoder, Precision, model_label, tokenize
from sciresearcher.knowledge.passages import MAX_PARAGRAPH_WORDS, paragraphs
from sciresearcher.records import Document, Locator

log = logging.getLogger(__name__)

FORMAT = 1
INDEX_PRECISION: Precision = "int8"  # passages and queries embedded by the int8 ONNX twin of the model
INDEX_MAX_TOKENS = 160  # tokens of a passage the model reads (MiniLM's own limit is 256); see build_index
Mode = Literal["bm25", "dense", "hybrid"]
Fusion = Literal["zscore", "rrf"]


@dataclass(frozen=True)
class Passage:
    doc: int  # row in documents
    text: str
    locator: Locator


@dataclass(frozen=True)
class Hit:
    """A document hit; `text` is its best passage, `snippet` the part of it that matches the query."""

    doc_id: str
    score: float
    title: str
    text: str
    locator: Locator
    year: int | None = None
    url: str | None = None
    query_terms: frozenset[str] = frozenset()

    @property
    def snippet(self) -> str:
        return _snippet(set(self.query_terms), self.text)


def doc_hash(doc: Document) -> str:
    return hashlib.sha1(json.dumps([doc.title, doc.text, doc.sentences, [s.model_dump() for s in doc.sections or []]],
                                   ensure_ascii=False).encode()).hexdigest()[:16]


def _params(dense: bool, model: str | None, k1: float, b: float, max_words: int, precision: Precision,
            max_tokens: int | None) -> dict:
    params = {"format": FORMAT, "dense": dense, "model": model_label(model) if dense else None,
              "bm25": {"k1": k1, "b": b, "method": "lucene", "tokenizer": "sciresearcher-v1"},
              "max_paragraph_words": max_words}
    if dense:
        params["embedding"] = {"precision": precision, "max_tokens": max_tokens}
    return params


def _bm25_text(title: str, text: str) -> str:
    return f"{title}\n{text}" if title else text


class LocalIndex:
    """A persisted index; `LocalIndex.load(path)` opens one, `build_index(...)` makes or updates one."""

    def __init__(self, path: Path, manifest: dict, documents: list[Document], passages: list[Passage],
                 bm25, dense: np.ndarray | None) -> None:
        self.path = path
        self.manifest = manifest
        self.documents = documents
        self.passages = passages
        self.bm25 = bm25
        self.dense = dense
        self._by_id = {d.id: i for i, d in enumerate(documents)}
        self._faiss = None
        self._encoder: Encoder | None = None
        self.build_stats: dict | None = None  # set by build_index: what the build did

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: Path | str, *, model: str | None = None, check_model: bool = False) -> LocalIndex:
        """Opens an index; with `check_model`, a different embedding model than the index's is an error."""
        import bm25s

        path = Path(path)
        mpath = path / "manifest.json"
        if not mpath.exists():
            raise ConfigError(f"no index at {path} (manifest.json missing)",
                              hint=f"build one: sciresearcher index build SOURCES... --out {path}")
        manifest = json.loads(mpath.read_text())
        if manifest.get("format") != FORMAT:
            raise ConfigError(f"index {path} has format {manifest.get('format')}, this version reads {FORMAT}",
                              hint="rebuild it with `sciresearcher index build`")
        if check_model and manifest.get("dense") and manifest.get("model") != model_label(model):
            raise ConfigError(
                f"index {path} was built with embedding model {manifest.get('model')!r}, "
                f"but the config asks for {model_label(model)!r}",
                hint="rebuild the index with the configured model, or set knowledge.model to the index's model",
            )
        docs = [Document.model_validate_json(line) for line in (path / "documents.jsonl").open(encoding="utf-8")]
        passages = []
        for line in (path / "passages.jsonl").open(encoding="utf-8"):
            row = json.loads(line)
            passages.append(Passage(row["d"], row["t"], Locator.model_validate(row["l"])))
        bm25 = bm25s.BM25.load(str(path / "bm25"), load_corpus=False, show_progress=False) if passages else None
        dense = np.load(path / "dense.npy", mmap_mode="r") if (path / "dense.npy").exists() else None
        return cls(path, manifest, docs, passages, bm25, dense)

    def get(self, doc_id: str) -> Document | None:
        i = self._by_id.get(doc_id)
        return self.documents[i] if i is not None else None

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:  # queries are embedded as the passages were
            embedding = (self.manifest.get("params") or {}).get("embedding") or {}
            self._encoder = Encoder(self.manifest.get("model"), precision=embedding.get("precision", "fp32"),
                                    max_tokens=embedding.get("max_tokens"))
        return self._encoder

    @property
    def modes(self) -> list[str]:
        return ["bm25", "dense", "hybrid"] if self.dense is not None else ["bm25"]

    # ------------------------------------------------------------------ search
    def bm25_scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for `query` (zeros when no query term is in the vocabulary)."""
        toks = [t for t in tokenize(query) if t in self.bm25.vocab_dict]
        if not toks:
            return np.zeros(len(self.passages), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(toks), dtype=np.float32)

    def dense_scores_topk(self, query: str, k: int, query_vec: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        if self.dense is None:
            raise ConfigError(f"index {self.path} has no dense part", hint="rebuild without --no-dense, or use mode bm25")
        if self._faiss is None:
            self._faiss = faiss.IndexFlatIP(self.dense.shape[1])
            self._faiss.add(np.ascontiguousarray(self.dense, dtype=np.float32))
        q = self.encoder.encode([query]) if query_vec is None else query_vec.reshape(1, -1).astype(np.float32)
        scores, ids = self._faiss.search(q, min(k, len(self.passages)))
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def search_passages(self, query: str, k: int = 10, mode: Mode = "hybrid", *, weight: float = 0.5,
                        depth: int = 200, fusion: Fusion = "zscore",
                        query_vec: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top passages as (row, score), best first; `query_vec` skips encoding the query again."""
        if not self.passages or not query.strip():
            return []
        if mode != "bm25" and self.dense is None:
            log.info("index %s has no dense part; using bm25", self.path)
            mode = "bm25"
        if mode != "bm25" and query_vec is None:
            try:
                query_vec = self.encoder.encode([query])[0]
            except ConfigError as exc:  # the embedding model cannot load here: lexical search still works
                log.warning("dense search unavailable (%s); using bm25", str(exc).splitlines()[0])
                mode = "bm25"
        if mode == "bm25":
            scores = _stable(self.bm25_scores(query))
            top = _topk(scores, k)
            return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
        ids, dscores = self.dense_scores_topk(query, depth if mode == "hybrid" else k, query_vec)
        if mode == "dense":
            order = np.lexsort((ids, -_stable(dscores)))
            return [(int(ids[i]), float(_stable(dscores)[i])) for i in order]
        bscores = _stable(self.bm25_scores(query))
        btop = _topk(bscores, depth)
        btop = btop[bscores[btop] > 0]
        cands = np.unique(np.concatenate([ids, btop]))
        if fusion == "rrf":
            brank = {int(i): r for r, i in enumerate(btop)}
            drank = {int(i): r for r, i in enumerate(ids)}
            fused = np.array([(1 - weight) / (60 + brank.get(int(c), 10**6)) + weight / (60 + drank.get(int(c), 10**6))
                              for c in cands])
        else:
            d = np.asarray(self.dense[cands], dtype=np.float32) @ query_vec
            b = bscores[cands]
            fused = (1 - weight) * _z(b) + weight * _z(d)
        fused = _stable(fused)
        order = np.lexsort((cands, -fused))[:k]  # ties: passage order, never the sort's whim
        return [(int(cands[i]), float(fused[i])) for i in order]

    def search(self, query: str, k: int = 10, mode: Mode = "hybrid", **kwargs) -> list[Hit]:
        """Top documents (each represented by its best passage), best first."""
        hits: list[Hit] = []
        seen: set[int] = set()
        qtoks = frozenset(tokenize(query))
        for row, score in self.search_passages(query, k=max(k * 4, 50), mode=mode, **kwargs):
            p = self.passages[row]
            if p.doc in seen:
                continue
            seen.add(p.doc)
            doc = self.documents[p.doc]
            hits.append(Hit(doc.id, score, doc.title, p.text, p.locator, doc.year, doc.url, qtoks))
            if len(hits) == k:
                break
        return hits


def _snippet(query_tokens: set[str], text: str, limit: int = 300) -> str:
    """The passage from its best-matching sentence on (by query-term overlap), at most `limit` characters."""
    from sciresearcher.knowledge.passages import split_sentences

    sents = split_sentences(text)
    if len(text) <= limit or len(sents) < 2 or not query_tokens:
        return text
    best = max(range(len(sents)), key=lambda i: (len(query_tokens & set(tokenize(sents[i]))), -i))
    out = " ".join(sents[best:])
    out = ("… " if best else "") + out
    return out if len(out) <= limit else out[: limit - 1].rsplit(" ", 1)[0] + " …"


def _stable(scores: np.ndarray, decimals: int = 5) -> np.ndarray:
    """Scores rounded so that float noise (thread counts, BLAS paths, another process) cannot reorder hits."""
    return np.round(np.asarray(scores, dtype=np.float64), decimals)


def _topk(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, best first, ties in index order (the same hits in every process)."""
    if k >= len(scores):
        return np.argsort(-scores, kind="stable")
    # argpartition picks arbitrarily among scores tied at the cut: keep every tie, then cut a stable order
    kth = np.partition(-scores, k - 1)[k - 1]
    top = np.flatnonzero(-scores <= kth)
    return top[np.argsort(-scores[top], kind="stable")][:k]


def _z(x: np.ndarray) -> np.ndarray:
    sd = float(x.std())
    return (x - float(x.mean())) / (sd if sd > 1e-9 else 1.0)


# ---------------------------------------------------------------------- building


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
