"""Metrics over graded samples: accuracy with a 95% interval, unbiased pass@k, maj@k, calibration error,
breakdowns by category and answer type, depth (turns, tool calls) against correctness and difficulty, cost, and
two models on the same tasks (tasks gained and lost, McNemar's exact test).

Input is a list of `Sample` rows (one per task x sample). The denominator is always every task in the
benchmark, overall and per category: a task with no sample, or a sample with no answer, counts as wrong.
`DEFINITIONS` says what each figure is (it is written into every summary): "first-sample accuracy" beside
"mean accuracy over samples", the maj@k tie rule, which calibration figure to read below 200 items. Pure
computation; loading and grading happen elsewhere.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sample:
    task_id: str
    correct: bool
    extracted: str | None = None
    confidence: float | None = None  # 0-1
    category: str | None = None
    answer_type: str | None = None
    difficulty: str | None = None
    turns: int | None = None
    tool_calls: int | None = None
    cost_usd: float = 0.0
    status: str = "ok"
    extra: dict[str, Any] = field(default_factory=dict)


def wilson_interval(correct: int, total: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval for a proportion (well-behaved at 0, 1 and small n)."""
    if total == 0:
        return 0.0, 0.0
    p = correct / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): 1 - C(n-c, k) / C(n, k), as a stable running product."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples per task, got {n}")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


@dataclass(frozen=True)
class PairedComparison:
    """Two models graded on the same tasks: how many tasks only `b` solves (gained), only `a` solves (lost), both or
    neither, and the exact two-sided McNemar p-value (a binomial test on the discordant tasks: under "no
    difference" each is equally likely to fall either way). A 0.05 accuracy gap on 100 tasks can be 5 gained and
    0 lost (p 0.06) or 20 gained and 15 lost (p 0.50): the flips say which."""

    gained: int
    lost: int
    both: int
    neither: int
    p_value: float

    @property
    def tasks(self) -> int:
        return self.gained + self.lost + self.both + self.neither


def paired_comparison(a: dict[str, bool], b: dict[str, bool]) -> PairedComparison:
    """Compare `b` against `a` (task id -> correct) on the tasks both were graded on; raises if they share none."""
    shared = a.keys() & b.keys()
    if not shared:
        raise ValueError("the two models were graded on no common task: compare runs of the same task set")
    gained = sum(1 for t in shared if b[t] and not a[t])
    lost = sum(1 for t in shared if a[t] and not b[t])
    both = sum(1 for t in shared if a[t] and b[t])
    discordant, k = gained + lost, min(gained, lost)
    tail = sum(math.comb(discordant, i) for i in range(k + 1)) / 2 ** discordant if discordant else 1.0
    return PairedComparison(gained, lost, both, len(shared) - gained - lost - both, min(1.0, 2 * tail))


