"""Copy pretraining: batches are (span, filler, same span) and the tiny model learns to continue a repeat."""

from __future__ import annotations

import itertools
import random
import shutil
from pathlib import Path

import pytest

from sciresearcher.errors import TrainingError
from sciresearcher.train.copy_pretrain import (
    CopyPretrainConfig,
    copy_batch,
    learning_rate_at,
    pretrain_copying,
    pseudo_word,
    with_pseudo_words,
)


def test_copy_batches_mark_exactly_the_repeated_spans():
    texts = [list(range(i * 1000, i * 1000 + 300)) for i in range(5)]  # every token unique: repeats are unambiguous
    config = CopyPretrainConfig(batch_size=4, seq_len=128, min_span=6, max_span=12)
    seqs, masks = copy_batch(texts, random.Random(0), config)
    assert len(seqs) == 4 and all(len(s) == 128 and len(m) == 128 for s, m in zip(seqs, masks, strict=True))
    for seq, mask in zip(seqs, masks, strict=True):
        assert 0 < sum(mask) < len(mask)
        for i, flag in enumerate(mask):
            if flag:  # a masked token occurred earlier in the sequence: it is a copy
                assert seq[i] in seq[:i]
                # and so did the token before it: the first token of a repeat has no cue, so it is not marked
                assert seq[i - 1] in seq[:i - 1]


def test_pseudo_words_replace_words_only_and_keep_their_capitals():
    rng = random.Random(0)
    text = "The density of Lead near room temperature is 11.3 g/cm3 (EP-0058)."
    assert with_pseudo_words(text, 0.0, rng) == text
    replaced = with_pseudo_words(text, 1.0, rng)
    assert replaced != text
    assert "11.3" in replaced and "-0058)" in replaced and replaced.endswith(").")  # numbers stay
    assert not {"density", "Lead", "near", "room", "temperature"} & set(replaced.split())
    assert replaced.split()[0][0].isupper() and replaced.split()[1][0].islower()
    words = {pseudo_word(rng) for _ in range(200)}
    assert len(words) > 150 and all(w.isalpha() and w.islower() for w in words)


