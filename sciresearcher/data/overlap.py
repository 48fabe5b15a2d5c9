"""Word n-gram overlap between texts: the one measure behind decontamination and near-duplicate removal.

Texts are normalised (NFKC, lower case, runs of letters and digits as words), cut into word n-grams, and
indexed in an inverted index from n-gram to item. `OverlapIndex.best_match(text)` returns the indexed item with
the largest share of n-grams in common with `text`, with two containment ratios: the share of the query's
n-grams found in the item and the share of the item's n-grams found in the query. A training question that
copies an eval question, or embeds one inside extra text, has a high ratio on one side even when the other
side is low.

Boilerplate is left out: n-grams found in many texts of one collection (an instruction template every SciFact
claim starts with, "assume that all gases are perfect" in SciBench) say nothing about whether two items are the
same question, so `common_ngrams` finds them and the index ignores them on both sides.

Texts shorter than n words are matched on their whole normalised form, so short questions are compared too.
This is lexical overlap only: a paraphrase with different wording is not caught (an embedding check would be
the next step; it is not done here).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(text: str) -> list[str]:
    """Normalised words: NFKC, case-folded, punctuation dropped."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def normalised(text: str) -> str:
    """The text as its normalised words joined by single spaces (what phrase matching compares)."""
    return " ".join(words(text))


def contains_phrase(haystack: str, needle: str, *, haystack_normalised: bool = False) -> bool:
    """Whether `needle` occurs in `haystack` as whole normalised words ('C-peptide' in 'the c peptide level');
    pass `haystack_normalised=True` with `normalised(haystack)` to test many needles against one long text."""
    phrase = normalised(needle)
    text = haystack if haystack_normalised else normalised(haystack)
    return bool(phrase) and f" {phrase} " in f" {text} "


def ngrams(text: str, n: int) -> set[str]:
    """The set of word n-grams of `text`; a text shorter than n words gives its whole normalised form."""
    ws = words(text)
    if not ws:
        return set()
    if len(ws) < n:
        return {" ".join(ws)}
    return {" ".join(ws[i:i + n]) for i in range(len(ws) - n + 1)}


def common_ngrams(texts: list[str], n: int, *, min_count: int = 5, min_share: float = 0.02) -> set[str]:
    """N-grams that occur in at least `min_count` texts and at least `min_share` of them: boilerplate."""
    counts: dict[str, int] = {}
    for text in texts:
        for gram in ngrams(text, n):
            counts[gram] = counts.get(gram, 0) + 1
    floor = max(min_count, min_share * len(texts))
    return {gram for gram, count in counts.items() if count >= floor}


@dataclass(frozen=True)
class Match:
    """The indexed item that overlaps a query most."""

    source: str  # e.g. the benchmark name
    item_id: str
    text: str
    shared: int  # n-grams in common
    query_share: float  # shared / n-grams of the query
    item_share: float  # shared / n-grams of the item

    @property
    def overlap(self) -> float:
        return max(self.query_share, self.item_share)


class OverlapIndex:
    """An inverted index from word n-grams to items; items can be added while querying (for dedup)."""

    def __init__(self, n: int = 8, ignore: set[str] | None = None) -> None:
        if n < 1:
            raise ValueError("n must be >= 1")
        self.n = n
        self.ignore = ignore or set()
        self._postings: dict[str, list[int]] = {}
        self._items: list[tuple[str, str, str, int]] = []  # source, id, text, number of n-grams

    def __len__(self) -> int:
        return len(self._items)

    def _grams(self, text: str) -> set[str]:
        return ngrams(text, self.n) - self.ignore

    def add(self, source: str, item_id: str, text: str) -> None:
        grams = self._grams(text)
        index = len(self._items)
        self._items.append((source, item_id, text, len(grams)))
        for gram in grams:
            self._postings.setdefault(gram, []).append(index)

    def best_match(self, text: str) -> Match | None:
        """The item with the largest overlap ratio with `text` (ties: more shared n-grams), or None."""
        grams = self._grams(text)
        counts: dict[int, int] = {}
        for gram in grams:
            for index in self._postings.get(gram, ()):
                counts[index] = counts.get(index, 0) + 1
        if not counts:
            return None

        def ratio(index: int) -> tuple[float, int]:
            shared = counts[index]
            return max(shared / len(grams), shared / max(self._items[index][3], 1)), shared

        best = max(counts, key=ratio)
        source, item_id, item_text, size = self._items[best]
        shared = counts[best]
        return Match(source, item_id, item_text, shared, shared / len(grams), shared / max(size, 1))
