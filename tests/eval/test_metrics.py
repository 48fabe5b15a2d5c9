"""Metrics: pass@k against brute-force enumeration, Wilson intervals, calibration, the summary's denominators, and the
paired comparison of two models (McNemar's exact test against enumeration)."""

from __future__ import annotations

import itertools
import random

import pytest

from sciresearcher.grade.metrics import (
    Sample,
    calib_err_corrected,
    calib_err_official,
    paired_comparison,
    pass_at_k,
    summarize,
    wilson_interval,
)


@pytest.mark.parametrize("n,c,k", [(n, c, k) for n in range(1, 8) for c in range(n + 1) for k in range(1, n + 1)])
def test_pass_at_k_matches_brute_force(n, c, k):
    outcomes = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    brute = sum(any(outcomes[i] for i in s) for s in subsets) / len(subsets)
    assert pass_at_k(n, c, k) == pytest.approx(brute, abs=1e-12)


def test_pass_at_k_stable_for_large_n():
    assert 0.0 < pass_at_k(1000, 1, 10) < 0.011
    with pytest.raises(ValueError):
        pass_at_k(2, 1, 3)


def test_wilson_interval():
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and 0.25 < hi < 0.32
    lo, hi = wilson_interval(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)


def test_official_calibration_is_zero_below_200_and_corrected_is_not():
    rng = random.Random(0)
    conf = [0.95] * 150
    correct = [rng.random() < 0.2 for _ in range(150)]
    assert calib_err_official(conf, correct) == 0.0
    assert calib_err_corrected(conf, correct) == pytest.approx(0.95 - sum(correct) / 150, abs=0.02)
    conf2 = [0.9] * 300
    corr2 = [True] * 150 + [False] * 150
    assert calib_err_official(conf2, corr2) > 0


def test_summary_counts_missing_tasks_as_wrong():
    samples = [Sample("a", True, "A", 0.9, "bio"), Sample("a", False, "B", 0.5, "bio"),
               Sample("b", False, "C", 0.8, "chem"), Sample("b", True, "D", 0.3, "chem")]
    out = summarize(samples, ["a", "b", "c"], ks=[1, 2])
    assert out["accuracy"] == pytest.approx(1 / 3) and out["missing_tasks"] == 1
    # task c has no samples: wrong at every k, as in the accuracy (the same denominator)
    assert out["pass_at_k"] == {"1": pytest.approx(1 / 3), "2": pytest.approx(2 / 3)}
    assert out["by_category"]["unknown"] == {"n": 1, "correct": 0, "missing": 1, "accuracy": 0.0}
    out = summarize(samples, ["a", "b"], ks=[1, 2])
    assert out["pass_at_k"]["1"] == pytest.approx(0.5) and out["pass_at_k"]["2"] == pytest.approx(1.0)
    assert out["by_category"]["bio"]["accuracy"] == 1.0


def test_summary_has_pass_at_k_for_every_k_up_to_n():
    samples = [Sample("a", ok) for ok in (True, False, False)] + [Sample("b", ok) for ok in (False, False, True)]
    out = summarize(samples, ["a", "b"], ks=[1])
    assert list(out["pass_at_k_curve"]) == ["1", "2", "3"]
    assert out["pass_at_k_curve"]["1"] == pytest.approx(1 / 3) and out["pass_at_k_curve"]["3"] == 1.0


def test_first_sample_accuracy_is_named_and_mean_accuracy_over_samples_is_reported():
    # task a: sample 0 right, 4 of 10 right in all; task b: sample 0 wrong, 6 of 10 right
    samples = [Sample("a", i in (0, 1, 2, 3)) for i in range(10)] + [Sample("b", i in (1, 2, 3, 4, 5, 6))
                                                                      for i in range(10)]
    out = summarize(samples, ["a", "b"], ks=[1, 3])
    assert out["first_sample_accuracy"] == out["accuracy"] == 0.5 and out["correct_first_samples"] == 1
    assert out["mean_sample_accuracy"] == pytest.approx(0.5) and out["correct_samples"] == 10
    assert out["mean_sample_accuracy"] == pytest.approx(out["pass_at_k"]["1"])
    assert "first sample" in out["definitions"]["first_sample_accuracy"]


