"""Turning files into `Document` records: corpus JSONL, PDF, JATS XML, HTML, plain text and Markdown.

`load_sources(paths)` walks files and folders, picks a loader by extension, and returns the documents plus
the files it had to skip (an unreadable PDF is listed, never fatal); `hf:NAME[:SPLIT]` loads a Hugging Face
dataset. A corrupt JSONL line is a `DataError`
naming file and line. `parse_jats`, `parse_html` and `parse_pdf_bytes` also serve fetched content
(`knowledge/fetch.py`). Splitting into paragraphs and sentences is `knowledge/passages.py`'s job.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from sciresearcher.errors import DataError
from sciresearcher.records import Document, Section

log = logging.getLogger(__name__)

SUFFIXES = {".jsonl", ".json", ".pdf", ".xml", ".nxml", ".html", ".htm", ".txt", ".md", ".markdown"}


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def _file_id(path: Path) -> str:
    return "file:" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12] + ":" + path.stem


def iter_jsonl(path: Path) -> Iterator[Document]:
    """Documents from a corpus JSONL (one Document per line; unknown keys go to `metadata`)."""
    known = set(Document.model_fields)
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(
                    # some messages end with "at" already ("Unterminated string starting at")
                    f"{path}:{lineno}: not valid JSON ({exc.msg}{' ' if exc.msg.endswith(' at') else ' at '}"
                    f"column {exc.colno})",
                    hint="fix or delete that line; every line must be one JSON object",
                ) from None
            if not isinstance(raw, dict) or "id" not in raw:
                raise DataError(f"{path}:{lineno}: expected a JSON object with an 'id' field")
            extra = {k: raw.pop(k) for k in list(raw) if k not in known}
            if extra:
                raw["metadata"] = {**raw.get("metadata", {}), **extra}
            try:
                yield Document.model_validate(raw)
            except ValidationError as exc:
                raise DataError(f"{path}:{lineno}: not a valid document: {exc.errors()[0]['msg']}") from None


def parse_jats(xml: bytes | str, *, doc_id: str | None = None, source: str = "jats") -> Document:
    """A JATS article (PMC, Europe PMC, bioRxiv full text) with its sections, DOI, PMID and year."""
    from lxml import etree

    data = xml.encode() if isinstance(xml, str) else xml
    try:
        root = etree.fromstring(data, parser=etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise DataError(f"not readable JATS XML: {exc}") from None
    if root is None:
        raise DataError("not readable JATS XML: empty document")
    article = root if root.tag == "article" else (root.find(".//article") if root.find(".//article") is not None else root)

    def text_of(el: object) -> str:
        return re.sub(r"\s+", " ", "".join(el.itertext())).strip() if el is not None else ""  # type: ignore[attr-defined]

    title = text_of(article.find(".//article-meta//article-title"))
    doi = next((text_of(e) for e in article.iterfind(".//article-meta/article-id") if e.get("pub-id-type") == "doi"), None)
    pmid = next((text_of(e) for e in article.iterfind(".//article-meta/article-id") if e.get("pub-id-type") == "pmid"), None)
    year_el = article.find(".//article-meta/pub-date/year")
    year = int(text_of(year_el)) if year_el is not None and text_of(year_el).isdigit() else None
    sections: list[Section] = []
    abstract = article.find(".//article-meta/abstract")
    if abstract is not None:
        paras = [text_of(p) for p in abstract.iter("p")] or [text_of(abstract)]
        sections.append(Section(title="Abstract", text="\n\n".join(p for p in paras if p)))
    body = article.find(".//body")
    if body is not None:
        secs = body.findall("sec")
        if not secs:
            paras = [text_of(p) for p in body.iter("p")]
            sections.append(Section(title="Body", text="\n\n".join(p for p in paras if p)))
        for sec in secs:
            heading = text_of(sec.find("title"))
            paras = [text_of(p) for p in sec.iter("p")]
            if any(paras):
                sections.append(Section(title=heading, text="\n\n".join(p for p in paras if p)))
    sections = [s for s in sections if s.text.strip()]
    if not sections and not title:
        raise DataError("JATS XML has no title, abstract or body")
    ident = doc_id or (f"doi:{doi}" if doi else f"pmid:{pmid}" if pmid else "jats:" + hashlib.sha1(data).hexdigest()[:12])
    return Document(
        id=ident, title=title, text="\n\n".join(s.text for s in sections), sections=sections or None,
        doi=doi, pmid=pmid, year=year, source=source,
        url=f"https://doi.org/{doi}" if doi else None,
    )


def parse_html(html: str, *, doc_id: str, url: str | None = None, source: str = "html") -> Document:
    """Main text of a web page (trafilatura), falling back to visible text when extraction finds nothing."""
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True) or ""
    meta = trafilatura.extract_metadata(html)
    title = (meta.title if meta is not None and meta.title else "") or ""
    if not text.strip():
        from lxml import html as lhtml

        try:
            tree = lhtml.fromstring(html)
            for bad in tree.xpath("//script|//style|//noscript"):
                bad.drop_tree()
            text = re.sub(r"\n\s*\n+", "\n\n", tree.text_content()).strip()
            title = title or (tree.findtext(".//title") or "").strip()
        except Exception:  # noqa: BLE001 - lxml raises several types on junk input
            text = ""
    if not text.strip():
        raise DataError(f"no readable text in the HTML of {url or doc_id}")
    year = None
    if meta is not None and meta.date and meta.date[:4].isdigit():
        year = int(meta.date[:4])
    return Document(id=doc_id, title=title, text=text.strip(), url=url, year=year, source=source)


def parse_pdf_bytes(data: bytes, *, doc_id: str, url: str | None = None, source: str = "pdf") -> Document:
    """Text of a PDF, one section per page block (pymupdf); raises DataError when it cannot be read."""
    import pymupdf

    try:
        with pymupdf.open(stream=data, filetype="pdf") as pdf:
            title = (pdf.metadata or {}).get("title") or ""
            pages = [page.get_text("text") for page in pdf]
    except Exception as exc:  # noqa: BLE001 - pymupdf raises its own hierarchy and RuntimeError
        raise DataError(f"unreadable PDF {url or doc_id}: {exc}") from None
    # rejoin hard-wrapped lines inside paragraphs; blank lines stay paragraph breaks
    text = "\n\n".join(re.sub(r"(?<![.\n])\n(?!\n)", " ", p).strip() for p in pages if p.strip())
    if not text.strip():
        raise DataError(f"PDF {url or doc_id} has no extractable text (scanned image?)", hint="OCR it first")
    return Document(id=doc_id, title=title.strip(), text=text, url=url, source=source)


def load_file(path: Path) -> list[Document]:
    """Documents from one file, chosen by extension."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json"):
        return list(iter_jsonl(path))
    if suffix == ".pdf":
        doc = parse_pdf_bytes(path.read_bytes(), doc_id=_file_id(path), source="pdf")
        return [doc.model_copy(update={"title": doc.title or path.stem})]
    if suffix in (".xml", ".nxml"):
        return [parse_jats(path.read_bytes(), source="jats")]
    if suffix in (".html", ".htm"):
        return [parse_html(path.read_text(encoding="utf-8", errors="replace"), doc_id=_file_id(path))]
    text = path.read_text(encoding="utf-8", errors="replace")
    title = path.stem
    if suffix in (".md", ".markdown"):
        first = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
        title = first.group(1).strip() if first else title
    return [Document(id=_file_id(path), title=title, text=text, source="text")]


