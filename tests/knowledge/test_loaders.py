"""Loaders (JSONL, PDF, JATS, HTML, text) and passage splitting with stable locators."""

from __future__ import annotations

from pathlib import Path

import pytest

from sciresearcher.errors import DataError
from sciresearcher.knowledge.loaders import iter_jsonl, load_sources, parse_jats
from sciresearcher.knowledge.passages import locate, paragraphs, split_sentences
from sciresearcher.records import Document, Section

RECORDED = Path(__file__).parent / "recorded"


def _pdf(path: Path, text: str) -> None:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), text)
    doc.save(str(path))


def test_corrupt_jsonl_line_names_file_and_line(tmp_path: Path):
    f = tmp_path / "corpus.jsonl"
    f.write_text('{"id": "x:1", "title": "ok", "text": "fine"}\n\n{"id": "x:2", "text": broken}\n')
    with pytest.raises(DataError, match=r"corpus\.jsonl:3: not valid JSON"):
        load_sources([f])
    f.write_text('{"id": "x:1", "text": "cut')  # no newline: the string is never closed
    with pytest.raises(DataError) as info:
        load_sources([f])
    assert "not valid JSON (Unterminated string starting at column 23)" in str(info.value)
    f.write_text('{"id": x}\n')
    with pytest.raises(DataError, match=r"not valid JSON \(Expecting value at column 8\)"):
        load_sources([f])
    f.write_text('{"title": "no id"}\n')
    with pytest.raises(DataError, match=r"corpus\.jsonl:1: .*'id'"):
        list(iter_jsonl(f))


def test_jsonl_extra_keys_go_to_metadata(tmp_path: Path):
    f = tmp_path / "c.jsonl"
    f.write_text('{"id": "pmid:1", "text": "t", "mesh": ["A"]}\n')
    (doc,) = list(iter_jsonl(f))
    assert doc.metadata == {"mesh": ["A"]}


def test_folder_of_mixed_files_and_unreadable_pdf_is_skipped_and_listed(tmp_path: Path):
    _pdf(tmp_path / "good.pdf", "Kinase activity was 4.2 nmol/min per mg protein.")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (tmp_path / "notes.md").write_text("# Enzyme notes\n\nThe Km was 2 mM.\n")
    (tmp_path / "page.html").write_text(
        "<html><head><title>Enzymes</title></head><body><article><h1>Enzymes</h1>"
        "<p>Hexokinase phosphorylates glucose using ATP. Its Km for glucose is below 0.1 mM in most tissues.</p>"
        "<p>Glucokinase has a much higher Km, around 8 mM, which suits the liver.</p></article></body></html>")
    (tmp_path / "paper.xml").write_bytes((RECORDED / "europepmc_fulltext.xml").read_bytes())
    result = load_sources([tmp_path])
    by_source = {d.source: d for d in result.documents}
    assert set(by_source) == {"pdf", "text", "html", "jats"}
    assert "4.2 nmol/min" in by_source["pdf"].text
    assert by_source["text"].title == "Enzyme notes"
    assert "Glucokinase" in by_source["html"].text
    assert by_source["jats"].id == "doi:10.1158/0008-5472.CAN-04-3123"
    assert [Path(p).name for p, _ in result.skipped] == ["broken.pdf"]
    assert "unreadable PDF" in result.skipped[0][1]


def test_missing_source_is_clear(tmp_path: Path):
    with pytest.raises(DataError, match="source not found"):
        load_sources([tmp_path / "nope"])


def test_jats_sections_and_metadata():
    doc = parse_jats((RECORDED / "europepmc_fulltext.xml").read_bytes())
    assert doc.title == "Characterization of imatinib binding to ABL1 kinase"
    assert doc.pmid == "15710326" and doc.year == 2005
    pars = paragraphs(doc)
    results = [p for p in pars if p.passage.locator.section_title == "Results"]
    assert [p.passage.locator.paragraph for p in results] == [0, 1]
    assert results[1].passage.text.startswith("Binding was measured at 25 °C")


def test_sentence_splitter_keeps_abbreviations_and_decimals():
    text = ("Smith et al. reported a Km of 3.5 mM (Fig. 2). The effect was strong, e.g. in HeLa cells. "
            "J. Doe confirmed it! Was it reproducible? Yes.")
    assert split_sentences(text) == [
        "Smith et al. reported a Km of 3.5 mM (Fig. 2).",
        "The effect was strong, e.g. in HeLa cells.",
        "J. Doe confirmed it!",
        "Was it reproducible?",
        "Yes.",
    ]


def test_locators_are_stable_and_point_at_the_text(plos_docs: list[Document]):
    doc = plos_docs[0]
    first = [(p.passage.locator, p.passage.text) for p in paragraphs(doc)]
    again = [(p.passage.locator, p.passage.text) for p in paragraphs(Document.model_validate_json(doc.model_dump_json()))]
    assert first == again and len(first) > 3
    for par in paragraphs(doc)[:5]:
        assert locate(doc, par.passage.locator) == par.passage.text
        for sent in par.sentence_passages():
            assert locate(doc, sent.locator) == sent.text


def test_corpus_sentences_are_kept_verbatim(scifact_docs: list[Document]):
    doc = next(d for d in scifact_docs if d.sentences)
    (par,) = paragraphs(doc)
    assert [s.locator.sentence for s in par.sentence_passages()] == list(range(len(doc.sentences)))
    assert par.sentence_passages()[2].text == " ".join(doc.sentences[2].split())


def test_long_paragraphs_are_cut_at_sentence_boundaries():
    long = " ".join(f"Sentence number {i} has a few words in it." for i in range(100))
    doc = Document(id="x:1", sections=[Section(title="Body", text=long)])
    pars = paragraphs(doc, max_words=50)
    assert len(pars) > 5 and all(len(p.passage.text.split()) <= 50 for p in pars)
    assert [p.passage.locator.paragraph for p in pars] == list(range(len(pars)))


def test_hugging_face_dataset_from_a_local_folder(tmp_path: Path):
    pytest.importorskip("datasets")
    folder = tmp_path / "myset"
    folder.mkdir()
    (folder / "train.jsonl").write_text(
        '{"_id": "42", "title": "Kinases", "text": "ABL1 is a tyrosine kinase."}\n'
        '{"_id": "pmid:7", "title": "Terns", "text": "Terns migrate."}\n')
    result = load_sources([f"hf:{folder}"])
    assert [d.id for d in result.documents] == ["hf:myset:42", "pmid:7"]
    assert result.documents[0].title == "Kinases" and result.documents[0].source == "hf:myset"
    with pytest.raises(DataError, match="cannot load Hugging Face dataset"):
        load_sources([f"hf:{tmp_path / 'nothing-here'}:train"])
