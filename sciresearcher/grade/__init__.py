"""Correctness: rule-based graders, answer parsing, numeric comparison with units, the HLE judge,
the grade of a whole trajectory (rules or judge, a failure recorded as a failed grade) and the metrics of
many grades (accuracy intervals, pass@k, calibration).

Used by every stage above it (rollouts, synthesis checks, rejection sampling, rewards, evaluation); it
does not run agents. See docs/architecture.md.
"""
