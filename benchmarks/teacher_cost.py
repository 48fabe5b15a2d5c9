"""What a kept teacher trajectory costs at list price, with prompt caching, and with batch APIs, side by side.

Recorded 10-turn research trajectories (`teacher_recordings.py`: real PLOS text, a ~2k-token stable prefix
growing to ~20k tokens) are replayed through the REAL backends (the anthropic teacher, the openai HLE judge
via `HLEJudge`, writer / solver / no-tool calls) against `ProviderServer` on 127.0.0.1, which answers in
each provider's documented format and computes usage the way the providers do: Anthropic cache writes and
reads from the breakpoints each request carries (prefix up to a breakpoint cached if seen before, 20-block
lookback, 1,024-token minimum), OpenAI cached tokens from automatic prefix caching, batch results through
the Message Batches / Batch endpoints. The same recordings run under four setups, each on a fresh server:

  list           today's path: no cache_control, every call online (the list price of the tokens)
  caching        cache breakpoints on the teacher (5-minute cache), every call online
  caching+batch  as caching, and the calls that need no interaction (HLE judge, writer, solver votes, no-tool
                 checks) through the batch APIs (50% off)
  all batched    as caching+batch, and the teacher turns too: all trajectories advance one turn per batch
                 (latency: one batch round trip per turn), with the 1-hour cache Anthropic advises for batches;
                 ASSUMES the cache entries survive between a trajectory's batched turns (the provider calls
                 cache hits in batches best-effort)

Per kept trajectory (rejection sampling keeps `--keep-rate` of rollouts; synthesis verification keeps
`--task-keep-rate` of written tasks; each task gets one rollout, one judge call per rollout; each written
task costs one writer call, `--votes` no-tool solver votes and one no-tool check) and per 1,000 kept
trajectories it prints tokens, cache hit share and cost per setup. Last line: `ratio=R`, list-price cost
over the cost with caching and every batchable call batched (the all-batched setup, teacher turns included,
under its cache assumption); the line before, `ratio_online_teacher`, keeps the teacher online.

The teacher (and writer) is `--teacher` (default claude-sonnet-4-5; an OpenAI model such as gpt-5 goes through
the openai backend, whose prefix caching is automatic, so there `list` and `caching` bill the same).

Usage: python benchmarks/teacher_cost.py [--trajectories 8] [--keep-rate 0.5] [--task-keep-rate 0.5]
       [--teacher claude-sonnet-4-5] [--judge o3-mini-2025-01-31]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sciresearcher.eval.judge import HLEJudge
from teacher_recordings import SCHEMAS, Recording, record

from sciresearcher.agent.prompts import SYSTEM_PROMPT
from sciresearcher.llm import LLMConfig, make_client
from sciresearcher.llm.provider_server import ProviderServer
from sciresearcher.records import Message, Usage
from sciresearcher.synth.computational_llm import WRITER_PROMPT

SETUPS = ("list", "caching", "caching+batch", "all batched")
CATEGORIES = ("teacher", "judge", "writer", "solver", "no_tool")


def _text(body: dict[str, Any]) -> str:
    content = body["messages"][-1]["content"]
    return content if isinstance(content, str) else " ".join(str(b.get("text") or b.get("content") or "")
                                                            for b in content)


def _first_user(body: dict[str, Any]) -> str:
    first = next(m for m in body["messages"] if m["role"] == "user")["content"]
    return first if isinstance(first, str) else " ".join(str(b.get("text", "")) for b in first)


def make_reply(recordings: list[Recording], system: str) -> Any:
    by_question = {r.question: r for r in recordings}

    def reply(provider: str, body: dict[str, Any]) -> dict[str, Any]:
        text = _text(body)
        if "[correct_answer]" in text:  # the HLE judge (o3-mini: reasoning tokens are billed as output)
            verdict = {"extracted_final_answer": "1.45", "reasoning": "The response's final answer matches the "
                       "correct answer within rounding.", "correct": "yes", "confidence": 78, "strict": True}
            return {"content": json.dumps(verdict), "output_tokens": 450}
        if "quantitative research problems" in text:  # the writer: a problem, values, a solution
            return {"content": '{"question": "...", "values": [], "solution": "print(1)", "answer": 1.0}',
                    "output_tokens": 600}
        if body.get("tools"):  # a teacher turn
            recording = by_question[_first_user(body)]
            n = sum(1 for m in body["messages"] if m["role"] == "assistant")
            return recording.turns[n]
        has_system = bool(body.get("system")) or body["messages"][0]["role"] == "system"
        return {"content": "Explanation: ...\nAnswer: 1.4\nConfidence: 60%", "output_tokens": 700 if has_system
                else 350}  # a solver vote (agent prompt, no tools) or the no-tool check (question alone)

    return reply


async def run_teacher(client: Any, system: str, recordings: list[Recording]) -> list[tuple[Usage, str]]:
    async def one(rec: Recording) -> tuple[Usage, str]:
        history = [Message.system(system), Message.user(rec.question)]
        total = Usage()
        for i in range(len(rec.turns)):
            result = await client.chat(list(history), tools=SCHEMAS, max_tokens=4096)
            total = total + result.usage
            history.append(result.message)
            for call in result.message.tool_calls or []:
                history.append(Message.tool(rec.results[i], call.id, call.function.name))
        return total, history[-1].content or ""
    return list(await asyncio.gather(*(one(r) for r in recordings)))


async def run_side_calls(judge: Any, writer: Any, recordings: list[Recording], finals: list[str],
                         votes: int) -> dict[str, Usage]:
    """The calls around each rollout: judge verdicts, and each task's writer call, solver votes, no-tool check."""
    usage = {c: Usage() for c in CATEGORIES[1:]}
    hle = HLEJudge(judge)

    async def judged(rec: Recording, final: str) -> None:
        grade = await hle.grade(rec.question, final, "1.45")
        assert grade.method == "hle_judge" and grade.correct, grade

    async def call(kind: str, messages: list[Message]) -> None:
        result = await writer.chat(messages, max_tokens=2048)
        usage[kind] = usage[kind] + result.usage

    jobs = [judged(r, f) for r, f in zip(recordings, finals, strict=True)]
    for rec in recordings:
        sentences = [s.strip() + "." for s in rec.paper["text"].split(". ") if any(ch.isdigit() for ch in s)][:25]
        numbered = "\n".join(f"[{i}] {s[:400]}" for i, s in enumerate(sentences, 1))
        jobs.append(call("writer", [Message.user(WRITER_PROMPT.format(
            doc_id=rec.paper["id"], title=rec.paper["title"], sentences=numbered, min_values=2))]))
        jobs += [call("solver", [Message.system(SYSTEM_PROMPT), Message.user(rec.question)]) for _ in range(votes)]
        jobs.append(call("no_tool", [Message.user(rec.question)]))
    await asyncio.gather(*jobs)
    usage["judge"] = judge.ledger.usage  # a client of its own: its ledger holds exactly the verdicts
    return usage


