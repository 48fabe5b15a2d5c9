"""Three-level evidence selection: documents, then paragraphs, then sentences; quantitative goals."""

from __future__ import annotations

from sciresearcher.knowledge.evidence import EvidenceSelector, is_quantitative, numeric_weight
from sciresearcher.records import Document, Section

DOCS = [
    Document(id="x:enzyme", title="Glucokinase kinetics", sections=[
        Section(title="Introduction", text="Glucokinase phosphorylates glucose in the liver and pancreas.\n\n"
                                           "It is regulated by a nuclear regulatory protein."),
        Section(title="Results", text="The enzyme showed cooperative kinetics with glucose. "
                                      "The half-saturation constant of glucokinase for glucose was 8.2 mM at 30 °C. "
                                      "The Hill coefficient was 1.7.\n\n"
                                      "Mutations near the active site lowered the affinity for glucose."),
    ]),
    Document(id="x:birds", title="Migration of arctic terns", text="Arctic terns migrate from pole to pole each year.\n\n"
             "Tracking showed flights of about 70,900 km per year."),
    Document(id="x:heme", title="Hemoglobin", text="Hemoglobin binds oxygen cooperatively in red blood cells."),
]


def test_three_levels_keep_the_right_document_paragraph_and_sentence():
    sel = EvidenceSelector(use_dense=False).select(
        "half-saturation constant of glucokinase for glucose", DOCS, top_docs=2, top_paragraphs=2, top_sentences=2)
    assert sel.documents[0].doc_id == "x:enzyme" and sel.documents[0].level == "document"
    assert len(sel.documents) == 2
    assert sel.paragraphs[0].locator.section_title == "Results" and sel.paragraphs[0].level == "paragraph"
    assert {p.doc_id for p in sel.paragraphs} <= {d.doc_id for d in sel.documents}
    best = sel.sentences[0]
    assert best.level == "sentence" and "8.2 mM" in best.text
    assert best.locator.section == 1 and best.locator.paragraph == 0 and best.locator.sentence == 1
    assert best.score >= sel.sentences[-1].score
    assert sel.all == sel.documents + sel.paragraphs + sel.sentences


def test_quantitative_goal_favours_numbers_with_units():
    doc = Document(id="x:q", text="The tern flight distance was remarkable among all seabirds studied.\n\n"
                                  "The tern flight distance was 70,900 km per year.")
    goal = "How many km is the tern flight distance per year?"
    assert is_quantitative(goal) and not is_quantitative("Which protein regulates glucokinase?")
    sel = EvidenceSelector(use_dense=False).select(goal, [doc], top_sentences=1)
    assert "70,900 km" in sel.sentences[0].text
    assert numeric_weight("8.2 mM") == 1.0 and numeric_weight("3 cuttings") == 0.4 and numeric_weight("none") == 0.0
    # figure labels, citation markers and years are not quantities
    assert numeric_weight("figure 3") == numeric_weight("see [12]") == numeric_weight("in 2004 Smith et al.") == 0.0


def test_dense_scoring_finds_paraphrases(scifact_docs):
    doc = next(d for d in scifact_docs if d.sentences and len(d.sentences) > 5)
    target = doc.sentences[3]
    sel = EvidenceSelector().sentences(target, [doc], k=1)
    assert sel[0].locator.sentence == 3 and sel[0].doc_id == doc.id


def test_empty_documents_give_an_empty_selection():
    sel = EvidenceSelector(use_dense=False).select("anything", [Document(id="x:empty", text="")])
    assert sel.documents == [] and sel.sentences == []


def test_rereading_with_a_new_goal_embeds_only_what_is_new():
    """The selector's encoder remembers paragraph and sentence vectors; the cache is bounded (LRU)."""
    sel = EvidenceSelector(use_dense=True)
    enc = sel._encoder_or_none()
    if enc is None:
        import pytest

        pytest.skip("the dense model is not installed")
    embedded: list[str] = []
    real = enc._encode

    def counting(texts, **kw):
        embedded.extend(texts)
        return real(texts, **kw)

    enc._encode = counting
    first = sel.select("glucokinase half-saturation constant", DOCS)
    n_first = len(embedded)
    embedded.clear()
    again = sel.select("glucokinase half-saturation constant", DOCS)
    assert embedded == [] and [e.text for e in again.sentences] == [e.text for e in first.sentences]
    sel.select("how far do arctic terns fly", DOCS)
    assert embedded[:1] == ["how far do arctic terns fly"] and len(embedded) < n_first

    small = type(enc)(cache_size=2)
    vecs = small.encode(["a", "b", "c", "a"])
    assert vecs.shape[0] == 4 and (vecs[0] == vecs[3]).all() and len(small._cache) == 2
    assert abs(float(vecs[0] @ small.encode(["a"])[0]) - 1.0) < 1e-5
