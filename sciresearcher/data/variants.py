"""Numeric variants and a scalable near-duplicate index for task sets of 10^5-10^6 questions.

Two tasks are *numeric variants* when they ask the same question about the same entities with other numbers
("What is the mass of 3.2 mol of iron?" / "... of 7.1 mol of iron?"): word n-gram overlap misses them, because
short questions share few n-grams once a number changes. `skeleton(text)` masks every free-standing number
(digits, decimals, exponents, signs; not the digits of identifiers such as PEP-0017, CO2 or IL-6) and
normalises the words; `entity_key(task)` is the task's entity set (`metadata["entities"]` when the writer
recorded it, else nothing beyond the words of the skeleton). Equal skeletons with equal entity sets are
variants (a dictionary lookup, O(1) per task).

`NearDuplicateIndex` finds near-duplicates among many texts with MinHash signatures and locality-sensitive
hashing (datasketch): candidates share an LSH band, and a candidate counts only when the Jaccard similarity of
the two texts' word shingles, estimated from their signatures (64 permutations: about +/-0.06), reaches the
threshold, so the cost per query stays flat as the index grows and memory is about 1 KB per task (100,000
tasks: about 2,000 per second with `prepare`, which computes the signatures in bulk). With
`masked=True` it indexes skeletons, so it also catches variants reworded slightly ("vessel"/"container").

It does not catch paraphrases with different words (lexical only) and does not decide which copy to keep
(`screen.py` keeps the first).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from sciresearcher.errors import DataError

_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.])(?<![A-Za-z]-)[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*[eE][-+−]?\d+"
    r"|\s*(?:x|×|\*)\s*10\s*(?:\^|\*\*)?\s*[-+−]?\d+)?(?![A-Za-z0-9_])|(?<![A-Za-z0-9_])\.\d+")
_WORD = re.compile(r"[^\W_]+|#", re.UNICODE)


def skeleton(text: str) -> str:
    """The text's normalised words with every free-standing number replaced by '#'."""
    masked = _NUMBER.sub(" # ", unicodedata.normalize("NFKC", text))
    return " ".join(_WORD.findall(masked.casefold()))


def entity_key(task: Any) -> tuple[str, ...]:
    """The entities a task is about, as recorded by its writer (empty when it recorded none)."""
    meta = getattr(task, "metadata", None) or {}
    return tuple(sorted(str(e) for e in meta.get("entities") or ()))


def variant_key(text: str, entities: Iterable[str] = ()) -> str:
    """A hash of (skeleton, entity set): equal keys are numeric variants of one question."""
    raw = skeleton(text) + "\x00" + "\x00".join(sorted(entities))
    return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


class VariantIndex:
    """Remembers variant keys; `find` returns the id of an earlier variant of a question, or None."""

    def __init__(self) -> None:
        self._keys: dict[str, str] = {}

    def find(self, text: str, entities: Iterable[str] = ()) -> str | None:
        return self._keys.get(variant_key(text, entities))

    def add(self, item_id: str, text: str, entities: Iterable[str] = ()) -> None:
        self._keys.setdefault(variant_key(text, entities), item_id)


def shingles(text: str, n: int = 3, masked: bool = True) -> set[str]:
    """Word n-grams of the (masked) text; a text shorter than n words is one shingle."""
    words = (skeleton(text) if masked else " ".join(_WORD.findall(text.casefold()))).split()
    if len(words) < n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


class NearDuplicateIndex:
    """MinHash LSH over word shingles: `find(text)` gives an indexed item with Jaccard >= `threshold`."""

    def __init__(self, threshold: float = 0.8, num_perm: int = 64, n: int = 3, masked: bool = False) -> None:
        try:
            from datasketch import MinHashLSH
        except ImportError as exc:
            raise DataError("the MinHash near-duplicate index needs datasketch",
                            hint="pip install 'sciresearcher[dedup]'") from exc
        self.threshold, self.num_perm, self.n, self.masked = threshold, num_perm, n, masked
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._signatures: dict[str, Any] = {}  # item -> its signature (Jaccard is estimated from them)
        self._cache: dict[str, Any] = {}  # text -> signature (find then add computes it once)

    def __len__(self) -> int:
        return len(self._signatures)

    def prepare(self, texts: list[str]) -> None:
        """Computes the signatures of many texts at once (vectorised; about 3x faster than one by one)."""
        from datasketch import MinHash

        grams = [sorted(shingles(t, self.n, self.masked)) for t in texts]
        todo = [(t, g) for t, g in zip(texts, grams) if g and t not in self._cache]
        for (text, _), m in zip(todo, MinHash.bulk([[x.encode() for x in g] for _, g in todo],
                                                   num_perm=self.num_perm, seed=1)):
            self._cache[text] = m

    def _minhash(self, text: str, grams: set[str]) -> Any:
        from datasketch import MinHash

        m = self._cache.get(text)
        if m is None:
            m = MinHash(num_perm=self.num_perm, seed=1)
            m.update_batch([g.encode() for g in grams])
            self._cache[text] = m
        return m

    def find(self, text: str, entities: Iterable[str] = ()) -> tuple[str, float] | None:
        """The most similar indexed item (id, Jaccard) at or above the threshold, or None."""
        grams = shingles(text, self.n, self.masked)
        if not grams:
            return None
        key = "\x00".join(sorted(entities))
        best: tuple[str, float] | None = None
        signature = self._minhash(text, grams)
        for item in self._lsh.query(signature):
            item_id, _, item_key = item.partition("\x01")
            if item_key != key:
                continue
            jaccard = signature.jaccard(self._signatures[item])
            if jaccard >= self.threshold and (best is None or jaccard > best[1]):
                best = (item_id, jaccard)
        return best

    def add(self, item_id: str, text: str, entities: Iterable[str] = ()) -> None:
        grams = shingles(text, self.n, self.masked)
        name = item_id + "\x01" + "\x00".join(sorted(entities))
        if not grams or name in self._signatures:
            return
        from datasketch import LeanMinHash

        signature = LeanMinHash(self._minhash(text, grams))
        self._signatures[name] = signature
        self._lsh.insert(name, signature)
        self._cache.pop(text, None)
