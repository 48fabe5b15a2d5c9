"""Exports: TRL SFT rows and verl parquet from trajectories, TRL GRPO tasks and verl RL rows from tasks."""

from __future__ import annotations

import json

import pytest

from sciresearcher.data.config import ExportConfig
from sciresearcher.data.export import export_tasks, export_trajectories, source_kind, val_count, val_tasks
from sciresearcher.data.verl_reward import compute_score, final_segment
from sciresearcher.errors import DataError, TrainingError
from sciresearcher.records import Task
from sciresearcher.train.rows import read_sft_rows

pq = pytest.importorskip("pyarrow.parquet")


def test_split_is_stable_by_task_and_holds_the_asked_share_rounded_to_whole_tasks():
    ids = [f"task-{i}" for i in range(2000)]
    val = val_tasks(ids, 0.2, seed=1)
    assert len(val) == 400 and val == val_tasks(reversed(ids), 0.2, seed=1)
    assert val != val_tasks(ids, 0.2, seed=2)
    assert val_tasks(ids, 0.0) == set()
    # nearest whole task, at least one when the fraction is > 0, never every task
    assert [val_count(20, f) for f in (0.05, 0.01, 0.074, 0.076, 0.5)] == [1, 1, 1, 2, 10]
    assert val_count(1, 0.5) == 0 and val_count(2, 0.9) == 1 and val_count(20, 0.0) == 0


def test_val_fraction_on_a_small_task_set_through_the_cli(tmp_path):
    from data_helpers import invoke

    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(Task(id=f"t{i}", question=f"What is {i} plus 1?", answer=str(i + 1)).model_dump_json()
                             + "\n" for i in range(20)))
    written = invoke("data", "export", str(tasks), "--format", "trl-grpo", "--val-fraction", "0.05",
                     "--out", str(tmp_path / "rl"))
    assert written["val"]["rows"] == 1 and written["train"]["rows"] == 19


def test_unfiltered_trajectories_are_refused_or_counted(tmp_path, rollouts, caplog):
    from sciresearcher.data.export import unfit_counts

    assert unfit_counts(rollouts) == {"wrong": 2, "failed": 1}  # the provider failure is graded wrong too
    with pytest.raises(DataError) as info:
        export_trajectories(rollouts, ExportConfig(format="trl-sft"), tmp_path / "refused")
    message = str(info.value)
    assert "2 of 8 trajectories are not fit to train on (2 wrong, 1 failed)" in message and "data filter" in message
    assert "--allow-unfiltered" in message and not (tmp_path / "refused").exists()
    with caplog.at_level("WARNING", logger="sciresearcher.data.export"):
        written = export_trajectories([t for t in rollouts if t.final is not None],
                                      ExportConfig(format="trl-sft", allow_unfiltered=True), tmp_path / "all")
    assert written["train"]["rows"] > 0
    assert sum("exporting them anyway" in r.getMessage() for r in caplog.records) == 1


def test_trl_sft_rows_read_back_as_training_rows(tmp_path, rollouts):
    kept = [rollouts[0], rollouts[1]]
    written = export_trajectories(kept, ExportConfig(format="trl-sft", turns="sequence"), tmp_path / "sft")
    assert written == {"train": {"path": str(tmp_path / "sft" / "train.jsonl"), "rows": 2}}
    rows = read_sft_rows(tmp_path / "sft" / "train.jsonl")
    assert [m["role"] for m in rows[0]["messages"]] == ["system", "user", "assistant", "tool", "assistant"]
    call = rows[0]["messages"][2]["tool_calls"][0]["function"]
    assert call["name"] == "add_tool" and json.loads(call["arguments"]) == {"a": 2, "b": 3}
    assert json.loads(rows[0]["tools"])[0]["function"]["name"] == "add_tool"


