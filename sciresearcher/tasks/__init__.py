"""Task files and benchmarks: Task JSONL (`files.py`), benchmark files in their released layouts
(`loaders.py`) and which layout a file is in (`layouts.py`), benchmark names and where their data lives
(`registry.py`), the Hub (`hub.py`).

The base layer beside records/runs (see docs/architecture.md): everything that turns a file into Task
records. It does not run, grade or score tasks (`rollout/`, `grade/`, `eval/`).
"""
