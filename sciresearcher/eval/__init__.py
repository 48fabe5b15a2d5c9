"""Evaluation: benchmarks rolled out and summarised (`harness.py`, `eval run`), responses made elsewhere
scored (`score.py`, `eval score`), the HTML report with its trajectory viewer (`report.py`, `plots.py`).

Benchmark files are read by `tasks/`, answers graded by `grade/`, trajectories run by `rollout/`; nothing
below this layer imports it. See docs/architecture.md.
"""
