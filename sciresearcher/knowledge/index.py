"""The local literature index: loading and searching it. BM25 (bm25s), dense (sentence-transformers + faiss)
and hybrid fusion.

Paragraphs (`knowledge/passages.py`) are the retrieval unit; a document's score is its best paragraph's.
Each paragraph is indexed with its document title in front (a cheap title field). Hybrid fusion is
normalised score fusion: over the union of both retrievers' top `depth` candidates, each side's scores are
z-normalised (mean 0, sd 1 over the candidates) and mixed as `(1-w)*bm25 + w*dense`; `fusion="rrf"`
gives reciprocal-rank fusion (k=60) instead. Z-score fusion keeps how far ahead a hit is, which RRF
throws away, and is what reaches nDCG@10 >= 0.70 on SciFact (benchmarks/retrieval.py). Scores are rounded
(5 decimals) and ties broken by passage order, so the same query on the same index gives the same hits in the
same order in every process (float noise in fusion or BLAS cannot swap the tail).

Building and updating an index on disk (`build_index`, the folder layout) live in `index_build.py`; loaders,
evidence selection and the tools live elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from sciresearcher.errors import ConfigError
from sciresearcher.knowledge.embedding import Encoder, Precision, model_label, tokenize
from sciresearcher.records import Document, Locator

log = logging.getLogger(__name__)

FORMAT = 1
INDEX_PRECISION: Precision = "int8"  # passages and queries embedded by the int8 ONNX twin of the model
INDEX_MAX_TOKENS = 160  # tokens of a passage the model reads (MiniLM's own limit is 256); see index_build.py
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
