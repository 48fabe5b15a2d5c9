"""Three-level evidence selection: documents, then paragraphs in the best documents, then sentences.

For a goal (a question, claim or reading goal) and a set of documents, every paragraph is scored by a
fusion of BM25 (computed over the candidate set, with the index's tokenizer) and, when the dense model is
available, cosine similarity to the goal; both are z-normalised over the candidates and averaged. A
document scores as its best paragraph; paragraphs are taken from the top documents only; sentences from
the top paragraphs only, each sentence scored the same way plus a share of its paragraph's score (context).
A quantitative goal ("how many", "what concentration", "calculate", a unit in the goal...) adds a bonus
to passages that carry numbers with units, so the values a computation needs come first.

Returns `Evidence` records (level, score, locator, url, title). Retrieval over a whole corpus is the
index's job (`knowledge/index.py`); writing a summary from the evidence is the reader tool's.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from sciresearcher.knowledge.config import EvidenceConfig
from sciresearcher.knowledge.embedding import Encoder, tokenize
from sciresearcher.knowledge.passages import Paragraph, paragraphs
from sciresearcher.records import Document, Evidence

log = logging.getLogger(__name__)

_UNIT = (
    r"%|‰|°\s?[CF]|K\b|[kmµμunpf]?(?:g|L|l|M|mol|m|s|Hz|Da|J|eV|Pa|W|V|A|Gy|Sv|Bq)\b|kDa|kbp?\b|bp\b|nt\b|"
    r"h\b|hrs?\b|min\b|days?\b|weeks?\b|months?\b|years?\b|-?fold\b|ppm|ppb|atm\b|bar\b|kcal|cal\b|IU\b|U\b|"
    r"mmHg|rpm|cells?\b|patients?\b|mg/kg|mg/dL|g/mol|M-1|s-1|mol/L"
)
_NUMBER_UNIT = re.compile(rf"(?<![A-Za-z])[-+±]?\d+(?:[.,]\d+)?(?:\s?[×x]\s?10\^?[-−]?\d+)?\s?(?:{_UNIT})")
_NUMBER = re.compile(r"(?<![A-Za-z])\d+(?:\.\d+)?")
_QUANT_GOAL = re.compile(
    r"\b(how (many|much|long|fast|large|high|low|often)|what (is|was|are|were) the (value|number|rate|"
    r"concentration|amount|percentage|fraction|ratio|size|mass|weight|length|dose|yield|level|half-life)|"
    r"calculat|comput|estimat|quantif|percent|proportion|ratio|concentration|dose|dosage|yield|half-life|"
    r"km\b|kcat|ic50|ec50|kd\b|molar|mass|weight|temperature|rate constant|energy|number of)",
    re.IGNORECASE,
)


def is_quantitative(goal: str) -> bool:
    """Whether the goal asks for a quantity (so numbers with units should rank higher)."""
    return bool(_QUANT_GOAL.search(goal) or _NUMBER_UNIT.search(goal))


_MARKERS = re.compile(
    r"\[[\d,\s–-]+\]|\b(?:Figs?|Figures?|Tables?|Eqs?|Equations?|Sections?|Refs?)\.?\s*\(?S?\d+[A-Za-z]?\)?|"
    r"\(\s*\d{1,2}\s*\)\s*$|\b(?:1[89]|20)\d{2}\b(?!\s*(?-i:%|[a-zµμ]))", re.IGNORECASE)


def numeric_weight(text: str) -> float:
    """1 for text with a number and a unit, 0.4 for a bare number, 0 otherwise; citation markers ("[12]"),
    figure, table and equation labels and years are not numbers here."""
    text = _MARKERS.sub(" ", text)
    if _NUMBER_UNIT.search(text):
        return 1.0
    return 0.4 if _NUMBER.search(text) else 0.0


def bm25_local(query: list[str], docs: list[list[str]], k1: float = 1.2, b: float = 0.75) -> np.ndarray:
    """BM25 of each token list in `docs` for `query`, with idf taken from `docs` themselves."""
    n = len(docs)
    if not n or not query:
        return np.zeros(n, dtype=np.float32)
    df = Counter(t for d in docs for t in set(d))
    avg = sum(len(d) for d in docs) / n or 1.0
    q = Counter(query)
    out = np.zeros(n, dtype=np.float32)
    for i, d in enumerate(docs):
        tf = Counter(d)
        norm = k1 * (1 - b + b * len(d) / avg)
        s = 0.0
        for t, qn in q.items():
            f = tf.get(t)
            if f:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                s += qn * idf * f * (k1 + 1) / (f + norm)
        out[i] = s
    return out


def _z(x: np.ndarray) -> np.ndarray:
    if len(x) < 2:
        return np.zeros_like(x, dtype=np.float32)
    sd = float(x.std())
    return ((x - float(x.mean())) / (sd if sd > 1e-9 else 1.0)).astype(np.float32)


@dataclass
class Selection:
    """The three levels of a selection, best first within each level."""

    documents: list[Evidence] = field(default_factory=list)
    paragraphs: list[Evidence] = field(default_factory=list)
    sentences: list[Evidence] = field(default_factory=list)

    @property
    def all(self) -> list[Evidence]:
        return self.documents + self.paragraphs + self.sentences


class EvidenceSelector:
    """Selects evidence for a goal from documents; dense similarity is used when the model loads."""

    def __init__(self, config: EvidenceConfig | None = None, *, use_dense: bool | None = None,
                 model: str | None = None, encoder: Encoder | None = None, dense_weight: float = 0.5,
                 context_weight: float = 0.25) -> None:
        self.config = config or EvidenceConfig()
        self.use_dense = self.config.use_dense if use_dense is None else use_dense
        self._model = model
        size = self.config.embedding_cache_size
        if encoder is not None and encoder.cache_size == 0 and size > 0:
            # the index's encoder, with a cache of our own (the loaded model is shared, not loaded again)
            encoder = encoder.like(cache_size=size)
        self._encoder = encoder
        self.dense_weight = dense_weight
        self.context_weight = context_weight

    def _encoder_or_none(self) -> Encoder | None:
        if not self.use_dense:
            return None
        if self._encoder is None:
            try:
                self._encoder = Encoder(self._model, cache_size=self.config.embedding_cache_size)
                _ = self._encoder.model
            except Exception as exc:  # noqa: BLE001 - missing extra or model: fall back to lexical, say so once
                log.warning("dense evidence scoring unavailable (%s); using BM25 only", exc)
                self.use_dense = False
                self._encoder = None
        return self._encoder

    def score(self, goal: str, texts: list[str], *, quantitative: bool | None = None) -> np.ndarray:
        """Fused relevance of each text to the goal (z-normalised; higher is better)."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        lex = _z(bm25_local(tokenize(goal), [tokenize(t) for t in texts]))
        quant = is_quantitative(goal) if quantitative is None else quantitative
        boost = np.zeros(len(texts), dtype=np.float32)
        if quant and self.config.quantitative_boost:
            boost = self.config.quantitative_boost * np.array([numeric_weight(t) for t in texts], dtype=np.float32)
        fused = lex
        enc = self._encoder_or_none()
        if enc is not None and len(texts) > 1:
            limit = self.config.dense_candidates
            if limit and len(texts) > limit:
                # embed only the lexical front-runners; the rest keep the worst dense score of those
                keep = np.argsort(-(lex + boost), kind="stable")[:limit]
                vecs = enc.encode([goal] + [texts[i] for i in keep])
                dense = np.full(len(texts), np.nan, dtype=np.float32)
                dense[keep] = _z(vecs[1:] @ vecs[0])
                dense = np.nan_to_num(dense, nan=float(np.nanmin(dense)))
            else:
                vecs = enc.encode([goal] + texts)
                dense = _z(vecs[1:] @ vecs[0])
            fused = (1 - self.dense_weight) * lex + self.dense_weight * dense
        return fused + boost

    def select(self, goal: str, docs: list[Document], *, top_docs: int | None = None,
               top_paragraphs: int | None = None, top_sentences: int | None = None) -> Selection:
        """Documents, then paragraphs within the best documents, then sentences within the best paragraphs."""
        top_docs = top_docs or self.config.top_docs
        top_paragraphs = top_paragraphs or self.config.top_paragraphs
        top_sentences = top_sentences or self.config.top_sentences
        quant = is_quantitative(goal)
        pars: list[tuple[int, Paragraph]] = [(di, p) for di, d in enumerate(docs) for p in paragraphs(d)]
        if not pars:
            return Selection()
        texts = [f"{docs[di].title}. {p.passage.text}" if docs[di].title and len(docs) > 1 else p.passage.text
                 for di, p in pars]
        pscore = self.score(goal, texts, quantitative=quant)
        # level 1: documents by their best paragraph
        best: dict[int, float] = {}
        for (di, _), s in zip(pars, pscore):
            best[di] = max(best.get(di, -1e9), float(s))
        doc_order = sorted(best, key=lambda i: -best[i])[:top_docs]
        sel = Selection(documents=[
            Evidence(doc_id=docs[i].id, level="document", text=docs[i].title or docs[i].text[:200],
                     score=best[i], url=docs[i].url, title=docs[i].title or None) for i in doc_order])
        # level 2: paragraphs of the kept documents
        keep = set(doc_order)
        par_rank = sorted((j for j, (di, _) in enumerate(pars) if di in keep), key=lambda j: -pscore[j])
        par_rank = par_rank[:top_paragraphs]
        sel.paragraphs = [pars[j][1].passage.to_evidence(float(pscore[j])) for j in par_rank]
        # level 3: sentences of the kept paragraphs, with a share of their paragraph's score as context
        sents = [(j, s) for j in par_rank for s in pars[j][1].sentence_passages()]
        if sents:
            sscore = self.score(goal, [s.text for _, s in sents], quantitative=quant)
            sscore = sscore + self.context_weight * np.array([pscore[j] for j, _ in sents], dtype=np.float32)
            order = np.argsort(-sscore, kind="stable")[:top_sentences]
            sel.sentences = [sents[i][1].to_evidence(float(sscore[i])) for i in order]
        return sel

    def sentences(self, goal: str, docs: list[Document], k: int = 3) -> list[Evidence]:
        """The best `k` sentences for the goal (all paragraphs of all documents considered)."""
        n_pars = sum(len(paragraphs(d)) for d in docs)
        return self.select(goal, docs, top_docs=max(len(docs), 1), top_paragraphs=max(n_pars, 1),
                           top_sentences=k).sentences
