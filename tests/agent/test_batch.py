"""run_batch: bounded concurrency, task order, per-trajectory tool factories; settle_heap freezes the heap."""

from __future__ import annotations

import asyncio
import gc

import pytest

from sciresearcher.agent.batch import run_batch, settle_heap
from sciresearcher.records import Message, Task
from sciresearcher.testing import ScriptedLLM, echo_tool, final_answer_text, tool_call_message


def _replies(messages: list[Message], tools):
    """First turn: one echo call; second: the answer, which is the task's question number."""
    if messages[-1].role == "tool":
        number = messages[1].content.rsplit(" ", 1)[-1].strip(". ")
        return final_answer_text(number)
    return tool_call_message("echo_tool", {"text": "hi"})


def test_runs_every_task_in_order_with_bounded_concurrency():
    in_flight, peak = 0, 0

    class Counting(ScriptedLLM):
        async def chat(self, messages, tools=None, **sampling):
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                return await super().chat(messages, tools, **sampling)
            finally:
                in_flight -= 1

    llm = Counting(_replies, delay_s=0.01)
    tasks = [Task(id=f"t{i}", question=f"What is number {i}", answer=str(i)) for i in range(20)]
    trajs = asyncio.run(run_batch(tasks, llm, [echo_tool], concurrency=4))
    assert [t.task_id for t in trajs] == [t.id for t in tasks]
    assert all(t.status == "ok" for t in trajs)
    assert [t.final.answer for t in trajs] == [str(i) for i in range(20)]
    assert peak == 4 and len(llm.requests) == 40


def test_a_tool_factory_gives_each_trajectory_its_own_tools():
    made: list[object] = []

    def factory():
        def echo_tool(text: str) -> str:
            """Echoes the text.

            Args:
                text: what to echo
            """
            return text

        made.append(echo_tool)
        return [echo_tool]

    tasks = [Task(id=f"t{i}", question=f"What is number {i}", answer=str(i)) for i in range(5)]
    trajs = asyncio.run(run_batch(tasks, ScriptedLLM(_replies), factory, concurrency=2))
    assert len(made) == 5 and len(set(map(id, made))) == 5
    assert all(t.status == "ok" for t in trajs)


def test_bad_concurrency_is_refused():
    with pytest.raises(ValueError, match="concurrency must be at least 1"):
        asyncio.run(run_batch([], ScriptedLLM([]), [echo_tool], concurrency=0))


def test_settle_heap_freezes_what_is_alive():
    before = gc.get_freeze_count()
    keep = [object() for _ in range(10)]
    settle_heap()
    assert gc.get_freeze_count() >= before + len(keep)