def setup_configs(setup: str, server: ProviderServer, work: Path, teacher: str, judge: str) -> dict[str, LLMConfig]:
    fast = {"batch_window_s": 0.3, "batch_poll_s": 0.01, "batch_poll_max_s": 0.05}
    side_batch = setup in ("caching+batch", "all batched")
    backend = "anthropic" if teacher.startswith("claude") else "openai"  # OpenAI caches prefixes by itself
    url = server.base_url if backend == "anthropic" else server.openai_base_url
    teacher_cfg = {"backend": backend, "model": teacher, "base_url": url, "prompt_cache": setup != "list",
                   "max_concurrency": 64}
    if setup == "all batched":
        teacher_cfg |= {"batch": True, "batch_dir": str(work / "teacher"), "prompt_cache_ttl": "1h", **fast}
    side = {"batch": side_batch, **(fast if side_batch else {})}
    return {
        "teacher": LLMConfig(**teacher_cfg),
        "judge": LLMConfig(backend="openai", model=judge, base_url=server.openai_base_url,
                           batch_dir=str(work / "judge"), **side),
        "writer": LLMConfig(backend=backend, model=teacher, base_url=url,
                            prompt_cache=setup != "list", batch_dir=str(work / "writer"), **side),
    }


def run_setup(setup: str, system: str, recordings: list[Recording], args: argparse.Namespace) -> dict[str, Any]:
    with ProviderServer(make_reply(recordings, system), polls_to_end=1) as server, \
            tempfile.TemporaryDirectory() as tmp:
        cfgs = setup_configs(setup, server, Path(tmp), args.teacher, args.judge)
        teacher, judge, writer = (make_client(cfgs[k]) for k in ("teacher", "judge", "writer"))

        async def go() -> tuple[list[tuple[Usage, str]], dict[str, Usage]]:
            rollouts = await run_teacher(teacher, system, recordings)
            side = await run_side_calls(judge, writer, recordings, [f for _, f in rollouts], args.votes)
            return rollouts, side

        rollouts, side = asyncio.run(go())
    n = len(recordings)
    per = {"teacher": sum((u for u, _ in rollouts), Usage())}
    per.update(side)
    return {"usage": per, "n": n}


