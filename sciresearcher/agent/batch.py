"""Many trajectories at once: bounded concurrency over `run_agent`, with the heap settled first.

`run_batch` is what a benchmark or a script wants when it has a list of tasks and one client; the eval
harness and GRPO drive `run_agent` themselves (they record, grade or score as each one ends) and call
`settle_heap` the same way. Nothing here retries, records or grades.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import Any

from sciresearcher.agent.config import AgentConfig
from sciresearcher.agent.loop import run_agent
from sciresearcher.llm.base import LLMClient
from sciresearcher.records import Task, Trajectory


def settle_heap() -> None:
    """Moves every object alive now (imported modules, SDK types, configs) out of the garbage collector's
    reach, so that its full collections during a batch only walk what the batch allocates.

    The openai SDK alone leaves ~60k tracked objects after import; a full collection over them took
    ~110 ms on a 2-core machine, stalling every agent on the event loop (benchmarks/agent_throughput.py
    measures the difference). Objects frozen here are never collected; they were alive anyway.
    """
    gc.collect()
    gc.freeze()


async def run_batch(tasks: list[Task], llm: LLMClient, tools: list[Callable[..., Any]] | Callable[[], list[Any]],
                    config: AgentConfig | None = None, *, concurrency: int = 32, backend: str = "unknown",
                    ) -> list[Trajectory]:
    """Runs one trajectory per task, at most `concurrency` at a time, in task order.

    `tools` is either the tool list shared by all trajectories or a zero-argument factory called once per
    trajectory (for tools with per-rollout state, like a sandbox session).
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    settle_heap()
    sem = asyncio.Semaphore(concurrency)

    async def one(task: Task) -> Trajectory:
        async with sem:
            own = tools() if callable(tools) and not isinstance(tools, list) else tools
            return await run_agent(task, llm, own, config, backend=backend)

    return await asyncio.gather(*(one(t) for t in tasks))
