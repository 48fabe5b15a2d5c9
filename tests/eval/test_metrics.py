"""Metrics: pass@k against brute-force enumeration, Wilson intervals, calibration, the summary's denominators."""

from __future__ import annotations

import itertools
import random

import pytest

from sciresearcher.grade.metrics import (
    Sample,
    calib_err_corrected,
    calib_err_official,
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
    assert out["pass_at_k"] == {}  # task c has no samples: pass@k cannot be computed honestly
    out = summarize(samples, ["a", "b"], ks=[1, 2])
    assert out["pass_at_k"]["1"] == pytest.approx(0.5) and out["pass_at_k"]["2"] == pytest.approx(1.0)
    assert out["by_category"]["bio"]["accuracy"] == 1.0


def test_summary_has_pass_at_k_for_every_k_up_to_n():
    samples = [Sample("a", ok) for ok in (True, False, False)] + [Sample("b", ok) for ok in (False, False, True)]
    out = summarize(samples, ["a", "b"], ks=[1])
    assert list(out["pass_at_k_curve"]) == ["1", "2", "3"]
    assert out["pass_at_k_curve"]["1"] == pytest.approx(1 / 3) and out["pass_at_k_curve"]["3"] == 1.0