def per_kept(result: dict[str, Any], args: argparse.Namespace, *, field: str = "cost_usd") -> dict[str, float]:
    rollouts = 1 / args.keep_rate
    written = rollouts / args.task_keep_rate
    times = {"teacher": rollouts, "judge": rollouts, "writer": written, "solver": written, "no_tool": written}
    n = result["n"]
    return {c: getattr(result["usage"][c], field) / n * times[c] for c in CATEGORIES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trajectories", type=int, default=8)
    parser.add_argument("--prefix-tokens", type=int, default=2000)
    parser.add_argument("--final-tokens", type=int, default=20_000)
    parser.add_argument("--keep-rate", type=float, default=0.5, help="share of rollouts kept by rejection sampling")
    parser.add_argument("--task-keep-rate", type=float, default=0.5, help="share of written tasks that verify")
    parser.add_argument("--votes", type=int, default=3, help="no-tool solver votes per written task")
    parser.add_argument("--teacher", default="claude-sonnet-4-5")
    parser.add_argument("--judge", default="o3-mini-2025-01-31")
    args = parser.parse_args()

    system, recordings = record(args.trajectories, prefix_tokens=args.prefix_tokens, final_tokens=args.final_tokens)
    results = {s: run_setup(s, system, recordings, args) for s in SETUPS}
    costs = {s: per_kept(results[s], args) for s in SETUPS}
    costs["list price"] = per_kept(results["list"], args, field="list_cost_usd")
    t = {s: results[s]["usage"]["teacher"] for s in SETUPS}
    n = args.trajectories
    cached = t["caching"]
    print(f"teacher_cost: {n} recorded trajectories x {len(recordings[0].turns)} turns, prompt "
          f"~{args.prefix_tokens:,} -> ~{args.final_tokens:,} tokens; teacher {args.teacher}, judge {args.judge}")
    print(f"assumptions: keep rate {args.keep_rate:.0%} ({1 / args.keep_rate:.1f} rollouts and judge calls per kept "
          f"trajectory), task keep rate {args.task_keep_rate:.0%} ({1 / args.keep_rate / args.task_keep_rate:.1f} "
          f"tasks written: 1 writer call, {args.votes} solver votes, 1 no-tool check each); list prices of "
          "sciresearcher/llm/prices.yaml")
    print(f"per teacher trajectory: {cached.prompt_tokens / n:,.0f} input tokens (with caching: "
          f"{cached.cached_tokens / cached.prompt_tokens:.0%} read from cache, "
          f"{cached.cache_write_tokens / cached.prompt_tokens:.0%} written), {cached.completion_tokens / n:,.0f} output; "
          f"all batched: {t['all batched'].cached_tokens / t['all batched'].prompt_tokens:.0%} read from cache")
    columns = ("list price", "caching", "caching+batch", "all batched")
    print(f"\n{'per kept trajectory (USD)':<28}" + "".join(f"{c:>15}" for c in columns))
    for cat in CATEGORIES:
        print(f"  {cat:<26}" + "".join(f"{costs[c][cat]:>15.4f}" for c in columns))
    totals = {c: sum(costs[c].values()) for c in columns}
    print(f"  {'total':<26}" + "".join(f"{totals[c]:>15.4f}" for c in columns))
    print(f"{'per 1,000 kept (USD)':<28}" + "".join(f"{1000 * totals[c]:>15,.0f}" for c in columns))
    print(f"{'x cheaper than list':<28}" + "".join(f"{totals['list price'] / totals[c]:>15.2f}" for c in columns))
    print(f"ratio_online_teacher={totals['list price'] / totals['caching+batch']:.2f}")
    print(f"ratio={totals['list price'] / totals['all batched']:.2f}")


if __name__ == "__main__":
    main()
