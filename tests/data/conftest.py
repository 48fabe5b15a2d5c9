"""Fixtures of the data tests: one task and real trajectories of several teacher behaviours on it."""

from __future__ import annotations

import pytest
from data_helpers import BEHAVIOURS, make_trajectory

from sciresearcher.records import Task, Trajectory


@pytest.fixture
def task_five() -> Task:
    return Task(id="sum", question="What is 2 plus 3? Use the add tool.", answer="5", answer_type="numeric")


@pytest.fixture
def rollouts(task_five: Task) -> list[Trajectory]:
    """Seven behaviours on one task, as seven samples (plus a verbatim repeat of the first)."""
    names = [*BEHAVIOURS, "ok"]
    return [make_trajectory(task_five, name, i) for i, name in enumerate(names)]
