"""Grader throughput and self-consistency on the shared eval files (SuperGPQA, PubMedQA, SciBench, SciFact).

For each benchmark: load it, grade every gold answer given back in the HLE final-answer format (must all be
correct), and grade a deliberately wrong answer (must all be wrong). Prints counts and grades per second;
the last line is the key figure.
"""

from __future__ import annotations

import time

from sciresearcher.grade.graders import grade
from sciresearcher.tasks.registry import load_benchmark


def wrong_answer(task) -> str:
    if task.answer_type == "multipleChoice":
        return "A" if task.answer != "A" else "B"
    if task.answer_type == "yesNo":
        return "no" if task.answer != "no" else "yes"
    if task.answer_type == "numeric":
        return "-1e30"
    return "something else entirely"


def main() -> None:
    total, seconds, agree = 0, 0.0, 0
    for name in ("supergpqa-hard-bio", "pubmedqa", "scibench", "scifact"):
        bench = load_benchmark(name)
        start = time.perf_counter()
        ok = sum(grade(t, f"Explanation: -\nAnswer: {t.answer} {t.unit or ''}\nConfidence: 50%").correct
                 for t in bench.tasks)
        bad = sum(not grade(t, f"Answer: {wrong_answer(t)}").correct for t in bench.tasks)
        elapsed = time.perf_counter() - start
        n = len(bench.tasks)
        print(f"{name}: {n} tasks, gold graded correct {ok}/{n}, wrong graded wrong {bad}/{n}, "
              f"{2 * n / elapsed:,.0f} grades/s")
        total, seconds, agree = total + 2 * n, seconds + elapsed, agree + ok + bad
    print(f"grader self-consistency {agree}/{total} ({100 * agree / total:.2f}%), {total / seconds:,.0f} grades/s")


if __name__ == "__main__":
    main()