def calib_err_official(confidence: list[float], correct: list[bool], p: str = "2", beta: int = 100) -> float:
    """HLE's calibration error, exactly as its official script computes it (confidence in 0-1).

    It bins by sorted confidence in bins of `beta` and skips the last bin, so it returns 0 for fewer than
    200 items (and fails below 100): see `calib_err_corrected`.
    """
    import numpy as np

    conf, corr = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    idx = np.argsort(conf)
    conf, corr = conf[idx], corr[idx]
    bins = [[i * beta, (i + 1) * beta] for i in range(len(conf) // beta)]
    if not bins:
        return 0.0  # the official routine raises IndexError here
    bins[-1] = [bins[-1][0], len(conf)]
    cerr, total = 0.0, len(conf)
    for i in range(len(bins) - 1):
        bin_conf, bin_corr = conf[bins[i][0]:bins[i][1]], corr[bins[i][0]:bins[i][1]]
        n = len(bin_conf)
        if n > 0:
            diff = abs(float(np.nanmean(bin_conf)) - float(np.nanmean(bin_corr)))
            if p == "2":
                cerr += n / total * diff ** 2
            elif p == "1":
                cerr += n / total * diff
            elif p in ("infty", "infinity", "max"):
                cerr = max(cerr, diff)
    return math.sqrt(cerr) if p == "2" else cerr


def calib_err_corrected(confidence: list[float], correct: list[bool], beta: int | None = None) -> float:
    """RMS calibration error over ALL bins (the last included), bin size min(100, max(10, n // 10))."""
    n = len(confidence)
    if n == 0:
        return 0.0
    beta = beta or min(100, max(10, n // 10))
    pairs = sorted(zip(confidence, correct, strict=True), key=lambda x: x[0])
    cerr = 0.0
    for start in range(0, n, beta):
        chunk = pairs[start:start + beta]
        if start + beta < n < start + 2 * beta:  # fold a short tail into the last bin
            chunk = pairs[start:]
        diff = abs(sum(c for c, _ in chunk) / len(chunk) - sum(1.0 for _, ok in chunk if ok) / len(chunk))
        cerr += len(chunk) / n * diff ** 2
        if len(chunk) > beta:
            break
    return math.sqrt(cerr)


DEFINITIONS = {
    "denominator": "every task of the benchmark: a task with no sample (or whose samples could not be graded) "
                   "counts as wrong, in the overall figures and in each category alike",
    "first_sample_accuracy": "share of tasks whose first sample (sample 0) is correct; 'accuracy' is the same "
                             "figure under its older name",
    "mean_sample_accuracy": "mean over tasks of the share of that task's samples that are correct (equals pass@1)",
    "pass_at_k": "unbiased pass@k (Chen et al. 2021) averaged over tasks; reported for k up to the fewest "
                 "samples any answered task has",
    "maj_at_k": "majority vote over the first k samples' extracted answers (case-insensitive; options named in "
                "the task's own order); a tie goes to the answer given first (lowest sample index); samples "
                "without an answer do not vote, and a task with no votes counts as wrong",
    "calibration_error": "RMS calibration error of first samples over all bins (bin size min(100, max(10, n // 10)));"
                         " 'calibration_error_official' is HLE's script, which skips its last bin and so is 0 below "
                         "200 items",
}
MAJ_TIE_RULE = DEFINITIONS["maj_at_k"]


def _group_stats(rows: Iterable[tuple[str, Sample | None]]) -> dict[str, dict[str, float]]:
    """Per group: tasks, correct first samples, tasks without a sample, and first-sample accuracy over all tasks."""
    groups: dict[str, list[Sample | None]] = defaultdict(list)
    for key, first in rows:
        groups[key].append(first)
    out = {}
    for key, firsts in sorted(groups.items()):
        correct = sum(1 for f in firsts if f is not None and f.correct)
        out[key] = {"n": len(firsts), "correct": correct, "missing": sum(f is None for f in firsts),
                    "accuracy": correct / len(firsts)}
    return out


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def summarize(samples: list[Sample], task_ids: list[str], ks: Iterable[int] = (1,),
              groups: dict[str, tuple[str | None, str | None]] | None = None) -> dict[str, Any]:
    """Accuracy, pass@k and maj@k over all `task_ids`, calibration, the breakdowns (see DEFINITIONS).

    `groups` gives each task's (category, answer type), so tasks without a sample land in their category;
    without it they are grouped under 'unknown'. Samples of one task are taken in list order (sample 0 first).
    """
    by_task: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_task[s.task_id].append(s)
    total = len(task_ids)
    firsts = [by_task[t][0] if by_task.get(t) else None for t in task_ids]
    correct = sum(1 for s in firsts if s is not None and s.correct)
    acc = correct / total if total else 0.0
    lo, hi = wilson_interval(correct, total)
    answered = [t for t in task_ids if by_task.get(t)]
    n_min = min((len(by_task[t]) for t in answered), default=0)
    per_task = [sum(s.correct for s in by_task[t]) / len(by_task[t]) if by_task.get(t) else 0.0 for t in task_ids]
    out: dict[str, Any] = {
        "n_tasks": total, "n_samples": len(samples), "samples_per_task_min": n_min,
        "missing_tasks": total - len(answered),
        "first_sample_accuracy": acc, "accuracy": acc, "accuracy_ci95": [lo, hi],
        "correct_first_samples": correct,
        "mean_sample_accuracy": sum(per_task) / total if total else 0.0,
        "correct_samples": sum(s.correct for s in samples),
        # HLE's own script reports a normal-approximation half-width: 1.96 * sqrt(p (1 - p) / n)
        "accuracy_ci95_halfwidth_normal": 1.96 * math.sqrt(acc * (1 - acc) / total) if total else 0.0,
        "pass_at_k": {}, "maj_at_k": {}, "not_reported": {},
    }
    for k in sorted(set(ks)):
        if total and answered and n_min >= k:
            out["pass_at_k"][str(k)] = sum(pass_at_k(len(by_task[t]), sum(s.correct for s in by_task[t]), k)
                                           for t in answered) / total
            out["maj_at_k"][str(k)] = sum(_majority_correct(by_task[t][:k]) for t in answered) / total
        elif total:
            short = sum(1 for t in answered if len(by_task[t]) < k)
            out["not_reported"][f"pass@{k}"] = (f"{short} answered tasks have fewer than {k} samples" if answered
                                                else "no task has a sample")
    if answered and total:  # pass@k for every k <= n (the curve the report plots)
        out["pass_at_k_curve"] = {str(k): sum(pass_at_k(len(by_task[t]), sum(s.correct for s in by_task[t]), k)
                                              for t in answered) / total for k in range(1, n_min + 1)}
    conf = [(s.confidence if s.confidence is not None else 1.0, s.correct) for s in firsts if s is not None]
    conf += [(1.0, False)] * out["missing_tasks"]
    if conf:
        cs, ok = [c for c, _ in conf], [o for _, o in conf]
        out["calibration_error"] = calib_err_corrected(cs, ok)  # the figure to read first
        out["calibration_error_corrected"] = out["calibration_error"]
        out["calibration_error_official"] = calib_err_official(cs, ok)
        if len(cs) < 200:
            out["calibration_note"] = (f"{len(cs)} items: HLE's official routine skips its last bin and returns 0 "
                                       "below 200 items; read calibration_error (corrected)")
    info = groups or {}

    def group(task_id: str, first: Sample | None, index: int) -> str:
        given = info.get(task_id, (None, None))[index]
        if given:
            return given
        if first is None:
            return "unknown"
        return (first.category if index == 0 else first.answer_type) or "none"

    for key, index in (("by_category", 0), ("by_answer_type", 1)):
        out[key] = _group_stats((group(t, first, index), first) for t, first in zip(task_ids, firsts, strict=True))
    failures = Counter(s.extra["grade_failure"] for s in samples if s.extra.get("grade_failure"))
    if failures:
        out["grading_failures"] = {**failures, "task_ids": sorted({s.task_id for s in samples
                                                                   if s.extra.get("grade_failure")})[:20]}
    out["depth"] = depth_analysis(samples)
    out["cost_usd"] = sum(s.cost_usd for s in samples)
    out["status"] = dict(Counter(s.status for s in samples))
    out["definitions"] = DEFINITIONS
    return out


def _majority_correct(samples: list[Sample]) -> float:
    """Whether the majority answer of `samples` is correct; ties go to the answer given first (MAJ_TIE_RULE)."""
    votes = Counter((s.extracted or "").strip().lower() for s in samples if s.extracted)
    if not votes:
        return 0.0
    top = max(votes.values())
    winner = next(key for key in votes if votes[key] == top)  # Counter keeps first-seen order: earliest wins
    return 1.0 if any(s.correct for s in samples if (s.extracted or "").strip().lower() == winner) else 0.0


def depth_analysis(samples: list[Sample]) -> dict[str, Any]:
    """Mean turns and tool calls by correctness and by difficulty (the paper's adaptive-depth analysis)."""
    def stats(rows: list[Sample]) -> dict[str, Any]:
        return {"n": len(rows), "mean_turns": _mean([s.turns for s in rows if s.turns is not None]),
                "mean_tool_calls": _mean([s.tool_calls for s in rows if s.tool_calls is not None])}

    by_diff: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_diff[s.difficulty or "unknown"].append(s)
    return {
        "correct": stats([s for s in samples if s.correct]),
        "wrong": stats([s for s in samples if not s.correct]),
        "by_difficulty": {k: stats(v) for k, v in sorted(by_diff.items())},
    }