_TEXT_FIELDS = ("text", "abstract", "content", "passage", "context", "body")
_ID_FIELDS = ("id", "_id", "doc_id", "docid", "pmid", "doi")


def load_hf_dataset(spec: str) -> list[Document]:
    """Documents from a Hugging Face dataset: `hf:NAME` or `hf:NAME:SPLIT` (NAME may be a local folder).

    The text is the first of text/abstract/content/passage/context/body, the id the first of
    id/_id/doc_id/docid/pmid/doi (namespaced `hf:NAME:` unless it already has a namespace), plus title.
    Needs network (or the HF cache) for hub datasets; local folders work offline.
    """
    try:
        import datasets
    except ImportError:
        raise DataError("loading Hugging Face datasets needs the `datasets` package",
                        hint="pip install 'sciresearcher[train]'") from None
    body = spec[3:]
    if ":" in body and not Path(body).exists():
        name, split = body.rsplit(":", 1)
    else:
        name, split = body, "train"
    try:
        ds = datasets.load_dataset(name, split=split)
    except Exception as exc:  # noqa: BLE001 - datasets raises many types for missing/offline datasets
        raise DataError(f"cannot load Hugging Face dataset {name!r} (split {split!r}): {exc}",
                        hint="check the name and split; offline, only cached datasets and local folders load") from None
    cols = set(ds.column_names)
    text_f = next((f for f in _TEXT_FIELDS if f in cols), None)
    if text_f is None:
        raise DataError(f"dataset {name!r} has no text column (looked for {', '.join(_TEXT_FIELDS)}; has {sorted(cols)})")
    id_f = next((f for f in _ID_FIELDS if f in cols), None)
    ns = Path(name).name if Path(name).exists() else name
    out = []
    for i, row in enumerate(ds):
        raw_id = str(row[id_f]) if id_f else str(i)
        ident = raw_id if re.match(r"^[a-z][a-z0-9_-]*:", raw_id) else f"hf:{ns}:{raw_id}"
        text = row[text_f]
        text = "\n\n".join(text) if isinstance(text, list) else str(text or "")
        out.append(Document(id=ident, title=str(row.get("title") or ""), text=text, source=f"hf:{ns}",
                            year=row.get("year") if isinstance(row.get("year"), int) else None))
    return out


def _walk(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        elif path.exists():
            yield path
        else:
            raise DataError(f"source not found: {path}", hint="give files or folders of JSONL, PDF, XML, HTML, TXT, MD")


def load_sources(paths: Iterable[Path | str]) -> LoadResult:
    """Loads every file under `paths` (and `hf:NAME[:SPLIT]` datasets); a corrupt JSONL stops with DataError,
    other unreadable files are skipped and listed in `skipped`."""
    result = LoadResult()
    seen: set[str] = set()
    paths = list(paths)
    hf = [str(p) for p in paths if str(p).startswith("hf:")]
    files = [Path(p) for p in paths if not str(p).startswith("hf:")]
    for spec in hf:
        for doc in load_hf_dataset(spec):
            if doc.id not in seen:
                seen.add(doc.id)
                result.documents.append(doc)
    for path in _walk(files):
        try:
            docs = load_file(path)
        except DataError as exc:
            if path.suffix.lower() in (".jsonl", ".json"):
                raise
            log.warning("skipping %s: %s", path, exc)
            result.skipped.append((str(path), str(exc).splitlines()[0]))
            continue
        except (OSError, UnicodeError) as exc:
            log.warning("skipping %s: %s", path, exc)
            result.skipped.append((str(path), str(exc)))
            continue
        for doc in docs:
            if doc.id in seen:
                log.debug("duplicate document id %s in %s: keeping the first", doc.id, path)
                continue
            seen.add(doc.id)
            result.documents.append(doc)
    return result
