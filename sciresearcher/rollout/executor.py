"""Where the per-task work of a rollout runs: on this process's event loop, or on a Ray cluster.

`RayConfig` names the cluster (`address`: None starts a local Ray instance, "auto" joins the one started with
`ray start --head`, or `ray://host:10001`), how many worker actors to use and what each may take. With
`executor: ray`, `RayRollouts` starts `workers` actors; each builds its own model client, toolbox (search index,
reader) and judge from the run's config (or unpickles the ones the caller passed, e.g. an offline reference
policy) and runs up to `concurrency` trajectories at once on its own event loop. The driver hands out
(task, sample) pairs, least-loaded actor first, and gets graded trajectories back as they finish: it stays the
only writer of the run directory, so resume, record keys and outputs are the same as with the local executor.

What runs remotely is `rollout_one`, the same function the local executor awaits. `RayWorkers` is the
generic actor pool (synthesis verification uses it too). Ray is imported only here and only when asked for
(`pip install 'sciresearcher[scale]'`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from sciresearcher.errors import ConfigError
from sciresearcher.records import Task, Trajectory
from sciresearcher.rollout.config import RayConfig, RolloutConfig
from sciresearcher.rollout.one import make_judge, rollout_one, rollout_tools

log = logging.getLogger(__name__)


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ConfigError("executor 'ray' needs Ray", hint="pip install 'sciresearcher[scale]' (ray==2.60.0)") from exc
    return ray


def ensure_ray(config: RayConfig) -> Any:
    """`ray`, initialised for this config (joins or starts a cluster once per process)."""
    ray = _ray()
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": False, "include_dashboard": False}
        if config.address:
            kwargs["address"] = config.address
        if config.runtime_env:
            kwargs["runtime_env"] = config.runtime_env
        ray.init(**kwargs)
    return ray


class _RolloutWorker:
    """A Ray actor: one model client, toolbox and judge, many concurrent trajectories (`rollout_one`)."""

    def __init__(self, config_json: str, llm: Any | None, judge_llm: Any | None, tools_factory: Any | None,
                 judged: bool) -> None:
        from sciresearcher.llm import make_client

        self.config = RolloutConfig.model_validate_json(config_json)
        self.llm = llm if llm is not None else make_client(self.config.llm)
        self.tools = tools_factory if tools_factory is not None else rollout_tools(self.config)
        self.judge = make_judge(self.config, judge_llm, None) if judged else None

    async def run(self, task_json: str, sample: int) -> str:
        task = Task.model_validate_json(task_json)
        traj = await rollout_one(task, sample, self.llm, self.tools, self.config.agent, seed=self.config.seed,
                                 judge=self.judge, backend=getattr(self.llm, "backend", self.config.llm.backend))
        return traj.model_dump_json()


class RayWorkers:
    """`workers` Ray actors of `actor_cls(*init_args)`, each running up to `concurrency` calls of its async `run`
    at once; `map(payloads)` yields (payload index, result) as calls finish, least-loaded actor first."""

    def __init__(self, actor_cls: type, config: RayConfig, concurrency: int, *init_args: Any) -> None:
        self.ray = ensure_ray(config)
        actor = self.ray.remote(num_cpus=config.num_cpus_per_worker, max_concurrency=concurrency)(actor_cls)
        self.actors = [actor.remote(*init_args) for _ in range(config.workers)]
        self.per_actor = concurrency

    async def map(self, payloads: list[tuple[Any, ...]]) -> AsyncIterator[tuple[int, Any]]:
        load = [0] * len(self.actors)
        pending: dict[Any, tuple[int, int]] = {}
        queue = list(enumerate(payloads))

        def submit() -> None:
            while queue:
                i = min(range(len(load)), key=load.__getitem__)
                if load[i] >= self.per_actor:
                    return
                index, args = queue.pop(0)
                pending[self.actors[i].run.remote(*args)] = (i, index)
                load[i] += 1

        submit()
        while pending:
            futures = {asyncio.wrap_future(ref.future()): ref for ref in pending}
            done, _ = await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
            for fut in done:
                actor, index = pending.pop(futures[fut])
                load[actor] -= 1
                yield index, fut.result()
            submit()

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)


class RayRollouts:
    """Runs (task, sample) pairs on `ray.workers` rollout actors; yields each graded Trajectory as it finishes."""

    def __init__(self, config: RolloutConfig, *, llm: Any | None = None, judge_llm: Any | None = None,
                 tools_factory: Any | None = None, judged: bool = False) -> None:
        self.workers = RayWorkers(_RolloutWorker, config.ray, config.concurrency, config.model_dump_json(), llm,
                                  judge_llm, tools_factory, judged)

    async def run(self, todo: list[tuple[Task, int]]) -> AsyncIterator[Trajectory]:
        async for _, result in self.workers.map([(task.model_dump_json(), sample) for task, sample in todo]):
            yield Trajectory.model_validate_json(result)

    def close(self) -> None:
        self.workers.close()


async def local_rollouts(todo: list[tuple[Task, int]], one: Callable[[Task, int], Any],
                         concurrency: int) -> AsyncIterator[Trajectory]:
    """The local executor: `one(task, sample)` on this event loop, `concurrency` at a time, in completion order."""
    sem = asyncio.Semaphore(concurrency)

    async def guarded(task: Task, sample: int) -> Trajectory:
        async with sem:
            return await one(task, sample)

    for fut in asyncio.as_completed([guarded(t, s) for t, s in todo]):
        yield await fut
