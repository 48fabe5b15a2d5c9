"""Seed-entity selection in three stages, ranked by a frontier relevance score (the conceptual pipeline's first stage).

1. **Candidates**: the entities each document names: its keyword metadata (`mesh`, `subjects`, `keywords`) and
   the terms it defines with an abbreviation ("permeability transition pore (PTP)"), found with a
   Schwartz-Hearst style long-form match.
2. **Filter**: keep keywords the document's text actually names (a question needs a sentence: on PubMedQA this
   lifts the share of top-40 seeds that yield a one-hop chain from 8 to 37); drop MeSH check tags and
   study-design terms, publication boilerplate, places, organisations and generic methods and statistics
   (`seed_filter.py`), terms whose text mentions span more than `max_doc_share` of the corpus or fewer than
   `min_docs` documents.
3. **Frontier relevance score** from the corpus itself (`frontier.py`): *specificity* (rare in the corpus's
   texts), *novelty* (first named late in the corpus's years), *growth* (named more and more), *focus* (named
   repeatedly by the papers that name it), weighted; with a model, its 0-10 rating of how central the term is
   to current research (asked for the `llm_pool` best terms) is mixed in on the same scale: an unrated seed
   keeps its corpus score, so rated and unrated seeds compare fairly.

Each `Seed` keeps its parts and the documents that name it, so a pipeline can ground its first question in
them. It does not write questions (see `conceptual.py`).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sciresearcher.data.overlap import contains_phrase, normalised
from sciresearcher.llm.base import LLMClient
from sciresearcher.llm.config import LLMConfig
from sciresearcher.records import Document, Message

GENERIC = frozenset(t.casefold() for t in (
    "Humans", "Animals", "Male", "Female", "Adult", "Aged", "Middle Aged", "Aged, 80 and over", "Young Adult",
    "Adolescent", "Child", "Child, Preschool", "Infant", "Infant, Newborn", "Pregnancy", "Mice", "Rats", "Cattle",
    "Retrospective Studies", "Prospective Studies", "Follow-Up Studies", "Cohort Studies", "Cross-Sectional Studies",
    "Case-Control Studies", "Treatment Outcome", "Time Factors", "Risk Factors", "Surveys and Questionnaires",
    "Questionnaires", "Reproducibility of Results", "Sensitivity and Specificity", "Prognosis", "Incidence",
    "Prevalence", "Risk Assessment", "Statistics as Topic", "Logistic Models", "Multivariate Analysis",
    "Severity of Illness Index", "Age Factors", "Sex Factors", "Research", "Biology", "Medicine", "Science",
))
KEYWORD_FIELDS = ("mesh", "subjects", "keywords")
_ABBREV = re.compile(r"\(([A-Za-z][A-Za-z0-9\-]{1,9})\)")
_WORD = re.compile(r"[\w\-']+")
_FUNCTION_WORDS = frozenset((
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "from", "with", "by", "and", "or", "not", "no", "as",
    "is", "are", "was", "were", "be", "this", "that", "these", "those", "its", "their", "our", "we", "which"))


class SeedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    top_k: int = Field(100, ge=1, description="seeds to keep")
    min_docs: int = Field(
        2, ge=1, description="fewest documents that must name a term (2: a multi-hop chain needs a second source)")
    max_doc_share: float = Field(0.02, gt=0, le=1, description="terms named by more of the corpus are generic")
    use_keywords: bool = Field(True, description="take terms from mesh / subjects / keywords metadata")
    use_abbreviations: bool = Field(True, description="take terms the text defines with an abbreviation")
    require_in_text: bool = Field(
        True, description="count a keyword for a document only when its text names it (a question needs a sentence)")
    weight_specificity: float = Field(0.35, ge=0, description="rare across the corpus's texts")
    weight_novelty: float = Field(0.15, ge=0, description="first named late in the corpus's year range")
    weight_growth: float = Field(0.2, ge=0, description="named more and more over the corpus's years")
    weight_focus: float = Field(0.3, ge=0, description="named repeatedly by the papers that name it (their topic)")
    weight_frontier: float = Field(0.3, ge=0, description="weight of the model's rating (when llm is set)")
    drop_junk: bool = Field(
        True, description="drop publication boilerplate, places, organisations, generic methods and statistics")
    llm: LLMConfig | None = Field(None, description="model that rates frontier relevance 0-10; none = offline")
    llm_pool: int = Field(200, ge=1, description="terms (best by the offline parts) the model is asked about")


@dataclass
class Seed:
    entity: str
    score: float
    specificity: float
    novelty: float
    growth: float
    focus: float
    frontier: float | None
    n_docs: int
    doc_ids: list[str] = field(default_factory=list)
    offline: float = 0.0  # the score from the corpus alone (the model's rating moves the score from here)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Seed:
        """A seed from a row of the file `synth seeds` writes (unknown keys ignored)."""
        known = {k: row[k] for k in cls.__dataclass_fields__ if k in row}
        known.setdefault("score", 0.0)
        for part in ("specificity", "novelty", "growth", "focus"):
            known.setdefault(part, 0.0)
        known.setdefault("frontier", None)
        known.setdefault("n_docs", len(row.get("doc_ids", [])))
        return cls(**known)


def long_form(words: list[str], abbrev: str) -> str | None:
    """The shortest run of words before an abbreviation whose first word starts with its first letter and whose
    letters contain the abbreviation's letters in order (Schwartz & Hearst 2003, simplified), and whose content
    words each start with one of its letters."""
    letters = [c.lower() for c in abbrev if c.isalnum()]
    window = words[-min(len(words), len(letters) + 5):]
    for start in range(len(window) - 1, -1, -1):
        candidate = window[start:]
        if not candidate[0] or candidate[0][0].lower() != letters[0]:
            continue
        text, pos = " ".join(candidate).lower(), 0
        for letter in letters:
            pos = text.find(letter, pos)
            if pos < 0:
                break
            pos += 1
        else:
            # every content word must start with one of the abbreviation's letters ('apical prolapse (AA)' and
            # 'Ar 1 by the Moore-Penrose pseudoinverse (Ar)' are mis-parses)
            initials_ok = all(w[0].lower() in letters for w in candidate if w.lower() not in _FUNCTION_WORDS)
            if initials_ok and (len(candidate) >= 2 or len(candidate[0]) > len(abbrev)):
                return " ".join(candidate)
    return None


def abbreviation_terms(text: str) -> list[str]:
    """Terms defined in `text` as 'long form (ABBR)', returned as 'long form (ABBR)'."""
    terms = []
    for match in _ABBREV.finditer(text):
        abbrev = match.group(1)
        if not any(c.isupper() for c in abbrev) or abbrev.isdigit():
            continue
        before = _WORD.findall(text[max(0, match.start() - 200):match.start()])
        found = long_form(before, abbrev)
        # a long form that starts with a function word or holds another abbreviation is a mis-parse
        if found and found.split()[0].lower() not in _FUNCTION_WORDS and not any(
                len(w) > 1 and w.isupper() for w in found.split()):
            terms.append(f"{found} ({abbrev})")
    return terms


def candidate_terms(doc: Document, config: SeedConfig) -> set[str]:
    """Stage 1: the terms one document names."""
    terms: set[str] = set()
    if config.use_keywords:
        text = normalised(f"{doc.title} {doc.text}") if config.require_in_text else ""
        for name in KEYWORD_FIELDS:
            value = doc.metadata.get(name) or []
            for v in value if isinstance(value, list) else [value]:
                term = str(v).strip()
                if term and (not config.require_in_text or contains_phrase(text, term, haystack_normalised=True)):
                    terms.add(term)
    if config.use_abbreviations:
        terms.update(abbreviation_terms(doc.text))
    return terms


def offline_scores(docs: list[Document], config: SeedConfig) -> list[Seed]:
    """Stages 1-3 without a model: candidates, the junk and generic filters, the corpus's frontier parts."""
    from sciresearcher.synth.frontier import Corpus, frontier_parts, mention_profiles
    from sciresearcher.synth.seed_filter import junk_reason

    surface: dict[str, Counter[str]] = defaultdict(Counter)
    listed: dict[str, int] = defaultdict(int)
    for doc in docs:
        for term in sorted(candidate_terms(doc, config)):  # sorted: the same seeds under any hash seed
            key = term.casefold()
            surface[key][term] += 1
            listed[key] += 1
    names: dict[str, str] = {}
    for key, counts in sorted(surface.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
        name = counts.most_common(1)[0][0]
        if key in GENERIC or (config.drop_junk and junk_reason(name)):
            continue
        names.setdefault(_singular(name), name)  # 'CLABSI' and 'CLABSIs', 'MDG' and 'MDGs': one seed
    profiles = mention_profiles(list(names.values()), docs)
    corpus = Corpus.of(docs)
    seeds = []
    for name in names.values():
        prof = profiles[name]
        df = len(prof.doc_ids)
        if df < config.min_docs or df > max(config.max_doc_share * len(docs), config.min_docs):
            continue
        parts = frontier_parts(prof, corpus)
        seeds.append(Seed(name, 0.0, parts["specificity"], parts["novelty"], parts["growth"], parts["focus"], None,
                          df, prof.doc_ids[:10]))
    return seeds


def _singular(term: str) -> str:
    """A term's key with trailing plural 's' dropped from its long form's last word and its abbreviation."""
    core = re.sub(r"\s*\([^)]*\)\s*$", "", term).strip().casefold()
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in normalised(core).split())


