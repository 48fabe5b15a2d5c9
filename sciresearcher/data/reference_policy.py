"""The offline teacher: a reference policy (not a model) that solves a synthesized computational task from its
own evidence chain, through the real tools in the real agent loop.

`ReferencePolicy(tasks)` meets the `LLMClient` protocol, so `rollout.run_rollouts` drives it exactly as it
drives a model teacher. At each turn it reads the conversation so far and takes the next step a careful
researcher would:

1. search for each cited fact (the fact's sentence without its number, e.g. "standard atomic weight of
   cobalt"), all in one turn;
2. read each cited document that the search results listed, with that fact as the goal;
3. compute in the sandbox: the task's formula with every cited value taken from what `read` returned (a
   value that is not in the read output ends the attempt) and the given values from the question;
4. answer in the final-answer format with the computed value, its unit and the documents cited.

If search does not list a cited document, or read does not return its value, the policy answers that it
could not find the evidence: the trajectory is graded wrong and rejection sampling drops it. Its
trajectories are therefore real runs with real tool outputs, graded and filtered like a model teacher's.
It needs tasks that carry `metadata.variables` (name -> value, given or cited with `doc_id` and
`sentence`) and `metadata.solution` (Python ending in `answer = ...`), as the computational pipeline writes.
It does not handle conceptual or multiple-choice tasks; those need a model teacher.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from typing import Any

from sciresearcher.agent.prompts import render_question
from sciresearcher.llm.base import ChatResult
from sciresearcher.records import Message, Task, ToolCall, Usage

_ids = itertools.count()
_NUMBER = re.compile(r"[-−]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def fact_goal(sentence: str) -> str:
    """'The standard atomic weight of cobalt is 58.93319 g/mol.' -> 'standard atomic weight of cobalt'."""
    text = re.split(r"\s+(?:is|are|was|were|equals|of about|at)\s+[-−]?\d", sentence, maxsplit=1)[0]
    text = re.sub(r"^(?:the|a|an)\s+", "", text.strip().rstrip("."), flags=re.IGNORECASE)
    return text or sentence


def _value_in(text: str, value: float) -> float | None:
    """`value` as written somewhere in `text` (the number read, not the task's copy of it), or None."""
    for raw in _NUMBER.findall(text):
        try:
            number = float(raw.replace("−", "-"))
        except ValueError:
            continue
        if math.isclose(number, value, rel_tol=1e-9, abs_tol=1e-12):
            return number
    return None


def _sig(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}g}" if value != 0 else "0"


class ReferencePolicy:
    """Solves computational tasks from their evidence chain with the real search / read / python tools."""

    backend = "reference"
    model = "reference-policy"

    def __init__(self, tasks: list[Task]) -> None:
        self._by_question = {render_question(t).strip(): t for t in tasks}

    def _task(self, messages: list[Message]) -> Task:
        user = next((m for m in messages if m.role == "user"), None)
        task = self._by_question.get((user.content or "").strip()) if user else None
        if task is None:
            raise KeyError("the reference policy was given a question that is not one of its tasks")
        return task

    async def chat(self, messages: list[Message], tools: list[dict[str, Any]] | None = None,
                   **sampling: Any) -> ChatResult:
        task = self._task(messages)
        calls = [c for m in messages if m.role == "assistant" for c in (m.tool_calls or [])]
        results = {m.tool_call_id: m.content or "" for m in messages if m.role == "tool"}
        by_name: dict[str, list[tuple[ToolCall, str]]] = {"search": [], "read": [], "python": []}
        for call in calls:
            by_name.setdefault(call.function.name, []).append((call, results.get(call.id, "")))
        message = self._next(task, by_name, offered={t["function"]["name"] for t in tools or []})
        return ChatResult(message=message, usage=Usage(), finish_reason="tool_calls" if message.tool_calls else "stop",
                          model=self.model)

    def _next(self, task: Task, done: dict[str, list[tuple[ToolCall, str]]], offered: set[str]) -> Message:
        variables = task.metadata.get("variables") or {}
        cited = {name: v for name, v in variables.items() if not v.get("given") and v.get("doc_id")}
        sentences = {e.doc_id: e.text for e in task.evidence}
        if not cited or "solution" not in task.metadata:
            return self._give_up(task, "this task has no cited values and formula to compute from")
        if not offered:
            return self._give_up(task, "no tools were offered")
        if not done["search"]:
            queries = list(dict.fromkeys(fact_goal(sentences.get(v["doc_id"], "")) for v in cited.values()))
            return self._calls([("search", {"query": q}) for q in queries])
        if not done["read"]:
            listed = " ".join(text for _, text in done["search"])
            docs = list(dict.fromkeys(v["doc_id"] for v in cited.values()))
            missing = [d for d in docs if d not in listed]
            if missing:
                return self._give_up(task, f"the search results did not list {', '.join(missing)}")
            return self._calls([("read", {"doc_id_or_url": d, "goal": fact_goal(sentences.get(d, ""))})
                                for d in docs])
        if not done["python"]:
            read_text = {json.loads(c.function.arguments)["doc_id_or_url"]: text for c, text in done["read"]}
            values: dict[str, float] = {}
            for name, v in cited.items():
                found = _value_in(read_text.get(v["doc_id"], ""), float(v["value"]))
                if found is None:
                    return self._give_up(task, f"read did not return the value of {name} from {v['doc_id']}")
                values[name] = found
            return self._calls([("python", {"code": self._code(task, values)})])
        output = done["python"][-1][1]
        numbers = _NUMBER.findall(output)
        if not numbers:
            return self._give_up(task, "the computation printed no number")
        value = float(numbers[-1].replace("−", "-"))
        docs = ", ".join(dict.fromkeys(v["doc_id"] for v in cited.values()))
        unit = f" {task.unit}" if task.unit else ""
        formula = task.metadata.get("formula", "the formula")
        text = (f"Explanation: From {docs}, I took the cited values and computed {formula} in Python.\n"
                f"Answer: {_sig(value)}{unit}\nConfidence: 90%")
        return Message(role="assistant", content=text)

    @staticmethod
    def _code(task: Task, values: dict[str, float]) -> str:
        """The task's solution with each cited value replaced by the value read from its document."""
        lines = []
        for line in str(task.metadata["solution"]).splitlines():
            match = re.match(r"^(\w+)\s*=\s*[-−\d.eE+]+(\s*#.*)?$", line)
            if match and match.group(1) in values:
                line = f"{match.group(1)} = {values[match.group(1)]!r}{match.group(2) or ''}"
            if line.startswith("print("):
                line = "print(round(answer, 6))"
            lines.append(line)
        return "\n".join(lines).strip() + "\n"

    @staticmethod
    def _calls(calls: list[tuple[str, dict[str, Any]]]) -> Message:
        return Message(role="assistant", content=None,
                       tool_calls=[ToolCall.make(f"ref_{next(_ids)}", name, args) for name, args in calls])

    @staticmethod
    def _give_up(task: Task, why: str) -> Message:
        return Message(role="assistant", content=f"Explanation: I could not complete the research: {why}.\n"
                                                 f"Answer: unknown\nConfidence: 0%")
