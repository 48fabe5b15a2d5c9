"""Fixtures of the pipeline tests: a small offline recipe written to a file, and `sciresearcher pipeline` run in a
subprocess as a user runs it.

`small` is the recipe as a dict (30 tasks of one template, a dozen to train on, the reference policy as the
teacher); `small_recipe(**changes)` writes it, top-level sections replaced by `changes`, with its `out` under the
test's tmp_path (`tmp_path / "p"`); `run_pipeline(*args)` runs the command quietly, offline, and returns the
finished process (its return code is the test's to check).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

SMALL: dict[str, Any] = {
    "name": "small",
    "synth": {"computational": {"n": 30, "templates": ["element_atoms"], "sandbox": {"preload": []}}},
    "clean": {"eval_sets": [], "dedup": False},
    "split": {"max_tasks": {"train": 14, "validation": 4, "test": 4}},
    "teacher": {"policy": "reference", "rollout": {"concurrency": 1, "tools": {
        "knowledge": {"mode": "bm25", "top_k": 2, "read_paragraphs": False, "evidence": {"use_dense": False}},
        "sandbox": {"preload": [], "blocked_modules": ["mendeleev", "chemicals"]}}}},
    "filter": {"min_tool_calls": 3, "max_tool_errors": 0, "screen": None},
}


@pytest.fixture
def small() -> dict[str, Any]:
    """The small recipe as a dict, a copy of its own."""
    return json.loads(json.dumps(SMALL))


@pytest.fixture
def small_recipe(tmp_path: Path, small: dict[str, Any]) -> Callable[..., Path]:
    """Writes the small recipe with `changes` (top-level sections replaced) to tmp_path; returns its path."""

    def write(**changes: object) -> Path:
        data = {**small, "out": str(tmp_path / "p"), **changes}
        path = tmp_path / "small.yaml"
        path.write_text(yaml.safe_dump(data))
        return path

    return write


@pytest.fixture
def run_pipeline() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs `python -m sciresearcher pipeline ARGS -q` from the repository root, offline; returns the process."""

    def run(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "160"}
        return subprocess.run([sys.executable, "-m", "sciresearcher", "pipeline", *args, "-q"], capture_output=True,
                              text=True, env=env, cwd=ROOT, timeout=600, check=False, **kw)

    return run