def test_pass_at_1_is_reported_with_the_default_k_even_with_missing_tasks():
    out = summarize([Sample("a", True)], ["a", "b"], ks=[1, 3])
    assert out["pass_at_k"] == {"1": 0.5} and out["not_reported"] == {"pass@3": "1 answered tasks have fewer than 3 samples"}


def test_maj_at_k_tie_goes_to_the_answer_given_first():
    # two votes each for "B" (right) and "C" (wrong): the first-given answer wins the tie
    first_right = [Sample("a", True, "B"), Sample("a", False, "C"), Sample("a", False, "C"), Sample("a", True, "B")]
    first_wrong = [Sample("a", False, "C"), Sample("a", True, "B"), Sample("a", True, "B"), Sample("a", False, "C")]
    assert summarize(first_right, ["a"], ks=[4])["maj_at_k"]["4"] == 1.0
    out = summarize(first_wrong, ["a"], ks=[4])
    assert out["maj_at_k"]["4"] == 0.0 and "tie goes to the answer given first" in out["definitions"]["maj_at_k"]
    no_votes = [Sample("a", False, None), Sample("a", False, None)]
    assert summarize(no_votes, ["a"], ks=[2])["maj_at_k"]["2"] == 0.0


def test_calibration_below_200_items_reads_the_corrected_figure_first():
    samples = [Sample(str(i), i % 5 == 0, confidence=0.9) for i in range(150)]
    out = summarize(samples, [str(i) for i in range(150)])
    keys = list(out)
    assert keys.index("calibration_error") < keys.index("calibration_error_official")
    assert out["calibration_error"] == pytest.approx(0.7, abs=0.01) and out["calibration_error_official"] == 0.0
    assert "below 200 items" in out["calibration_note"] and "official" in out["definitions"]["calibration_error"]


@pytest.mark.parametrize("gained,lost", [(g, l) for g in range(9) for l in range(9)])
def test_paired_comparison_p_value_matches_enumeration(gained, lost):
    # every way the discordant tasks could fall under "no difference": as or more lopsided than what was seen
    n = gained + lost
    seen = abs(gained - lost)
    outcomes = list(itertools.product([0, 1], repeat=n))
    brute = sum(abs(2 * sum(o) - n) >= seen for o in outcomes) / len(outcomes) if n else 1.0
    a = {f"g{i}": False for i in range(gained)} | {f"l{i}": True for i in range(lost)} | {"both": True, "none": False}
    b = {f"g{i}": True for i in range(gained)} | {f"l{i}": False for i in range(lost)} | {"both": True, "none": False}
    r = paired_comparison(a, b)
    assert (r.gained, r.lost, r.both, r.neither, r.tasks) == (gained, lost, 1, 1, n + 2)
    assert r.p_value == pytest.approx(brute, abs=1e-12)


def test_paired_comparison_known_values_and_shared_tasks_only():
    a = {f"t{i}": False for i in range(5)}
    b = {f"t{i}": True for i in range(5)} | {"only-in-b": True}  # a task one model was not graded on is left out
    r = paired_comparison(a, b)
    assert (r.gained, r.lost, r.tasks) == (5, 0, 5)
    assert r.p_value == pytest.approx(0.0625)
    a = {f"t{i}": i < 15 for i in range(35)}
    b = {f"t{i}": i >= 15 for i in range(35)}
    assert paired_comparison(a, b).p_value == pytest.approx(0.4996, abs=1e-4)


def test_paired_comparison_without_common_tasks_says_so():
    with pytest.raises(ValueError, match="no common task"):
        paired_comparison({"a": True}, {"b": True})
