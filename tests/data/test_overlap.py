"""Word n-gram overlap: normalisation, short texts, containment in both directions."""

from __future__ import annotations

import pytest

from sciresearcher.data.overlap import OverlapIndex, ngrams, words


def test_words_are_normalised_case_and_punctuation_free():
    assert words("The ΔG°, of ATP-hydrolysis (pH 7)!") == ["the", "δg", "of", "atp", "hydrolysis", "ph", "7"]
    assert words("ＦＵＬＬＷＩＤＴＨ text") == ["fullwidth", "text"]  # NFKC


def test_short_texts_are_one_gram_and_empty_texts_none():
    assert ngrams("Is ATP an enzyme?", 8) == {"is atp an enzyme"}
    assert ngrams("  ?! ", 8) == set()
    assert len(ngrams(" ".join(f"w{i}" for i in range(10)), 8)) == 3


def test_best_match_reports_both_containment_ratios():
    index = OverlapIndex(n=3)
    eval_q = "which enzyme catalyses the first committed step of glycolysis in human liver cells"
    index.add("bench", "q1", eval_q)
    index.add("bench", "q2", "what is the boiling point of water at sea level in kelvin")
    # a training question that embeds the eval question inside more text
    wrapped = "Background: we study metabolism in many tissues and organisms. " + eval_q + " and why does it matter"
    match = index.best_match(wrapped)
    assert match.item_id == "q1" and match.item_share == pytest.approx(1.0)
    assert match.query_share < 0.6 and match.overlap == match.item_share
    assert index.best_match("completely unrelated words about galaxies and stars far away") is None


def test_best_match_prefers_the_larger_ratio_over_more_shared_grams():
    index = OverlapIndex(n=2)
    index.add("s", "long", "a b c d e f g h i j k l m n o p")  # shares 3 bigrams of 15
    index.add("s", "short", "x y z")  # shares both of its 2 bigrams
    match = index.best_match("a b c d x y z")
    assert match.item_id == "short" and match.item_share == 1.0


def test_n_must_be_positive():
    with pytest.raises(ValueError):
        OverlapIndex(n=0)
