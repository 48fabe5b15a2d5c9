"""The main agent loop: question -> model -> tool calls -> results -> ... -> final answer.

`run_agent` drives one trajectory. Each turn sends the conversation and the tool schemas to the
LLMClient; tool calls in one turn run concurrently through the Toolset; results go back as tool messages.
The loop ends on a reply without tool calls (parsed as an HLE-format final answer) or on a limit (turns,
tool calls, tokens, wall time, repeated format errors), which marks the trajectory `truncated` (`timeout`
for wall time) after one last tool-free request for an answer when configured. Provider failures that
survive the backend's retries end it with status `error`; nothing here raises for a bad rollout.

What this module does not do: build tools (see agent/*_tool.py), grade (eval/), or persist (runs.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sciresearcher.agent.config import AgentConfig
from sciresearcher.agent.final import parse_final_answer
from sciresearcher.agent.prompts import SYSTEM_PROMPT, render_question
from sciresearcher.agent.subcalls import collect_subcalls
from sciresearcher.agent.tools import Toolset
from sciresearcher.errors import ProviderError
from sciresearcher.llm.base import ChatResult, LLMClient
from sciresearcher.records import Counters, Message, Policy, Step, SubCall, Task, Trajectory

log = logging.getLogger(__name__)

StepCallback = Callable[[Message], Awaitable[None] | None]

LIMIT_NOTICE = (
    "You have reached the {limit} limit. Do not call any more tools. Give your final answer now from the "
    "evidence you have, in the required format (Explanation, Answer, Confidence)."
)


def _task_from(task: Task | str) -> Task:
    if isinstance(task, Task):
        return task
    digest = hashlib.sha256(task.encode()).hexdigest()[:12]
    return Task(id=f"q:{digest}", question=task, answer="")


class _Run:
    """State of one trajectory while it runs."""

    def __init__(self, task: Task, llm: LLMClient, toolset: Toolset, config: AgentConfig,
                 sample_index: int, system_prompt: str, on_message: StepCallback | None) -> None:
        self.task, self.llm, self.toolset, self.config = task, llm, toolset, config
        self.on_message = on_message
        self.start = time.time()
        self.messages: list[Message] = [Message.system(system_prompt), Message.user(render_question(task))]
        self.steps: list[Step] = []
        self.counters = Counters()
        self.tokens = 0
        self.traj_id = f"{task.id}#{sample_index}"

    async def emit(self, message: Message) -> None:
        self.messages.append(message)
        if self.on_message is not None:
            maybe = self.on_message(message)
            if asyncio.iscoroutine(maybe):
                await maybe

    async def call_model(self, *, with_tools: bool) -> ChatResult:
        started = time.time()
        tools = self.toolset.schemas if (with_tools and self.toolset.schemas) else None
        result = await self.llm.chat(list(self.messages), tools=tools, **self.config.sampling)
        self.steps.append(Step(index=len(self.steps), started_at=started, elapsed_s=time.time() - started,
                               usage=result.usage, finish_reason=result.finish_reason, cached=result.cached))
        self.tokens += result.usage.total_tokens
        self.counters = self.counters.model_copy(update={"turns": self.counters.turns + 1})
        return result

    def limit_hit(self) -> str | None:
        c, cfg = self.counters, self.config
        if c.turns >= cfg.max_turns:
            return "turn"
        if c.tool_calls >= cfg.max_tool_calls and cfg.max_tool_calls > 0:
            return "tool-call"
        if self.tokens >= cfg.max_tokens:
            return "token"
        if c.format_errors >= cfg.max_format_errors:
            return "format-error"
        return None

    async def run_tools(self, message: Message) -> None:
        calls = list(message.tool_calls or [])
        budget = self.config.max_tool_calls - self.counters.tool_calls
        allowed, refused = calls[:max(budget, 0)], calls[max(budget, 0):]
        outcomes = await self.toolset.execute_all(allowed)
        c = self.counters
        tool_errors = sum(1 for o in outcomes if not o.ok and not o.format_error)
        format_errors = sum(1 for o in outcomes if o.format_error)
        untrained = message.weight == 0  # a demonstrated mistake: its errors are the point of the turn
        update = {
            "tool_calls": c.tool_calls + len(allowed),
            "tool_errors": c.tool_errors + tool_errors,
            "format_errors": c.format_errors + format_errors,
            "truncated_outputs": c.truncated_outputs + sum(1 for o in outcomes if o.truncated),
            "untrained_tool_errors": c.untrained_tool_errors + (tool_errors if untrained else 0),
            "untrained_format_errors": c.untrained_format_errors + (format_errors if untrained else 0),
        }
        self.counters = c.model_copy(update=update)
        for outcome in outcomes:
            await self.emit(outcome.message)
        for call in refused:
            await self.emit(Message.tool("Error: tool-call limit reached; this call was not run.",
                                         call.id, call.function.name))


_LIMIT_KINDS = {"turn": "turn_limit", "tool-call": "tool_call_limit", "token": "token_limit",
                "format-error": "format_errors"}


async def _drive(run: _Run) -> tuple[str, str | None, str | None, str | None]:
    """Turns until a final answer or a limit; returns (status, error kind, error, final reply text)."""
    config = run.config
    while True:
        limit = run.limit_hit()
        if limit is not None:
            final_text = None
            if config.final_answer_on_limit and run.tokens < config.max_tokens:
                await run.emit(Message.user(LIMIT_NOTICE.format(limit=limit)))
                result = await run.call_model(with_tools=False)
                await run.emit(result.message.model_copy(update={"tool_calls": None}))
                final_text = result.message.content
            return "truncated", _LIMIT_KINDS[limit], f"{limit} limit reached", final_text
        result = await run.call_model(with_tools=True)
        await run.emit(result.message)
        if result.message.tool_calls:
            await run.run_tools(result.message)
            continue
        if result.finish_reason == "length":
            return ("truncated", "max_tokens", "the model hit its max_tokens while answering",
                    result.message.content or "")
        return "ok", None, None, result.message.content or ""


def in_call_order(subcalls: list[SubCall], messages: list[Message]) -> list[SubCall]:
    """Sub-agent records in the order the model made their tool calls, not the order they finished: the parallel
    calls of one turn finish in any order, and a trajectory's record must not depend on it (replays, caches and
    resumed runs compare records). Records of one call keep their own order."""
    order = {call.id: i for i, call in enumerate(c for m in messages for c in (m.tool_calls or []))}
    return sorted(subcalls, key=lambda sub: order.get(sub.tool_call_id, len(order)))


async def run_agent(
    task: Task | str,
    llm: LLMClient,
    tools: list[Callable[..., Any]] | Toolset,
    config: AgentConfig | None = None,
    *,
    sample_index: int = 0,
    system_prompt: str | None = None,
    backend: str = "unknown",
    on_message: StepCallback | None = None,
) -> Trajectory:
    """Runs the main agent on one task (or a bare question) and returns its trajectory.

    `on_message` is called with every message appended after the user turn (for live display).
    Never raises for provider, tool or model failures: they are recorded on the trajectory.
    """
    config = config or AgentConfig()
    task = _task_from(task)
    toolset = tools if isinstance(tools, Toolset) else Toolset(tools, max_output_chars=config.max_tool_output_chars)
    run = _Run(task, llm, toolset, config, sample_index, system_prompt or SYSTEM_PROMPT, on_message)
    status, kind, error, final_text = "ok", None, None, None

    with collect_subcalls() as subcalls:
        try:
            async with asyncio.timeout(config.wall_time_s):
                status, kind, error, final_text = await _drive(run)
        except TimeoutError:
            status, kind, error = "timeout", "timeout", f"wall-clock limit of {config.wall_time_s:.0f}s reached"
        except ProviderError as exc:
            status, kind, error = "error", "provider", f"provider error: {exc}"
            log.warning("trajectory %s ended by a provider error: %s", run.traj_id, exc)
        except Exception as exc:  # a bug in a backend must not take down a batch of rollouts
            status, kind, error = "error", "bug", f"{type(exc).__name__}: {exc}"
            log.exception("trajectory %s failed unexpectedly", run.traj_id)
        subcall_records = in_call_order(list(subcalls), run.messages)

    return Trajectory(
        id=run.traj_id,
        task_id=task.id,
        sample_index=sample_index,
        policy=Policy(backend=backend, model=getattr(llm, "model", "unknown"), sampling=dict(config.sampling)),
        tools=toolset.schemas,
        messages=run.messages,
        steps=run.steps,
        subcalls=subcall_records,
        final=parse_final_answer(final_text) if final_text is not None else None,
        status=status,
        error=error,
        error_kind=kind,
        counters=run.counters,
        started_at=run.start,
        elapsed_s=time.time() - run.start,
    )
