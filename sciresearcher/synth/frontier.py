"""A term's history in the corpus itself: where and when its text mentions it, so frontier relevance does not
collapse to the publication year of the two documents that list it as a keyword.

`mention_profiles(terms, docs)` scans each document's normalised words once for every candidate phrase (a term
and its abbreviation, with a plural 's' forgiven), and returns per term: the documents whose text mentions it,
their years, and the number of mentions. `frontier_parts(profile, corpus)` turns a profile into four scores in
[0, 1]:

- *specificity*: inverse document frequency of the text mentions (rare across the corpus; 2-4 documents count
  as fully specific, so a term a few papers share is not ranked below one that two papers share);
- *novelty*: how late in the corpus's year range the term first appears;
- *growth*: the term's share of mentions in the later half of the years against the corpus's own share there
  (0.5 = as the corpus grows; higher = rising; pulled to 0.5 for terms with few dated mentions);
- *focus*: mentions per mentioning document (a term a paper is about is named again and again; an incidental
  one once).

It ranks nothing and knows no model (see `seeds.py`).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

from sciresearcher.data.overlap import words
from sciresearcher.records import Document


@dataclass
class Profile:
    doc_ids: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    mentions: int = 0


@dataclass(frozen=True)
class Corpus:
    n_docs: int
    y0: int
    y1: int
    late_share: float  # share of dated documents in the later half of the year range

    @classmethod
    def of(cls, docs: list[Document]) -> Corpus:
        years = [d.year for d in docs if d.year]
        y0, y1 = (min(years), max(years)) if years else (0, 0)
        mid = (y0 + y1) / 2
        late = sum(y > mid for y in years) / len(years) if years else 0.5
        return cls(len(docs), y0, y1, late)


def phrases(term: str) -> list[tuple[str, ...]]:
    """The word sequences that name a term: its long form, its abbreviation, and their plurals."""
    core = re.sub(r"\s*\([^)]*\)\s*$", "", term).strip()
    abbr = re.search(r"\(([^)]*)\)\s*$", term)
    out = []
    for form in filter(None, (core, abbr.group(1) if abbr else None)):
        ws = tuple(words(form))
        if ws:
            out.append(ws)
            out.append((*ws[:-1], ws[-1] + "s") if not ws[-1].endswith("s") else (*ws[:-1], ws[-1][:-1]))
    return out


def mention_profiles(terms: list[str], docs: list[Document]) -> dict[str, Profile]:
    """Per term: the documents whose title or text names it, their years, and how often they name it."""
    by_phrase: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for term in terms:
        for p in phrases(term):
            by_phrase[p].add(term)
    starts: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for p in by_phrase:
        starts[p[0]].append(p)
    profiles = {t: Profile() for t in terms}
    for doc in docs:
        ws = words(f"{doc.title} {doc.text}")
        counts: dict[str, int] = defaultdict(int)
        for i, w in enumerate(ws):
            for p in starts.get(w, ()):
                if tuple(ws[i:i + len(p)]) == p:
                    for term in by_phrase[p]:
                        counts[term] += 1
        for term, c in counts.items():
            prof = profiles[term]
            prof.doc_ids.append(doc.id)
            prof.mentions += c
            if doc.year:
                prof.years.append(doc.year)
    return profiles


def frontier_parts(profile: Profile, corpus: Corpus) -> dict[str, float]:
    """specificity, novelty, growth and focus of a term, each in [0, 1]."""
    df = max(len(profile.doc_ids), 1)
    n = max(corpus.n_docs, 2)
    specificity = max(0.0, min(1.0, math.log(n / df) / math.log(n / 4)))  # as specific at 2-4 documents
    span = corpus.y1 - corpus.y0
    if profile.years and span > 0:
        novelty = (min(profile.years) - corpus.y0) / span
        mid = (corpus.y0 + corpus.y1) / 2
        late = sum(y > mid for y in profile.years) / len(profile.years)
        ratio = (late + 0.05) / (corpus.late_share + 0.05)
        confidence = min(1.0, (len(profile.years) - 1) / 4)  # two mentions say little about a trend
        growth = 0.5 + confidence * (ratio / (1 + ratio) - 0.5)
    else:
        novelty, growth = 0.5, 0.5
    focus = min(1.0, math.log1p(profile.mentions / df) / math.log(8))
    return {"specificity": round(specificity, 4), "novelty": round(novelty, 4), "growth": round(growth, 4),
            "focus": round(focus, 4)}
