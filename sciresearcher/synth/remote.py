"""Synthesis verification on a Ray cluster (`executor: ray`): the same `verify_task` on Ray actors.

Writing candidates (templates, or the writer model) stays in the driver; verifying them (well-posedness,
answerability, the reference solution in a fresh sandbox session each, solver votes) is the sandbox-heavy
part, so each actor holds its own `SandboxPool`, solver client and solver tools, built from the run's config
(or the caller's pickled solver / tools), and checks up to `solver.concurrency` candidates at once. The driver
appends every result, so the run directory, resume and outputs are those of the local executor.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from sciresearcher.records import Document, Task
from sciresearcher.rollout.executor import RayWorkers
from sciresearcher.synth.config import SynthConfig
from sciresearcher.synth.verify import verify_task


class _Verifier:
    """A Ray actor: documents, a sandbox pool, the solver and its tools; `run(task)` -> (task, failed reasons)."""

    def __init__(self, config_json: str, docs_json: str, solver: Any | None, tools_factory: Any | None) -> None:
        from sciresearcher.llm import make_client
        from sciresearcher.sandbox.pool import SandboxPool

        self.config = SynthConfig.model_validate_json(config_json)
        self.docs = {d["id"]: Document.model_validate(d) for d in json.loads(docs_json)}
        self.solver = solver if solver is not None or self.config.solver.llm is None else make_client(
            self.config.solver.llm)
        self.tools = tools_factory
        self.pool = SandboxPool(self.config.sandbox, warm=2)

    async def run(self, task_json: str) -> tuple[str, list[str]]:
        task, failed = await verify_task(Task.model_validate_json(task_json), self.docs, self.pool, self.config,
                                         self.solver, self.tools)
        return task.model_dump_json(), failed


class RayVerifiers:
    """Verifies written tasks on `config.ray.workers` actors; yields (task, failed reasons) as each finishes."""

    def __init__(self, config: SynthConfig, docs: list[Document], *, solver: Any | None = None,
                 tools_factory: Any | None = None) -> None:
        docs_json = json.dumps([d.model_dump(mode="json") for d in docs])
        self.workers = RayWorkers(_Verifier, config.ray, config.solver.concurrency, config.model_dump_json(),
                                  docs_json, solver, tools_factory)

    async def verify(self, tasks: list[Task]) -> AsyncIterator[tuple[Task, list[str]]]:
        async for _, (task_json, failed) in self.workers.map([(t.model_dump_json(),) for t in tasks]):
            yield Task.model_validate_json(task_json), failed

    def close(self) -> None:
        self.workers.close()


async def verify_on_ray(todo: list[tuple[str, str, Any]], config: SynthConfig, docs: list[Document], kept: Any,
                        rejected: Any, *, solver: Any | None = None, tools_factory: Any | None = None) -> None:
    """Writes the candidates here (`make()` of each job), verifies them on Ray, appends kept and rejected rows
    as `run_synthesis` does."""
    import asyncio

    sem = asyncio.Semaphore(config.solver.concurrency)

    async def write(make: Any) -> Task | str:
        async with sem:
            return await make()

    written = await asyncio.gather(*(write(make) for _, _, make in todo))
    jobs: dict[str, tuple[str, str]] = {}
    tasks = []
    for (job_id, template, _), task in zip(todo, written, strict=True):
        if isinstance(task, str):
            reason = task if task.startswith("declined:") else f"written: {task}"
            rejected.append({"id": job_id, "template": template, "reasons": [reason], "task": None})
        else:
            jobs[task.id] = (job_id, template)
            tasks.append(task)
    if not tasks:
        return
    remote = RayVerifiers(config, docs, solver=solver, tools_factory=tools_factory)
    try:
        async for task, failed in remote.verify(tasks):
            job_id, template = jobs[task.id]
            if failed:
                rejected.append({"id": job_id, "template": template, "reasons": failed,
                                 "task": task.model_dump(mode="json")})
            else:
                kept.append(task)
    finally:
        remote.close()
