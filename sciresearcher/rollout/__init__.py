"""Rollouts: tasks x samples -> graded trajectories in a resumable run directory.

The one runner behind `eval run`, `data rollout` (teacher trajectories) and the synthesis solver votes:
`run_rollouts(tasks, RolloutConfig, out)` runs the agent on every task and sample with a fresh tool session
each, grades each trajectory (rules or the HLE judge), appends it as it finishes and resumes a killed run.
It does not choose tasks (tasks/, synth/) or summarise a benchmark (eval/). See docs/architecture.md.
"""