def test_sft_rows_are_checked_against_a_real_chat_template(tmp_path, rollouts, tiny_model_dir):
    config = ExportConfig(format="trl-sft", tokenizer=str(tiny_model_dir))
    # the teacher wrote no reasoning on its tool-call turn, so as one sequence the row is not token-exact under
    # Qwen3's template: `auto` writes one exact prompt-completion row per assistant turn instead
    assert export_trajectories([rollouts[0]], config, tmp_path / "ok")["train"]["rows"] == 2
    rows = read_sft_rows(tmp_path / "ok" / "train.jsonl")
    assert [len(r["prompt"]) for r in rows] == [2, 4] and [r["completion"][0]["role"] for r in rows] == ["assistant"] * 2
    with pytest.raises(TrainingError, match="differ from the prompt the policy saw"):
        export_trajectories([rollouts[0]], config.model_copy(update={"turns": "sequence"}), tmp_path / "seq")
    with pytest.raises(TrainingError, match="over max_length=16") as info:
        export_trajectories([rollouts[0]], config.model_copy(update={"max_length": 16}), tmp_path / "long")
    assert rollouts[0].id in str(info.value)  # the row is named by its trajectory


def test_export_knows_the_target_models_context_and_drops_longer_rows_by_name(tmp_path, rollouts, tiny_model_dir):
    from sciresearcher.train.sft import model_context

    small = tmp_path / "model"
    small.mkdir()
    for f in tiny_model_dir.iterdir():
        (small / f.name).write_bytes(f.read_bytes())
    cfg = json.loads((small / "config.json").read_text())
    (small / "config.json").write_text(json.dumps({**cfg, "max_position_embeddings": 16}))
    assert model_context(small) == 16
    config = ExportConfig(format="trl-sft", tokenizer=str(small))  # no max_length: the model's context
    with pytest.raises(TrainingError, match="does not fit the target model"):
        export_trajectories([rollouts[0]], config, tmp_path / "a")
    written = export_trajectories([rollouts[0]], config.model_copy(update={"overlong": "drop"}), tmp_path / "b")
    assert "train" not in written and written["dropped_overlong"][0]["id"] == rollouts[0].id


def test_exact_trajectories_stay_whole_under_auto(tmp_path, rollouts, tiny_model_dir, monkeypatch):
    from sciresearcher.train import token_check

    thinking = rollouts[0].model_copy(deep=True)
    for message in thinking.messages:
        if message.role == "assistant":
            object.__setattr__(message, "reasoning_content", "Let me work it out.")
    checks = []
    real_check_row = token_check.check_row
    monkeypatch.setattr(token_check, "check_row", lambda *a, **k: checks.append(1) or real_check_row(*a, **k))
    config = ExportConfig(format="trl-sft", tokenizer=str(tiny_model_dir))
    assert export_trajectories([thinking], config, tmp_path)["train"]["rows"] == 1
    assert "messages" in read_sft_rows(tmp_path / "train.jsonl")[0]
    assert len(checks) == 1  # the layout's token check is not run again by the length check


def test_verl_sft_parquet_holds_the_same_rows(tmp_path, rollouts):
    export_trajectories([rollouts[0]], ExportConfig(format="verl-sft", turns="sequence"), tmp_path)
    table = pq.read_table(tmp_path / "train.parquet").to_pylist()
    assert set(table[0]) == {"messages", "tools"}
    assert table[0]["messages"][-1]["content"].startswith("Explanation:")


