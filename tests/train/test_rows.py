"""SFT rows: the row format of docs/architecture.md ("Records") from trajectories, and clear errors for rows that cannot train."""

from __future__ import annotations

import json

import pytest
from train_helpers import make_trajectory

from sciresearcher.errors import DataError, TrainingError
from sciresearcher.records import Policy, Trajectory
from sciresearcher.train.rows import (
    normalise_row,
    read_sft_rows,
    training_template,
    trajectory_to_sft_row,
    validate_sft_rows,
)


def test_row_format_has_string_arguments_and_tools():
    row = trajectory_to_sft_row(make_trajectory(3))
    assert set(row) == {"messages", "tools"}
    assert isinstance(row["tools"], str) and json.loads(row["tools"])[0]["function"]["name"] == "search"
    call = row["messages"][2]["tool_calls"][0]
    assert call["function"]["arguments"] == json.dumps({"query": "E3 Km glucose"})
    assert row["messages"][2]["reasoning_content"] == "I should search."
    # every message has the same keys, so Arrow builds one schema without padding dicts
    assert len({tuple(sorted(m)) for m in row["messages"]}) == 1
    assert row["messages"][-1]["role"] == "assistant"


def test_trajectory_without_final_answer_is_refused():
    traj = Trajectory.from_chat([{"role": "user", "content": "q"}], id="x", task_id="t",
                                policy=Policy(backend="b", model="m"))
    with pytest.raises(TrainingError, match="does not end with the assistant's answer"):
        trajectory_to_sft_row(traj)


def test_dict_arguments_and_list_tools_are_normalised():
    row = normalise_row({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "",
                         "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]}], "tools": []})
    assert row["tools"] == "[]"
    assert row["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"a": 1}'
    with pytest.raises(TrainingError, match="JSON object"):
        normalise_row({"messages": [{"role": "assistant", "tool_calls": [
            {"function": {"name": "f", "arguments": "[1]"}}]}]})
    with pytest.raises(TrainingError, match="valid role"):
        normalise_row({"messages": [{"role": "robot", "content": "x"}]})


def test_read_rows_names_file_and_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(trajectory_to_sft_row(make_trajectory())) + "\n{not json\n")
    with pytest.raises(DataError, match=r"rows.jsonl:2"):
        read_sft_rows(path)
    with pytest.raises(DataError, match="does not exist"):
        read_sft_rows(tmp_path / "missing.jsonl")


def test_validation_errors(tiny_tokenizer, sft_rows):
    assert len(list(validate_sft_rows(sft_rows, tiny_tokenizer, max_length=2048))) == len(sft_rows)
    with pytest.raises(TrainingError, match="over max_length=50"):
        list(validate_sft_rows(sft_rows, tiny_tokenizer, max_length=50))
    assert list(validate_sft_rows(sft_rows, tiny_tokenizer, max_length=50, overlong="drop")) == []
    no_assistant = normalise_row({"messages": [{"role": "user", "content": "only a question"}]})
    with pytest.raises(TrainingError, match="nothing would carry loss"):
        list(validate_sft_rows([no_assistant], tiny_tokenizer, max_length=2048))


def test_unrecognised_template_is_a_clear_error(tiny_tokenizer):
    original = tiny_tokenizer.chat_template
    try:
        tiny_tokenizer.chat_template = "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}"
        with pytest.raises(TrainingError, match="does not recognise this tokenizer's chat template"):
            training_template(tiny_tokenizer)
    finally:
        tiny_tokenizer.chat_template = original
