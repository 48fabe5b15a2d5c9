"""The agent loop with the scripted LLM: tool calls, concurrency, errors as data, limits, final parsing."""

from __future__ import annotations

import asyncio
import time

import pytest

from sciresearcher.agent.config import AgentConfig
from sciresearcher.agent.final import final_of
from sciresearcher.agent.loop import run_agent
from sciresearcher.errors import ProviderError
from sciresearcher.records import Message, Task, ToolCall, Trajectory
from sciresearcher.testing import (
    ScriptedLLM,
    add_tool,
    echo_tool,
    final_answer_text,
    multi_tool_call_message,
    tool_call_message,
)


def run(coro):
    return asyncio.run(coro)


def test_tool_call_then_final_answer():
    llm = ScriptedLLM([tool_call_message("add_tool", {"a": 2, "b": 3}), final_answer_text("5", confidence=90)])
    task = Task(id="t1", question="What is 2+3?", answer="5", answer_type="numeric")
    traj = run(run_agent(task, llm, [add_tool, echo_tool]))
    assert traj.status == "ok" and traj.error is None
    assert traj.final.answer == "5" and traj.final.confidence == pytest.approx(0.9)
    assert [m.role for m in traj.messages] == ["system", "user", "assistant", "tool", "assistant"]
    assert traj.messages[3].content == "5"
    assert traj.counters.turns == 2 and traj.counters.tool_calls == 1
    # the model was offered both tools, by schema
    assert {t["function"]["name"] for t in llm.requests[0].tools} == {"add_tool", "echo_tool"}
    # the second request carried the tool result
    assert llm.requests[1].messages[-1].role == "tool"
    assert len(traj.steps) == 2 and traj.usage.total_tokens > 0


def test_parallel_tool_calls_run_concurrently():
    async def slow(seconds: float) -> str:
        """Sleep.

        Args:
            seconds: How long.
        """
        await asyncio.sleep(seconds)
        return "slept"

    llm = ScriptedLLM([multi_tool_call_message([("slow", {"seconds": 0.3})] * 4), final_answer_text("x")])
    started = time.perf_counter()
    traj = run(run_agent("q", llm, [slow]))
    assert time.perf_counter() - started < 0.9  # four 0.3 s calls in one turn overlap
    assert traj.counters.tool_calls == 4
    assert [m.content for m in traj.messages if m.role == "tool"] == ["slept"] * 4


def test_sub_agent_records_follow_the_call_order_not_the_finish_order():
    """The first of two parallel calls finishes last; the trajectory lists its sub-agent record first all the same,
    so a trajectory's record does not depend on timing."""
    from sciresearcher.agent.subcalls import record_subcall
    from sciresearcher.records import SubCall

    async def lookup(name: str, seconds: float) -> str:
        """Look a name up, slowly.

        Args:
            name: The name.
            seconds: How long it takes.
        """
        await asyncio.sleep(seconds)
        record_subcall(SubCall(tool="lookup", kind="search", input=name, output=f"found {name}"))
        return f"found {name}"

    llm = ScriptedLLM([multi_tool_call_message([("lookup", {"name": "slow", "seconds": 0.2}),
                                                ("lookup", {"name": "fast", "seconds": 0.0})]), final_answer_text("x")])
    traj = run(run_agent("q", llm, [lookup]))
    calls = traj.messages[2].tool_calls
    assert [s.input for s in traj.subcalls] == ["slow", "fast"]
    assert [s.tool_call_id for s in traj.subcalls] == [c.id for c in calls]


def test_model_mistakes_go_back_as_errors_and_are_counted():
    bad_json = Message(role="assistant", tool_calls=[ToolCall.make("c1", "echo_tool", '{"text": "unterminated')])
    llm = ScriptedLLM([
        tool_call_message("no_such_tool", {}),
        bad_json,
        tool_call_message("echo_tool", {"wrong": 1}),
        final_answer_text("done"),
    ])
    traj = run(run_agent("q", llm, [echo_tool]))
    tool_msgs = [m.content for m in traj.messages if m.role == "tool"]
    assert "unknown tool 'no_such_tool'" in tool_msgs[0] and "echo_tool" in tool_msgs[0]
    assert "not a valid JSON object" in tool_msgs[1]
    assert "bad arguments for 'echo_tool'" in tool_msgs[2]
    assert traj.counters.format_errors == 3 and traj.status == "ok" and traj.final.answer == "done"


def test_tool_exception_is_text_for_the_model():
    def broken(x: int) -> str:
        """Always fails.

        Args:
            x: Anything.
        """
        raise RuntimeError("disk on fire")

    llm = ScriptedLLM([tool_call_message("broken", {"x": 1}), final_answer_text("ok")])
    traj = run(run_agent("q", llm, [broken]))
    assert "RuntimeError: disk on fire" in traj.messages[3].content
    assert traj.counters.tool_errors == 1 and traj.status == "ok"


