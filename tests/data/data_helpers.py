"""Real trajectories for the data tests: the agent loop on scripted teachers with a real tool, graded."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from typer.testing import CliRunner

from sciresearcher.agent.config import AgentConfig
from sciresearcher.agent.loop import run_agent
from sciresearcher.errors import ProviderError
from sciresearcher.records import Message, Task, Trajectory
from sciresearcher.testing import ScriptedLLM, add_tool, final_answer_text, tool_call_message

# task id -> what the scripted teacher does on each turn of one trajectory
BEHAVIOURS: dict[str, list[Any]] = {
    "ok": [("add_tool", {"a": 2, "b": 3}), final_answer_text("5")],
    "ok_other_args": [("add_tool", {"a": 3, "b": 2}), final_answer_text("5")],
    "wrong": [("add_tool", {"a": 2, "b": 3}), final_answer_text("6")],
    "format": [("no_such_tool", {"x": 1}), ("add_tool", {"a": 2, "b": 3}), final_answer_text("5")],
    "no_confidence": [("add_tool", {"a": 2, "b": 3}), "Explanation: added.\nAnswer: 5"],
    "no_tools": [final_answer_text("5")],
    "provider_down": [ProviderError("upstream 503 after 3 retries")],
}


def _teacher(script: list[Any]) -> ScriptedLLM:
    def reply(messages: list[Message], tools: Any) -> Any:
        step = sum(1 for m in messages if m.role == "assistant")
        item = script[step]
        if isinstance(item, tuple):
            return tool_call_message(*item)
        return item

    return ScriptedLLM(reply)


def make_trajectory(task: Task, behaviour: str, sample: int, graded: bool = True) -> Trajectory:
    from sciresearcher.grade.graders import grade

    traj = asyncio.run(run_agent(task, _teacher(BEHAVIOURS[behaviour]), [add_tool],
                                 AgentConfig(max_turns=4), sample_index=sample))
    if graded:
        traj.grade = grade(task, traj.final)
        traj.reward = traj.grade.score
    return traj




def invoke(*args: str) -> dict[str, Any]:
    """Runs the `sciresearcher` CLI in-process; returns the JSON it printed (SciResearcherErrors are raised)."""
    from sciresearcher.cli import app

    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    text = result.stdout
    return json.loads(text[text.index("{"):]) if "{" in text else {}
