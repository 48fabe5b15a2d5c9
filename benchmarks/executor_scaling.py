"""Throughput of the rollout executors side by side on sandbox-heavy work: asyncio (this process) vs Ray with 1
and 2 local worker actors.

Each trajectory is two model turns against an OpenAI-compatible server on 127.0.0.1 (scripted, instant replies)
with one `python` call between them that burns about `--work-ms` of CPU in the sandbox (a pure-Python loop),
so the cost is the sandbox, the tool loop and the agent, not the model. Every setup runs the same tasks into its
own run directory through `rollout.run_rollouts` (the code `eval run` and `data rollout` use) and must grade
the same answers. Ray's start-up (a local instance, actors building their toolbox) is timed apart from the run.

    python benchmarks/executor_scaling.py [--tasks 48] [--work-ms 150] [--concurrency 4]

Last line: `local_tps=X ray1_tps=Y ray2_tps=Z` (trajectories per second, start-up excluded).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sciresearcher.llm.testserver import OpenAITestServer
from sciresearcher.records import Task
from sciresearcher.rollout.config import RolloutConfig
from sciresearcher.rollout.runner import run_rollouts


def make_teacher(work_ms: int):
    loops = work_ms * 12_000  # ~1 ms of a pure-Python loop per 12k iterations on a 2020s core

    def teacher(body: dict[str, Any]) -> Any:
        question = next(m["content"] for m in body["messages"] if m["role"] == "user")
        n = int(re.findall(r"task (\d+)", question)[0])
        tool = [m for m in body["messages"] if m["role"] == "tool"]
        if not tool:
            code = f"s = 0\nfor i in range({loops}):\n    s += i % 7\nprint({n} * 3)"
            return {"tool_calls": [{"name": "python", "arguments": {"code": code}}]}
        return f"Explanation: computed.\nAnswer: {tool[-1]['content'].split()[0]}\nConfidence: 90%"

    return teacher


def run(config: RolloutConfig, tasks: list[Task], out: Path) -> tuple[float, list[tuple[str, bool]]]:
    started = time.perf_counter()
    asyncio.run(run_rollouts(tasks, config, out, show_progress=False))
    elapsed = time.perf_counter() - started
    rows = [json.loads(x) for x in (out / "trajectories.jsonl").read_text().splitlines()]
    return elapsed, sorted((r["id"], r["grade"]["correct"]) for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=48)
    parser.add_argument("--work-ms", type=int, default=150, help="CPU each python call burns in the sandbox")
    parser.add_argument("--concurrency", type=int, default=4, help="trajectories in flight per executor/actor")
    args = parser.parse_args()
    import ray

    tasks = [Task(id=f"t{i}", question=f"What is three times task {i}?", answer=str(3 * i), answer_type="numeric")
             for i in range(args.tasks)]
    work = Path(tempfile.mkdtemp(prefix="executor-scaling-"))
    figures: dict[str, float] = {}
    with OpenAITestServer(make_teacher(args.work_ms)) as srv:
        base = {"llm": {"backend": "openai", "model": "teacher", "base_url": srv.base_url},
                "tools": {"enabled": ["python"]}, "concurrency": args.concurrency}
        warm = RolloutConfig(**base)
        run(warm, tasks[:2], work / "warm")  # sandbox probe and imports, outside the timings
        elapsed, reference = run(RolloutConfig(**base), tasks, work / "local")
        figures["local"] = args.tasks / elapsed
        print(f"asyncio executor: {elapsed:.1f}s, {figures['local']:.2f} trajectories/s", file=sys.stderr)
        started = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        print(f"ray start: {time.perf_counter() - started:.1f}s", file=sys.stderr)
        for workers in (1, 2):
            config = RolloutConfig(**base, executor="ray", ray={"workers": workers, "num_cpus_per_worker": 1})
            run(config, tasks[:2], work / f"warm-ray{workers}")  # actors start, build their toolbox
            elapsed, graded = run(config, tasks, work / f"ray{workers}")
            assert graded == reference, "the Ray executor graded differently from the local one"
            figures[f"ray{workers}"] = args.tasks / elapsed
            print(f"ray, {workers} worker(s): {elapsed:.1f}s, {figures[f'ray{workers}']:.2f} trajectories/s",
                  file=sys.stderr)
    print(f"local_tps={figures['local']:.2f} ray1_tps={figures['ray1']:.2f} ray2_tps={figures['ray2']:.2f}")


if __name__ == "__main__":
    main()