def test_verl_rl_rows_and_the_reward_that_reads_them(tmp_path):
    tasks = [Task(id=f"t{i}", question=f"What is {i} squared?", answer=str(i * i), answer_type="numeric",
                  category="chemistry" if i % 2 else None) for i in range(40)]
    tasks.append(Task(id="mc", question="Which base pairs with adenine in DNA?", answer="B", answer_type="multipleChoice",
                      options=["Cytosine", "Thymine", "Guanine"]))
    written = export_tasks(tasks, ExportConfig(format="verl-rl", val_fraction=0.25), tmp_path)
    train = pq.read_table(written["train"]["path"]).to_pylist()
    val = pq.read_table(written["val"]["path"]).to_pylist()
    assert len(train) + len(val) == 41 and val
    row = next(r for r in train + val if r["extra_info"]["task_id"] == "mc")
    assert row["data_source"] == "sciresearcher/tasks" and row["agent_name"] == "tool_agent"
    assert [m["role"] for m in row["prompt"]] == ["system", "user"] and "B. Thymine" in row["prompt"][1]["content"]
    assert row["reward_model"] == {"style": "rule", "ground_truth": "B"} and row["ability"] == "science"
    assert {r["extra_info"]["split"] for r in val} == {"val"}
    # verl hands the reward the decoded multi-turn response; only the answer after the last tool output counts
    response = ("<think>look it up</think><tool_call>{\"name\": \"search\"}</tool_call><|im_end|>\n"
                "<|im_start|>user\n<tool_response>Answer: A (a decoy inside a tool result)</tool_response><|im_end|>\n"
                "<|im_start|>assistant\nExplanation: Watson-Crick pairing.\nAnswer: B\nConfidence: 90%<|im_end|>")
    assert final_segment(response).startswith("Explanation:")
    assert compute_score(row["data_source"], response, "B", row["extra_info"]) == 1.0
    assert compute_score(row["data_source"], response.replace("Answer: B", "Answer: C"), "B", row["extra_info"]) == 0.0
    sq = next(r for r in train + val if r["extra_info"]["task_id"] == "t7")
    assert compute_score("x", "Answer: 49.2\nConfidence: 50%", "49", sq["extra_info"]) == 1.0  # numeric tolerance
    assert compute_score("x", "Answer: 49", "49", None) == 1.0  # no task: exact match on the ground truth


def test_trl_grpo_tasks_and_format_mismatches(tmp_path, rollouts, task_five):
    written = export_tasks([task_five], ExportConfig(format="trl-grpo"), tmp_path / "grpo")
    assert Task.model_validate_json((tmp_path / "grpo" / "train.jsonl").read_text()) == task_five
    assert written["train"]["rows"] == 1
    with pytest.raises(DataError, match="exports trajectories, not tasks"):
        export_tasks([task_five], ExportConfig(format="trl-sft"), tmp_path / "x")
    with pytest.raises(DataError, match="exports tasks, not trajectories"):
        export_trajectories([rollouts[0]], ExportConfig(format="verl-rl"), tmp_path / "y")
    with pytest.raises(DataError, match="no trajectories to export"):
        export_trajectories([], ExportConfig(), tmp_path / "z")


def test_source_kind_reads_directories_and_first_records(tmp_path, rollouts, task_five):
    (tmp_path / "filt").mkdir()
    (tmp_path / "filt" / "kept.jsonl").write_text(rollouts[0].model_dump_json() + "\n")
    assert source_kind(tmp_path / "filt") == ("trajectories", tmp_path / "filt" / "kept.jsonl")
    tasks = tmp_path / "t.jsonl"
    tasks.write_text(task_five.model_dump_json() + "\n")
    assert source_kind(tasks) == ("tasks", tasks)
    other = tmp_path / "o.jsonl"
    other.write_text('{"foo": 1}\n')
    with pytest.raises(DataError, match="neither a Trajectory nor a Task"):
        source_kind(other)
    with pytest.raises(DataError, match="holds no kept.jsonl"):
        source_kind(tmp_path)


def test_a_student_on_the_training_template_gets_whole_rows_under_auto(tmp_path, rollouts):
    """The same no-reasoning trajectory that Qwen3's own template cuts into a row per turn stays one whole row for
    a student built with TRL's Qwen3 training template (`student.tiny.chat_template: qwen3-training`)."""
    from sciresearcher.train.tiny import build_tiny_model

    model = build_tiny_model(tmp_path / "m", chat_template="qwen3-training")
    config = ExportConfig(format="trl-sft", tokenizer=str(model))
    assert export_trajectories([rollouts[0]], config, tmp_path / "out")["train"]["rows"] == 1
    assert [m["role"] for m in read_sft_rows(tmp_path / "out" / "train.jsonl")[0]["messages"]][-1] == "assistant"
