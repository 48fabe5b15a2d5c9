"""The main agent: the loop (`loop.py`), its prompts and final-answer format, tool schemas and execution
(`tools.py`), the `search`, `read` and `python` tools, and `toolbox.py`, the one place tools are assembled.

It runs one trajectory at a time (`run_agent`) or a batch (`batch.py`); grading, recording many
trajectories and resuming are `grade/` and `rollout/`. See docs/architecture.md.
"""