def test_long_tool_output_truncated_with_marker():
    def big() -> str:
        """Return a lot of text."""
        return "x" * 50_000

    llm = ScriptedLLM([tool_call_message("big", {}), final_answer_text("ok")])
    traj = run(run_agent("q", llm, [big], AgentConfig(max_tool_output_chars=1000)))
    out = traj.messages[3].content
    assert "output truncated" in out and len(out) < 1200 and traj.counters.truncated_outputs == 1


def test_turn_limit_asks_for_final_answer_and_marks_truncated():
    replies = [tool_call_message("echo_tool", {"text": "a"})] * 3 + [final_answer_text("late")]
    llm = ScriptedLLM(replies)
    traj = run(run_agent("q", llm, [echo_tool], AgentConfig(max_turns=3)))
    assert traj.status == "truncated" and "turn limit" in traj.error and traj.error_kind == "turn_limit"
    assert traj.final.answer == "late"
    assert llm.requests[-1].tools is None  # the last request offered no tools


def test_tool_call_limit_refuses_extra_calls():
    llm = ScriptedLLM([multi_tool_call_message([("echo_tool", {"text": "a"})] * 3), final_answer_text("x")])
    traj = run(run_agent("q", llm, [echo_tool], AgentConfig(max_tool_calls=2)))
    assert traj.counters.tool_calls == 2
    assert sum("limit reached" in (m.content or "") for m in traj.messages if m.role == "tool") == 1
    assert traj.status == "truncated" and traj.error_kind == "tool_call_limit"


def test_provider_error_ends_trajectory_as_error():
    llm = ScriptedLLM([tool_call_message("echo_tool", {"text": "a"}), ProviderError("boom", status_code=500)])
    traj = run(run_agent("q", llm, [echo_tool]))
    assert traj.status == "error" and "boom" in traj.error and traj.final is None and traj.error_kind == "provider"
    assert len(traj.messages) == 4  # what happened before the failure is kept


def test_wall_time_limit_is_timeout():
    llm = ScriptedLLM([final_answer_text("x")], delay_s=2.0)
    traj = run(run_agent("q", llm, [echo_tool], AgentConfig(wall_time_s=0.2)))
    assert traj.status == "timeout" and traj.error_kind == "timeout"


def test_a_bug_in_a_backend_is_recorded_as_a_bug():
    llm = ScriptedLLM([KeyError("choices")])
    traj = run(run_agent("q", llm, [echo_tool]))
    assert traj.status == "error" and traj.error_kind == "bug" and "KeyError" in traj.error


def test_a_tool_that_cut_its_own_output_counts_as_truncated():
    from sciresearcher.agent.tools import truncate

    def tight() -> str:
        """Return text already cut to a tight budget."""
        return truncate("y" * 5000, 300)[0]

    llm = ScriptedLLM([tool_call_message("tight", {}), final_answer_text("ok")])
    traj = run(run_agent("q", llm, [tight]))
    assert traj.counters.truncated_outputs == 1 and traj.error_kind is None


def test_trajectory_round_trips_json_and_chat():
    llm = ScriptedLLM([tool_call_message("echo_tool", {"text": "hé"}), final_answer_text("ok")])
    traj = run(run_agent(Task(id="t9", question="q", answer="ok"), llm, [echo_tool]))
    again = Trajectory.model_validate_json(traj.model_dump_json())
    assert again == traj
    rebuilt = Trajectory.from_chat(traj.to_chat(), id=traj.id, task_id=traj.task_id, policy=traj.policy,
                                   tools=traj.tools, final=final_of(traj.to_chat()))
    assert rebuilt.messages == traj.messages and rebuilt.final == traj.final


def test_a_tool_that_reports_failure_counts_as_a_tool_error_and_keeps_its_text():
    from sciresearcher.errors import ToolError

    async def lookup(key: str) -> str:
        """Look a key up.

        Args:
            key: The key.
        """
        if key != "ok":
            raise ToolError(f"Could not read {key!r}: not found")
        return "value"

    llm = ScriptedLLM([tool_call_message("lookup", {"key": "bad"}), tool_call_message("lookup", {"key": "ok"}),
                       final_answer_text("value")])
    traj = run(run_agent(Task(id="t", question="q", answer="value"), llm, [lookup]))
    tools = [m.content for m in traj.messages if m.role == "tool"]
    assert tools == ["Could not read 'bad': not found", "value"]  # the model sees the tool's own text
    assert traj.counters.tool_errors == 1 and traj.counters.tool_calls == 2 and traj.counters.format_errors == 0