def test_copy_batches_with_pseudo_words_repeat_the_same_made_up_words(tiny_tokenizer):
    texts = ["The standard atomic weight of lead is 207.2 g/mol and its density is 11.3 g/cm3 at room temperature."
             for _ in range(3)]
    token_texts = [tiny_tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    config = CopyPretrainConfig(batch_size=4, seq_len=160, min_span=6, max_span=12, pseudo_words=0.5)
    with pytest.raises(TrainingError, match="tokenizer"):
        copy_batch(token_texts, random.Random(0), config)
    seqs, masks = copy_batch(token_texts, random.Random(0), config, tiny_tokenizer)
    vocabulary = set(" ".join(texts).replace(".", " ").split())
    made_up = 0
    for seq, mask in zip(seqs, masks, strict=True):
        assert len(seq) == len(mask) == 160
        for i, flag in enumerate(mask):
            if flag:
                assert seq[i] in seq[:i] and seq[i - 1] in seq[:i - 1]
        made_up += len(set(tiny_tokenizer.decode(seq).replace(".", " ").split()) - vocabulary)
    assert made_up > 0  # the documents' words alone cannot predict the repeats


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_the_tiny_model_learns_to_continue_a_repeat(tmp_path: Path, tiny_model_dir: Path, schedule: str):
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    before = (model / "model.safetensors").read_bytes()
    words = ["protein", "gene", "enzyme", "kinase", "receptor", "binding", "ligand", "membrane", "channel", "carbon",
             "oxygen", "sodium"]
    rng = random.Random(1)
    texts = [" ".join(rng.choice(words) + str(rng.randint(0, 99)) for _ in range(120)) for _ in range(20)]
    config = CopyPretrainConfig(steps=60, batch_size=8, seq_len=96, min_span=6, max_span=16, learning_rate=5e-3,
                                warmup_steps=5, threads=1, schedule=schedule)
    seen: list[float] = []
    figures = pretrain_copying(model, texts, config, on_step=lambda step, acc: seen.append(acc))
    assert figures["steps"] == 60 and len(seen) == 60
    assert figures["copy_accuracy_last"] > figures["copy_accuracy_first"] + 0.1, figures
    assert (model / "model.safetensors").read_bytes() != before  # trained weights saved in place


def test_copy_pretraining_refuses_texts_too_short_to_copy_from(tmp_path: Path, tiny_model_dir: Path):
    with pytest.raises(TrainingError, match="longer than max_span"):
        pretrain_copying(tiny_model_dir, ["too short"], CopyPretrainConfig(steps=5))
    assert pretrain_copying(tiny_model_dir, [], CopyPretrainConfig(steps=0)) == {"steps": 0}


def test_the_rate_warms_up_then_holds_or_anneals_to_zero():
    constant = CopyPretrainConfig(steps=100, warmup_steps=10, learning_rate=1e-3)
    cosine = constant.model_copy(update={"schedule": "cosine"})
    for config in (constant, cosine):  # the same linear warmup
        assert learning_rate_at(1, config) == pytest.approx(1e-4)
        assert learning_rate_at(10, config) == pytest.approx(1e-3)
    assert [learning_rate_at(s, constant) for s in (11, 55, 100)] == pytest.approx([1e-3] * 3)
    assert learning_rate_at(55, cosine) == pytest.approx(5e-4)  # halfway through the decay
    assert learning_rate_at(100, cosine) == pytest.approx(0.0, abs=1e-12)
    rates = [learning_rate_at(s, cosine) for s in range(10, 101)]
    assert all(a >= b for a, b in itertools.pairwise(rates))
    assert learning_rate_at(1, CopyPretrainConfig(steps=5, warmup_steps=0)) == pytest.approx(3e-3)
    with pytest.raises(ValueError, match="schedule"):
        CopyPretrainConfig(steps=5, schedule="linear")


def _copy_run(tmp_path: Path, tiny_model_dir: Path, name: str, **kw) -> tuple[dict, list[float]]:
    model = tmp_path / name
    shutil.copytree(tiny_model_dir, model)
    rng = random.Random(1)
    texts = [" ".join(rng.choice(["kinase", "ligand", "sodium", "carbon"]) + str(rng.randint(0, 99))
                      for _ in range(80)) for _ in range(10)]
    config = CopyPretrainConfig(steps=4, batch_size=4, seq_len=64, min_span=6, max_span=16, threads=1, **kw)
    seen: list[float] = []
    return pretrain_copying(model, texts, config, on_step=lambda step, acc: seen.append(acc)), seen


def test_compiled_copy_pretraining_takes_the_same_steps_as_eager(tmp_path: Path, tiny_model_dir: Path):
    eager, eager_seen = _copy_run(tmp_path, tiny_model_dir, "eager")
    compiled, compiled_seen = _copy_run(tmp_path, tiny_model_dir, "compiled", compile=True)
    assert eager["compiled"] is False and compiled["compiled"] is True
    assert compiled_seen == pytest.approx(eager_seen, abs=0.02)  # same batches, same updates, other float order


def test_copy_pretraining_trains_eagerly_when_it_cannot_compile(tmp_path: Path, tiny_model_dir: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture):
    import torch._dynamo
    import torch._inductor.config as inductor
    from torch._inductor.codecache import CppCodeCache, PyCodeCache

    torch._dynamo.reset()  # forget graphs compiled by earlier tests in this process
    PyCodeCache.cache_clear()
    CppCodeCache.cache_clear()
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))  # nothing compiled before
    monkeypatch.setattr(inductor, "fx_graph_cache", False)
    monkeypatch.setattr(inductor.cpp, "cxx", (str(tmp_path / "no-such-c++"),))  # as on a machine without one
    _, eager_seen = _copy_run(tmp_path, tiny_model_dir, "eager")
    figures, seen = _copy_run(tmp_path, tiny_model_dir, "fallback", compile=True)
    assert figures["compiled"] is False and seen == eager_seen
    assert "torch.compile failed" in caplog.text and "training eagerly" in caplog.text
