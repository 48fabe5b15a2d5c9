"""Grader throughput and self-consistency on the shared eval files (SuperGPQA, PubMedQA, SciBench, SciFact).

For each benchmark: load it, grade every gold answer given back in the HLE final-answer format (must all be
correct), grade a deliberately wrong answer (must all be wrong), and grade formatting variants of the gold
answer (must all be correct): lower-case letter, \\boxed{}, **bold**, "(X)", the option's own text, the
SciFact label alone, a boxed yes/no/number. Prints counts and grades per second; the last line is the key
figure.
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


def variants(task, name: str) -> list[str]:
    """Other ways of writing the gold answer that a reader grades as it is."""
    gold = task.answer + (f" {task.unit.strip()}" if task.unit else "")
    if task.answer_type == "multipleChoice":
        text = task.options[ord(task.answer) - 65]
        out = [task.answer.lower(), f"\\boxed{{{task.answer}}}", f"**{task.answer}**", f"({task.answer})",
               f"{task.answer}. {text}"]
        if sum(o == text for o in task.options) == 1:
            out.append(text)
        if name == "scifact":  # the label alone
            out.append(text.split(":")[0])
        return out
    return [f"\\boxed{{{gold}}}", f"**{gold}**"]


def reply(answer: str) -> str:
    return f"Explanation: -\nAnswer: {answer}\nConfidence: 50%"


def main() -> None:
    total, seconds, agree = 0, 0.0, 0
    for name in ("supergpqa-hard-bio", "pubmedqa", "scibench", "scifact"):
        bench = load_benchmark(name)
        start = time.perf_counter()
        ok = sum(grade(t, reply(f"{t.answer} {t.unit or ''}")).correct for t in bench.tasks)
        bad = sum(not grade(t, f"Answer: {wrong_answer(t)}").correct for t in bench.tasks)
        forms = [(t, v) for t in bench.tasks for v in variants(t, name)]
        var = sum(grade(t, reply(v)).correct for t, v in forms)
        elapsed = time.perf_counter() - start
        n = len(bench.tasks)
        print(f"{name}: {n} tasks, gold graded correct {ok}/{n}, wrong graded wrong {bad}/{n}, "
              f"formatting variants of gold graded correct {var}/{len(forms)}, "
              f"{(2 * n + len(forms)) / elapsed:,.0f} grades/s")
        total, seconds, agree = total + 2 * n + len(forms), seconds + elapsed, agree + ok + bad + var
    print(f"grader self-consistency {agree}/{total} ({100 * agree / total:.2f}%), {total / seconds:,.0f} grades/s")


if __name__ == "__main__":
    main()
