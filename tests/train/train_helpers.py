"""Helpers for training tests: a real Trajectory record of a small research episode (search, then answer)."""

from __future__ import annotations

from typing import Any

from sciresearcher.agent.final import final_of
from sciresearcher.records import Policy, Task, Trajectory

SEARCH_SCHEMA = {"type": "function", "function": {
    "name": "search", "description": "Search the literature.",
    "parameters": {"type": "object", "properties": {"query": {"type": "string", "description": "keywords"}},
                   "required": ["query"]}}}


def make_trajectory(i: int = 0) -> Trajectory:
    chat = [
        {"role": "system", "content": "You are SciResearcher."},
        {"role": "user", "content": f"What is the Km of enzyme E{i} for glucose?"},
        {"role": "assistant", "content": "", "reasoning_content": "I should search.",
         "tool_calls": [{"id": "c1", "type": "function",
                         "function": {"name": "search", "arguments": {"query": f"E{i} Km glucose"}}}]},
        {"role": "tool", "tool_call_id": "c1", "name": "search", "content": f"[1] pmid:{i}: E{i} Km = 2.{i} mM"},
        {"role": "assistant", "reasoning_content": "The paper says it.",
         "content": f"Explanation: reported in pmid:{i}.\nAnswer: 2.{i} mM\nConfidence: 0.9"},
    ]
    return Trajectory.from_chat(chat, id=f"t{i}", task_id=f"task{i}", policy=Policy(backend="x", model="teacher"),
                                tools=[SEARCH_SCHEMA], final=final_of(chat))


def make_lookup(table: dict[str, str]):
    """A per-task lookup tool (sync), as in benchmarks/learning_curve.py."""

    def lookup(key: str) -> str:
        """Look up the value stored under a key.

        Args:
            key: The key, exactly as written in the question.
        """
        return table.get(key, f"No value is stored under {key!r}.")

    return lookup


def lookup_tools(row: dict):
    """A ToolBuilder: this rollout's lookup tool, from the task row's metadata."""
    from sciresearcher.records import Task

    table = Task.model_validate_json(row["task"]).metadata["table"] if row else {}
    return [make_lookup(table)], []


PYTHON_QUESTION = "What is 6 times 7? Use python."
PYTHON_TASK = Task(id="py", question=PYTHON_QUESTION, answer="42", answer_type="numeric", tolerance=0.0)


def python_gold_row(reasoning: str | None = "Compute it.") -> dict:
    """One gold trajectory with the real `python` tool's schema: call it, read 42, answer 42.

    With `reasoning` on the tool-call turn the row is token-exact as one sequence under Qwen3's template; without
    it, the template drops that turn's empty think block from later contexts (train/token_check.py).
    """
    from sciresearcher.agent.prompts import render_question
    from sciresearcher.agent.python_tool import make_python_tool
    from sciresearcher.agent.tools import model_facing_schema
    from sciresearcher.train.rows import trajectory_to_sft_row

    schema = model_facing_schema(make_python_tool(None))  # type: ignore[arg-type]  (schema only, never run)
    chat = [
        {"role": "user", "content": render_question(PYTHON_TASK)},  # as GRPO and the agent loop render it
        {"role": "assistant", "content": "", "reasoning_content": reasoning, "tool_calls": [{
            "id": "c0", "type": "function", "function": {"name": "python", "arguments": {"code": "print(6 * 7)"}}}]},
        {"role": "tool", "tool_call_id": "c0", "name": "python", "content": "42"},
        {"role": "assistant", "content": "Answer: 42"},
    ]
    traj = Trajectory.from_chat(chat, id="py", task_id="py", policy=Policy(backend="gold", model="gold"),
                                tools=[schema])
    return trajectory_to_sft_row(traj)


def python_row_with_a_mistake(weight: int | None = 0) -> dict[str, Any]:
    """Call python with a cut print (weight 0), read the SyntaxError, call it whole, read 42, answer 42."""
    import copy

    from sciresearcher.train.rows import normalise_row

    row = python_gold_row()
    user, call, result, answer = row["messages"]
    cut = copy.deepcopy(call)
    cut["tool_calls"][0]["function"]["arguments"] = '{"code": "print(6 *"}'
    cut["tool_calls"][0]["id"] = "c-cut"
    if weight is not None:
        cut["weight"] = weight
    error = {**result, "tool_call_id": "c-cut", "content": "SyntaxError: '(' was never closed"}
    return normalise_row({"messages": [user, cut, error, call, result, answer], "tools": row["tools"]})