def combine(seed: Seed, config: SeedConfig) -> float:
    """One scale for every seed: the corpus's parts, and with a rating, that rating mixed in by its weight
    (an unrated seed keeps its corpus score, as if the model had rated it at that score)."""
    parts = [(config.weight_specificity, seed.specificity), (config.weight_novelty, seed.novelty),
             (config.weight_growth, seed.growth), (config.weight_focus, seed.focus)]
    total = sum(w for w, _ in parts) or 1.0
    seed.offline = round(sum(w * v for w, v in parts) / total, 4)
    if seed.frontier is None:
        return seed.offline
    w = config.weight_frontier / (config.weight_frontier + 1.0)
    return round((1 - w) * seed.offline + w * seed.frontier, 4)


FRONTIER_PROMPT = (
    "Rate how central each term is to current frontier research in biology or chemistry, from 0 (textbook or "
    "generic) to 10 (an active research frontier). Reply with one JSON object mapping each term exactly as "
    "written to its integer rating, and nothing else.\n\nTerms:\n{terms}")


async def frontier_ratings(terms: list[str], llm: LLMClient, batch: int = 25) -> dict[str, float]:
    """The model's 0-10 ratings scaled to 0-1; terms it leaves out or rates unreadably get none."""
    out: dict[str, float] = {}
    for i in range(0, len(terms), batch):
        chunk = terms[i:i + batch]
        prompt = FRONTIER_PROMPT.format(terms="\n".join(f"- {t}" for t in chunk))
        result = await llm.chat([Message(role="user", content=prompt)], temperature=0.0)
        text = result.message.content or ""
        start, end = text.find("{"), text.rfind("}")
        try:
            ratings = json.loads(text[start:end + 1]) if start >= 0 else {}
        except json.JSONDecodeError:
            ratings = {}
        folded = {str(k).casefold().strip(): v for k, v in ratings.items()} if isinstance(ratings, dict) else {}
        for term in chunk:
            value = folded.get(term.casefold().strip())
            if isinstance(value, int | float) and 0 <= value <= 10:
                out[term] = value / 10
    return out


async def select_seeds(docs: list[Document], config: SeedConfig, llm: LLMClient | None = None) -> list[Seed]:
    """The `top_k` seeds by frontier relevance score, best first (ties: more documents, then name)."""
    seeds = offline_scores(docs, config)
    for seed in seeds:
        seed.score = combine(seed, config)
    seeds.sort(key=lambda s: (-s.score, -s.n_docs, s.entity))
    if llm is not None and seeds:
        pool = seeds[:config.llm_pool]
        ratings = await frontier_ratings([s.entity for s in pool], llm)
        for seed in pool:
            seed.frontier = ratings.get(seed.entity)
            seed.score = combine(seed, config)
        seeds.sort(key=lambda s: (-s.score, -s.n_docs, s.entity))
    return seeds[:config.top_k]
