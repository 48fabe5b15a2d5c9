"""The local index: BM25 / dense / hybrid search, persistence, manifest, reuse, incremental add, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sciresearcher.errors import ConfigError, DataError
from sciresearcher.knowledge.index import LocalIndex
from sciresearcher.knowledge.index_build import build_index
from sciresearcher.records import Document


def test_bm25_finds_a_document_by_its_title_words(bm25_index, scifact_docs):
    target = scifact_docs[7]
    hits = bm25_index.search(target.title, k=5, mode="bm25")
    assert hits[0].doc_id == target.id
    assert hits[0].title == target.title and hits[0].snippet
    assert hits[0].locator.paragraph == 0


def test_manifest_and_reload(bm25_index, scifact_docs):
    manifest = json.loads((bm25_index.path / "manifest.json").read_text())
    assert manifest["documents"] == len(scifact_docs) and manifest["dense"] is False
    assert manifest["params"]["bm25"]["k1"] == 1.2 and len(manifest["corpus_hash"]) == 32
    again = LocalIndex.load(bm25_index.path)
    q = scifact_docs[3].title
    assert [h.doc_id for h in again.search(q, mode="bm25")] == [h.doc_id for h in bm25_index.search(q, mode="bm25")]
    assert again.get(scifact_docs[0].id) == scifact_docs[0]


def test_dense_mode_falls_back_to_bm25_without_dense_part(bm25_index, scifact_docs):
    assert bm25_index.modes == ["bm25"]
    assert bm25_index.search(scifact_docs[1].title, mode="hybrid")[0].doc_id == scifact_docs[1].id


def test_reuse_incremental_add_and_rebuild(tmp_path: Path, scifact_docs):
    out = tmp_path / "idx"
    first = build_index(scifact_docs[:20], out, dense=False)
    stamp = first.manifest["built_at"]
    same = build_index(scifact_docs[:20], out, dense=False)
    assert same.manifest["built_at"] == stamp and len(same.documents) == 20  # reused, not rebuilt
    grown = build_index(scifact_docs[:30], out, dense=False)
    assert len(grown.documents) == 30
    assert [d.id for d in grown.documents[:20]] == [d.id for d in scifact_docs[:20]]  # old rows kept in place
    assert grown.search(scifact_docs[25].title, mode="bm25")[0].doc_id == scifact_docs[25].id
    changed = build_index(scifact_docs[:30], out, dense=False, k1=0.9)
    assert changed.manifest["params"]["bm25"]["k1"] == 0.9
    edited = scifact_docs[0].model_copy(update={"text": "Completely different text about zebrafish fins.", "sentences": None})
    rebuilt = build_index([edited] + scifact_docs[1:30], out, dense=False, k1=0.9)
    assert rebuilt.search("zebrafish fins", mode="bm25")[0].doc_id == edited.id
    assert not (tmp_path / "idx.tmp-build").exists()


def test_empty_corpus_is_a_clear_error(tmp_path: Path):
    with pytest.raises(DataError, match="corpus is empty"):
        build_index([], tmp_path / "x", dense=False)
    with pytest.raises(DataError, match="no text"):
        build_index([Document(id="x:1", text="   ")], tmp_path / "x", dense=False)


def test_missing_index_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="manifest.json missing"):
        LocalIndex.load(tmp_path / "nothing")


def test_dense_and_hybrid(dense_index, scifact_docs):
    target = scifact_docs[4]
    paraphrase = " ".join(target.sentences[0].split()[:25]) if target.sentences else target.title
    for mode in ("dense", "hybrid"):
        hits = dense_index.search(paraphrase, k=3, mode=mode)
        assert hits[0].doc_id == target.id, mode
    rrf = dense_index.search(paraphrase, k=3, mode="hybrid", fusion="rrf")
    assert rrf[0].doc_id == target.id
    assert dense_index.manifest["model"] == "all-MiniLM-L6-v2" and dense_index.manifest["dim"] == 384


def test_index_built_with_another_model_is_an_error(dense_index):
    with pytest.raises(ConfigError, match="built with embedding model 'all-MiniLM-L6-v2'"):
        LocalIndex.load(dense_index.path, model="some/other-model", check_model=True)
    assert LocalIndex.load(dense_index.path, model=None, check_model=True).dense is not None


def test_ties_and_float_noise_never_reorder_hits(tmp_path: Path):
    """Same inputs, same hits, in every process: tied scores break by passage order, scores are rounded."""
    import subprocess
    import sys

    from sciresearcher.knowledge.index import _stable, _topk
    from sciresearcher.knowledge.index_build import build_index

    docs = [Document(id=f"doc:{i:02d}", title="Same title", text="butane propane ether solvent boiling point")
            for i in range(12)]
    index = build_index(docs, tmp_path / "ties", dense=False)
    hits = [h.doc_id for h in index.search("boiling point of butane", k=8, mode="bm25")]
    assert hits == [f"doc:{i:02d}" for i in range(8)]  # all tied: index order, not the partition's whim
    scores = _stable(np.array([1.0, 1.0 + 1e-9, 0.5, 1.0 - 1e-9]))
    assert list(_topk(scores, 2)) == [0, 1] and list(_topk(scores, 3)) == [0, 1, 3]
    code = ("import sys; from sciresearcher.knowledge.index import LocalIndex; "
            f"print([h.doc_id for h in LocalIndex.load({str(tmp_path / 'ties')!r}).search('boiling point', k=5, "
            "mode='bm25')])")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)}
    assert len(runs) == 1 and "doc:00" in runs.pop()


def test_embedding_store_reuses_passages_across_builds(tmp_path: Path, scifact_docs, dense_index, caplog):
    import numpy as np

    from sciresearcher.knowledge.embedding import EmbeddingStore

    docs = scifact_docs[:30]  # the dense_index fixture's documents, embedded there without a store
    store_dir = tmp_path / "store"
    first = build_index(docs[:20], tmp_path / "a", embedding_store=EmbeddingStore(store_dir))
    assert first.build_stats["passages_embedded"] == len(first.passages) and first.build_stats["documents_added"] == 20
    np.testing.assert_allclose(np.asarray(first.dense), np.asarray(dense_index.dense)[:len(first.passages)], atol=1e-5)
    # another index over more of the same texts (a fresh process: a fresh store object) embeds only the new ones
    second = build_index(docs, tmp_path / "b", embedding_store=EmbeddingStore(store_dir))
    assert second.build_stats["embeddings_from_cache"] == len(first.passages)
    assert second.build_stats["passages_embedded"] == len(second.passages) - len(first.passages)
    np.testing.assert_allclose(np.asarray(second.dense), np.asarray(dense_index.dense), atol=1e-5)
    assert second.search(docs[25].title, mode="hybrid")[0].doc_id == docs[25].id
    # a rebuild with other BM25 parameters embeds nothing; an unreadable shard is skipped with a warning
    shard = next(iter(store_dir.rglob("*.npz")))
    (shard.parent / "broken.npz").write_bytes(b"not a shard")
    with caplog.at_level("WARNING", logger="sciresearcher.knowledge.embedding"):
        third = build_index(docs, tmp_path / "b", k1=0.9, embedding_store=EmbeddingStore(store_dir))
    assert third.build_stats["passages_embedded"] == 0 and third.build_stats["documents_per_s"] > 0
    assert any("unreadable embedding cache shard" in r.getMessage() for r in caplog.records)
    # nothing to add: no build work, stats say so
    assert build_index(docs, tmp_path / "b", k1=0.9).build_stats["documents_added"] == 0
