"""Rejection sampling on real agent trajectories: each rule by name, the per-task cap, trajectory dedup."""

from __future__ import annotations

import json

import pytest
from data_helpers import BEHAVIOURS, make_trajectory

from sciresearcher.data.config import FilterConfig, ScreenConfig
from sciresearcher.data.overlap import OverlapIndex
from sciresearcher.data.rejection import read_trajectories, reject_reasons, select_trajectories
from sciresearcher.errors import DataError
from sciresearcher.records import Task

NO_SCREEN = FilterConfig(screen=None, max_per_task=10)


def test_each_behaviour_is_named_by_the_rule_it_breaks(rollouts):
    by_behaviour = dict(zip([*BEHAVIOURS, "ok-again"], rollouts, strict=True))
    reasons = {name: reject_reasons(t, NO_SCREEN) for name, t in by_behaviour.items()}
    assert reasons["ok"] == [] and reasons["ok_other_args"] == [] and reasons["no_tools"] == []
    assert reasons["wrong"] == ["wrong"]
    assert reasons["format"] == ["format_errors"]
    assert reasons["no_confidence"] == ["no_confidence"]
    assert reasons["provider_down"] == ["status:error", "no_answer", "wrong"]
    assert reject_reasons(by_behaviour["no_tools"], NO_SCREEN.model_copy(update={"min_tool_calls": 1})) == [
        "too_few_tool_calls"]
    lenient = NO_SCREEN.model_copy(update={"max_format_errors": None, "require_confidence": False})
    assert reject_reasons(by_behaviour["format"], lenient) == []
    assert reject_reasons(by_behaviour["no_confidence"], lenient) == []
    assert reject_reasons(by_behaviour["ok"], NO_SCREEN.model_copy(update={"max_turns": 1})) == ["too_many_turns"]


def test_selection_caps_per_task_and_drops_repeats(rollouts):
    selection = select_trajectories(rollouts, FilterConfig(screen=None, max_per_task=2))
    kept = [t.sample_index for t in selection.kept]
    # samples 0 (ok), 1 (other args) and 5 (no tools) pass the rules; 7 repeats 0; the cap keeps two
    assert kept == [0, 1]
    why = {r["id"].rsplit("#", 1)[-1]: r["reasons"] for r in selection.rejected}
    assert why["7"] == ["duplicate_trajectory"] and why["5"] == ["over_max_per_task"]
    summary = selection.summary()
    assert summary["trajectories_in"] == 8 and summary["kept"] == 2 and summary["tasks_kept"] == 1
    assert summary["reasons"]["wrong"] == 2  # the wrong answer, and the errored trajectory


def test_ungraded_trajectories_are_graded_against_the_task(task_five):
    right = make_trajectory(task_five, "ok", 0, graded=False)
    wrong = make_trajectory(task_five, "wrong", 1, graded=False)
    assert reject_reasons(right, NO_SCREEN) == ["ungraded"]
    assert reject_reasons(right, NO_SCREEN, task_five) == [] and right.grade.correct
    assert reject_reasons(wrong, NO_SCREEN, task_five) == ["wrong"]


def test_contaminated_questions_are_rejected_and_named(task_five):
    traj = make_trajectory(task_five, "ok", 0)
    index = OverlapIndex(n=3)
    index.add("bench", "b7", "What is 2 plus 3? Use the add tool.")
    config = FilterConfig(screen=ScreenConfig(n=3))
    assert reject_reasons(traj, config, None, index) == ["contaminated:bench/b7"]  # screened by the user message
    other = Task(id="x", question="Name the enzyme that fixes carbon dioxide in the Calvin cycle.", answer="RuBisCO")
    assert reject_reasons(traj, config, other, index) == []  # the task's own question decides when given


def test_read_trajectories_takes_the_last_record_of_an_id_and_names_bad_lines(tmp_path, rollouts):
    run = tmp_path / "run"
    run.mkdir()
    first, retried = rollouts[6], rollouts[0].model_copy(update={"id": rollouts[6].id})
    (run / "trajectories.jsonl").write_text(first.model_dump_json() + "\n" + retried.model_dump_json() + "\n")
    trajs = read_trajectories([run])
    assert len(trajs) == 1 and trajs[0].status == "ok"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(rollouts[0].model_dump_json() + "\n" + json.dumps({"id": "x"}) + "\n")
    with pytest.raises(DataError, match=r"bad.jsonl:2: not a Trajectory record"):
        read_trajectories([bad])
    with pytest.raises(DataError, match="no trajectories at"):
        read_trajectories([tmp_path / "missing"])


def test_kept_rows_come_in_task_order_whatever_order_the_rollouts_finished_in(task_five: Task):
    import random

    tasks = [task_five.model_copy(update={"id": f"t{i}"}) for i in (3, 1, 2)]  # the tasks file's order: t3, t1, t2
    trajectories = [make_trajectory(t, "ok", s) for t in tasks for s in (0, 1)]
    config = FilterConfig(screen=None, max_per_task=2, dedup_trajectories=False)
    shuffled = list(trajectories)
    random.Random(7).shuffle(shuffled)
    task_map = {t.id: t for t in tasks}
    kept = select_trajectories(shuffled, config, task_map).kept
    assert [(t.task_id, t.sample_index) for t in kept] == [("t3", 0), ("t3", 1), ("t1", 0), ("t1", 1), ("t2", 0),
                                                           ("t2", 1)]
    assert [t.id for t in select_trajectories(list(reversed(shuffled)), config, task_map).kept] == [t.id for t in kept]
    assert [t.task_id for t in select_trajectories(shuffled, config).kept] == ["t1", "t1", "t2", "t2", "t3", "t3"]
