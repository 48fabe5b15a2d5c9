"""Agent-loop overhead: 256 trajectories x 4 model turns at concurrency 32 against the local
OpenAI-compatible test server answering every call after a fixed latency (default 200 ms).

Ideal throughput is concurrency / (turns x latency) trajectories per second (32 / 0.8 s = 40/s): the loop,
the openai backend, tool execution and record building should add almost nothing to the model's latency.
`run_batch` drives the trajectories (as a script would); the tool is a coroutine like search/read/python
(`--tool-kind sync` runs a plain function in a worker thread instead) and the openai backend uses the SDK's
aiohttp transport (`--http-client httpx` for the SDK's default). The test server runs in its own process.
Last line: `throughput_ratio=<achieved / ideal>` (goal >= 0.9).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time

from sciresearcher.agent.batch import run_batch
from sciresearcher.agent.config import AgentConfig
from sciresearcher.llm import LLMConfig, make_client
from sciresearcher.records import Task
from sciresearcher.testing import echo_tool


async def async_echo_tool(text: str) -> str:
    """Echo the text back (a coroutine, as the search, read and python tools are).

    Args:
        text: The text to echo.
    """
    return text


async_echo_tool.__name__ = "echo_tool"  # the name the test server's scripted replies call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trajectories", type=int, default=256)
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--tool-kind", default="async", choices=["async", "sync"],
                        help="async: a coroutine tool, as search/read/python are; sync: a plain function, which the "
                             "loop runs in a worker thread")
    parser.add_argument("--http-client", default="auto", choices=["auto", "aiohttp", "httpx"],
                        help="the openai SDK's transport (auto: aiohttp where installed)")
    args = parser.parse_args()

    # The server runs in its own process, as a real inference server would: sharing this process's GIL
    # would charge the server's JSON work to the loop being measured.
    proc = subprocess.Popen([sys.executable, "-m", "sciresearcher.llm.testserver", "--latency", str(args.latency),
                             "--tool-turns", str(args.turns - 1)], stdout=subprocess.PIPE, text=True)
    try:
        base_url = proc.stdout.readline().strip()
        client = make_client(LLMConfig(backend="openai", model="bench", base_url=base_url,
                                       max_concurrency=args.concurrency, timeout_s=30,
                                       http_client=args.http_client))
        tasks = [Task(id=f"t{i}", question=f"question {i}", answer="42") for i in range(args.trajectories)]
        started = time.perf_counter()
        tool = echo_tool if args.tool_kind == "sync" else async_echo_tool
        trajs = asyncio.run(run_batch(tasks, client, [tool], AgentConfig(), concurrency=args.concurrency,
                                      backend="openai"))
        elapsed = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait()

    ok = sum(1 for t in trajs if t.status == "ok" and t.final and t.final.answer == "42")
    turns = sum(t.counters.turns for t in trajs) / len(trajs)
    achieved = len(trajs) / elapsed
    ideal = args.concurrency / (args.turns * args.latency) if args.latency > 0 else float("inf")
    print(json.dumps({"trajectories": len(trajs), "ok": ok, "mean_turns": turns, "elapsed_s": round(elapsed, 3),
                      "http_client": client.transport, "tool_kind": args.tool_kind, "achieved_per_s": round(achieved, 2), "ideal_per_s": round(ideal, 2)}))
    print(f"throughput_ratio={achieved / ideal:.3f}")


if __name__ == "__main__":
    main()
