"""The int8 ONNX twin of the embedding model: agreement with fp32, batching, token limit, export cache, errors,
and how an index records and reuses it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sentence_transformers")
pytest.importorskip("onnxruntime")

from sciresearcher.errors import ConfigError
from sciresearcher.knowledge.embedding import Encoder, resolve_model
from sciresearcher.knowledge.index import INDEX_MAX_TOKENS, LocalIndex
from sciresearcher.knowledge.index_build import build_index
from sciresearcher.knowledge.onnx_int8 import Int8Embedder, int8_embedder


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="module")
def int8(onnx_dir: Path) -> Int8Embedder:
    from sciresearcher.knowledge.embedding import _load

    return int8_embedder(_load(resolve_model(None)), "all-MiniLM-L6-v2", onnx_dir)


def _texts(docs) -> list[str]:
    return [f"{d.title}. {d.text}" for d in docs[:24]] + ["IL-6", "What is the molar mass of water?"]


def test_int8_embeddings_agree_with_fp32(int8: Int8Embedder, scifact_docs):
    texts = _texts(scifact_docs)
    fp32 = Encoder(max_tokens=128).encode(texts)
    got = int8.encode(texts, max_tokens=128)
    assert got.shape == fp32.shape and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-5)
    cos = (got * fp32).sum(1)
    assert cos.min() > 0.98, cos.min()
    # each text is nearest to its own fp32 embedding: the same geometry, not merely similar vectors
    assert ((got @ fp32.T).argmax(1) == np.arange(len(texts))).all()


def test_a_text_gets_the_same_vector_whatever_the_texts_around_it(int8: Int8Embedder, scifact_docs):
    texts = _texts(scifact_docs)
    together = int8.encode(texts, max_tokens=256)
    alone = np.stack([int8.encode([t], max_tokens=256)[0] for t in texts])
    reordered = int8.encode(texts[::-1] + texts[:3], max_tokens=256)
    assert np.array_equal(together, alone)  # bit for bit: no batch-mates in the quantisation scale, rows in order
    assert np.array_equal(reordered[: len(texts)][::-1], together)


def test_max_tokens_cuts_long_texts_only(int8: Int8Embedder, scifact_docs):
    long, short = f"{scifact_docs[0].title}. {scifact_docs[0].text}", "Cobalt has an atomic weight of 58.93."
    first = int8.tokenizer.decode(int8.tokenizer(long, truncation=True, max_length=32)["input_ids"][1:-1])
    cut, full, prefix = int8.encode([long, long, first], max_tokens=32)[0], int8.encode([long], max_tokens=256)[0], \
        int8.encode([first], max_tokens=256)[0]
    assert float(cut @ prefix) > 0.999  # reading 32 tokens of the text = embedding its first 30 word pieces
    assert float(cut @ full) < 0.99
    a, b = int8.encode([short], max_tokens=32)[0], int8.encode([short], max_tokens=256)[0]
    assert float(a @ b) > 0.99999


def test_the_export_is_cached_and_a_damaged_file_is_exported_again(int8: Int8Embedder, onnx_dir: Path,
                                                                   tmp_path: Path, caplog: pytest.LogCaptureFixture):
    from sciresearcher.knowledge.embedding import _load

    [folder] = [p for p in onnx_dir.iterdir() if p.is_dir()]
    model_file = folder / "model-int8.onnx"
    assert folder.name.startswith("all-MiniLM-L6-v2-") and model_file.stat().st_size > 10_000_000
    assert not [p for p in folder.iterdir() if p.name.startswith(".export-")]  # no half-written leftovers
    stamp = model_file.stat().st_mtime_ns
    Int8Embedder.for_model(_load(resolve_model(None)), "all-MiniLM-L6-v2", onnx_dir)
    assert model_file.stat().st_mtime_ns == stamp  # read back, not exported again

    broken = tmp_path / folder.name
    broken.mkdir()
    (broken / "model-int8.onnx").write_bytes(b"not an onnx model")
    with caplog.at_level(logging.WARNING):
        again = Int8Embedder.for_model(_load(resolve_model(None)), "all-MiniLM-L6-v2", tmp_path)
    assert "unreadable" in caplog.text
    vec = again.encode(["cobalt"], max_tokens=128)
    np.testing.assert_allclose(vec, int8.encode(["cobalt"], max_tokens=128), atol=1e-6)


def test_unsupported_pooling_is_a_clear_error(onnx_dir: Path):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Pooling

    from sciresearcher.knowledge.embedding import _load

    base = _load(resolve_model(None))
    maxpool = SentenceTransformer(modules=[base[0], Pooling(384, pooling_mode="max")], device="cpu")
    with pytest.raises(ConfigError, match="mean or CLS pooling") as err:
        Int8Embedder.for_model(maxpool, "maxpool", onnx_dir)
    assert "fp32" in (err.value.hint or "")


def test_encoder_options_and_store_keys():
    assert Encoder().store_key == "all-MiniLM-L6-v2|max_seq_length=256"  # fp32 keys as before: old stores stay valid
    assert Encoder(max_tokens=128).store_key == "all-MiniLM-L6-v2|max_seq_length=128"
    assert Encoder(precision="int8", max_tokens=128).store_key == "all-MiniLM-L6-v2|max_seq_length=128|int8"
    assert Encoder(max_tokens=1000).token_limit == 256  # capped by the model's own limit
    with pytest.raises(ConfigError, match="fp32 or int8"):
        Encoder(precision="bf16")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="at least 8"):
        Encoder(max_tokens=2)


def test_an_index_records_its_embedding_and_queries_the_same_way(tmp_path: Path, scifact_docs, dense_index,
                                                                 caplog: pytest.LogCaptureFixture):
    manifest = json.loads((dense_index.path / "manifest.json").read_text())
    assert manifest["params"]["embedding"] == {"precision": "int8", "max_tokens": INDEX_MAX_TOKENS}  # the defaults
    loaded = LocalIndex.load(dense_index.path)
    assert (loaded.encoder.precision, loaded.encoder.max_tokens) == ("int8", INDEX_MAX_TOKENS)
    target = scifact_docs[4]
    assert loaded.search(target.title, k=3, mode="dense")[0].doc_id == target.id
    # the passages' vectors are what the query-side encoder gives for the same text
    row = next(i for i, p in enumerate(loaded.passages) if p.doc == 4)
    text = f"{target.title}. {loaded.passages[row].text}"
    assert float(loaded.encoder.encode([text])[0] @ np.asarray(loaded.dense[row])) > 0.9999

    fp32 = build_index(scifact_docs[:10], tmp_path / "fp32", precision="fp32", max_tokens=None)
    assert fp32.manifest["params"]["embedding"] == {"precision": "fp32", "max_tokens": None}
    assert LocalIndex.load(fp32.path).encoder.precision == "fp32"
    with caplog.at_level(logging.WARNING):
        again = build_index(scifact_docs[:10], tmp_path / "fp32", precision="int8", max_tokens=None)
    assert "parameters changed" in caplog.text  # a new precision is a rebuild, not a reuse of the fp32 vectors
    assert LocalIndex.load(again.path).encoder.precision == "int8"
    assert float(np.asarray(again.dense[0]) @ np.asarray(fp32.dense[0])) < 0.99999
