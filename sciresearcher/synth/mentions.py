"""Whether a sentence names an entity (tolerant of how papers write it) and whether it identifies it.

`surface_forms(entity)` lists the ways a text may write an entity: its long form and its abbreviation
("mitochondrial permeability transition pore (PTP)"), singular and plural, and British and American spellings
("apnoea"/"apnea", "haemoglobin"/"hemoglobin", "tumour"/"tumor", "anaesthesia"/"anesthesia", "-ise"/"-ize").
`names(text, entity)` is true when any form occurs as whole words (an abbreviation only in its own case).

`identifies(text, entity)` is stricter: the sentence says what the entity *is*, so a description built from it
picks the entity out: a definition ("X is a ...", "X, a ...", "X refers to", "known as X", "termed X"), an
abbreviation being defined ("... transition pore (PTP)"), or the entity as the sentence's subject followed by a
verb that states a property of it. An incidental mention ("Eosinophil counts in induced sputum samples also
were performed." for "Sputum") does not identify it.
"""

from __future__ import annotations

import re

from sciresearcher.data.overlap import contains_phrase, normalised

_SPELLINGS = (("oe", "e"), ("ae", "e"), ("our", "or"), ("ise", "ize"), ("isation", "ization"), ("yse", "yze"))
_VERBS = (r"(?:is|are|was|were|has|have|had|can|may|might|will|plays?|acts?|serves?|binds?|encodes?|causes?|"
          r"catalys[ei]s|catalyz[ei]s|regulates?|mediates?|inhibits?|activates?|consists?|contains?|forms?|"
          r"belongs?|occurs?|affects?|remains?|represents?|requires?|results?|leads?|functions?|controls?|"
          r"induces?|increases?|decreases?|reduces?|shows?|exhibits?|comprises?)")


def _spelling_variants(text: str) -> set[str]:
    """British spellings turned American ('haemoglobin' -> 'hemoglobin'); the way back is listed in
    `surface_forms` (it is not derivable: 'e' -> 'ae' would be everywhere)."""
    out = {text}
    for brit, amer in _SPELLINGS:
        out |= {t.replace(brit, amer) for t in out if brit in t}
    return out


def _plural_variants(text: str) -> set[str]:
    words = text.split()
    if not words:
        return set()
    last = words[-1]
    forms = {last}
    if last.endswith("ies") and len(last) > 4:
        forms.add(last[:-3] + "y")
    elif last.endswith("s") and len(last) > 3 and not last.endswith("ss"):
        forms.add(last[:-1])
    else:
        forms.add(last + ("es" if last.endswith(("s", "x", "ch", "sh")) else "s"))
    return {" ".join([*words[:-1], f]) for f in forms}


def split_entity(entity: str) -> tuple[str, str | None]:
    """('long form', 'ABBR') from 'long form (ABBR)'; (entity, None) when there is no abbreviation."""
    m = re.match(r"^(.*?)\s*\(([^()]+)\)\s*$", entity.strip())
    if m and m.group(1):
        return m.group(1).strip(), m.group(2).strip()
    return entity.strip(), None


def surface_forms(entity: str) -> list[str]:
    """The long form's spellings and numbers (normalised words), and the abbreviation as written."""
    long, abbr = split_entity(entity)
    forms: set[str] = set()
    for spelled in _spelling_variants(normalised(long)):
        forms |= _plural_variants(spelled)
    # American spellings back to British ones are not derivable in general; the common ones:
    base = normalised(long)
    for amer, brit in (("apnea", "apnoea"), ("hemo", "haemo"), ("anemia", "anaemia"), ("tumor", "tumour"),
                       ("anesthe", "anaesthe"), ("edema", "oedema"), ("estrogen", "oestrogen"), ("fetal", "foetal"),
                       ("color", "colour"), ("behavior", "behaviour"), ("pediatric", "paediatric"),
                       ("leukemia", "leukaemia"), ("esophag", "oesophag"), ("orthopedic", "orthopaedic")):
        if amer in base:
            forms |= _plural_variants(base.replace(amer, brit))
    out = sorted(f for f in forms if f)
    if abbr and len(abbr) >= 2:
        out.append(abbr)
    return out


def _abbr_in(text: str, abbr: str) -> bool:
    return bool(re.search(rf"(?<![\w-]){re.escape(abbr)}s?(?![\w-])", text))


def names(text: str, entity: str) -> bool:
    """Whether `text` names the entity in any of its surface forms (the abbreviation in its own case)."""
    _, abbr = split_entity(entity)
    norm = normalised(text)
    for form in surface_forms(entity):
        if form == abbr:
            if _abbr_in(text, abbr):
                return True
        elif contains_phrase(norm, form, haystack_normalised=True):
            return True
    return False


def _form_spans(text: str, entity: str) -> list[tuple[int, int]]:
    """Character spans in `text` where a surface form of the entity is written (case-insensitive)."""
    spans = []
    _, abbr = split_entity(entity)
    for form in surface_forms(entity):
        if form == abbr:
            pattern = rf"(?<![\w-]){re.escape(abbr)}s?(?![\w-])"
            spans += [m.span() for m in re.finditer(pattern, text)]
        else:
            words = [re.escape(w) for w in form.split()]
            pattern = r"(?<![\w])" + r"[\W_]+".join(words) + r"(?![\w])"
            spans += [m.span() for m in re.finditer(pattern, text, re.IGNORECASE)]
    return sorted(spans)


def identifies(text: str, entity: str) -> bool:
    """Whether the sentence defines the entity or makes it the subject of a statement about it."""
    for start, end in _form_spans(text, entity):
        before, after = text[:start], text[end:]
        after_paren = re.sub(r"^\s*\([^)]{1,40}\)", "", after)  # 'X (ABBR) is ...'
        subject = bool(re.search(r"(?:^|[.;:]\s*|\b(?:the|a|an|this|these|that|those|its|their)\s+)$", before,
                                 re.IGNORECASE))
        passive = re.match(r"\s*,?\s*(?:is|are|was|were)\s+(?:also\s+|not\s+)?(?:\w+ed|found|seen|done|made|given|"
                           r"taken|shown|kept|held|put|run|set|met|sought|drawn|grown|known)\b", after_paren,
                           re.IGNORECASE)
        if subject and not passive and re.match(rf"\s*,?\s*{_VERBS}\b", after_paren, re.IGNORECASE):
            return True  # the subject of its clause: 'Leptin is a hormone', 'The PTP (..) opens when'
        if re.match(r"\s*,\s*(?:a|an|the|which|that|one)\b", after_paren, re.IGNORECASE):
            return True  # apposition: 'leptin, a hormone secreted by adipocytes,'
        if re.match(r"\s*\(\s*[A-Za-z][\w-]{0,9}\s*\)", after) and start < len(text) // 2 + 40:
            return True  # the sentence defines its abbreviation
        if re.search(r"\b(?:known as|called|termed|named|designated|referred to as|defined as)\s+(?:the\s+|a\s+)?$",
                     before, re.IGNORECASE):
            return True
        if re.match(r"\s*(?:\([^)]*\)\s*)?(?:refers to|is defined as|denotes|describes)\b", after, re.IGNORECASE):
            return True
    return False
