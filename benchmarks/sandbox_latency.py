"""Sandbox call latency: a warm persistent session vs a fresh `python -c` per call, and throughput.

Measures, in one run on this machine:
  - warm p50/p95 of a trivial statement and of a small numpy computation in one SandboxSession;
  - the same two cells run as a fresh `python -c` per call (no sandbox at all, same imports): the cost a
    stateless executor pays on every call;
  - the start-up of a fresh sandboxed session up to its first result (numpy preloaded, and nothing preloaded:
    what synthesis verification pays per candidate);
  - throughput (calls/s) with 8 sessions at once, against one session.
Last line: `warm_p50_ms=<x> cold_p50_ms=<y> speedup=<y/x>` for the numpy cell. Goal: warm p50 <= 20 ms and
speedup >= 10.

    .venv/bin/python benchmarks/sandbox_latency.py [--n 200] [--cold-n 30] [--mode auto]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time

from sciresearcher.sandbox import SandboxConfig, SandboxSession

TRIVIAL = "x = 1"
NUMPY_SETUP = "import numpy as np"
NUMPY_CELL = "a = np.arange(1000, dtype=float)\nfloat((a * a).sum() / a.size)"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def ms(values: list[float]) -> str:
    return f"p50={pct(values, 0.5) * 1e3:7.2f} ms  p95={pct(values, 0.95) * 1e3:7.2f} ms  (n={len(values)})"


def warm(session: SandboxSession, code: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = session.run_sync(code)
        out.append(time.perf_counter() - t0)
        assert r.ok, r.error
    return out


def cold(code: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL)
        out.append(time.perf_counter() - t0)
    return out


async def throughput(config: SandboxConfig, sessions: int, calls: int) -> float:
    sbs = [SandboxSession(config) for _ in range(sessions)]
    try:
        await asyncio.gather(*(sb.run(NUMPY_SETUP) for sb in sbs))

        async def drive(sb: SandboxSession) -> None:
            for _ in range(calls):
                r = await sb.run(NUMPY_CELL)
                assert r.ok, r.error

        t0 = time.perf_counter()
        await asyncio.gather(*(drive(sb) for sb in sbs))
        return sessions * calls / (time.perf_counter() - t0)
    finally:
        await asyncio.gather(*(sb.aclose() for sb in sbs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="warm calls per cell")
    ap.add_argument("--cold-n", type=int, default=30, help="fresh-process calls per cell")
    ap.add_argument("--mode", default="auto")
    ap.add_argument(
        "--throughput-calls", type=int, default=100, help="calls per session in the throughput test"
    )
    args = ap.parse_args()
    config = SandboxConfig(mode=args.mode, preload=["numpy"])

    t0 = time.perf_counter()
    session = SandboxSession(config)
    session.run_sync(NUMPY_SETUP)
    first = time.perf_counter() - t0
    starts = []
    for _ in range(5):
        t0 = time.perf_counter()
        with SandboxSession(config) as sb:
            sb.run_sync(TRIVIAL)
            starts.append(time.perf_counter() - t0)
    bare = config.model_copy(update={"preload": []})
    bare_starts = []
    for _ in range(5):  # what synthesis pays per candidate (a fresh session each, nothing preloaded)
        t0 = time.perf_counter()
        with SandboxSession(bare) as sb:
            sb.run_sync(TRIVIAL)
            bare_starts.append(time.perf_counter() - t0)
    print(f"mode: {session.mode}   python: {sys.version.split()[0]}")
    print(
        f"first session (incl. mode probe): {first * 1e3:.0f} ms; fresh session to first result: {ms(starts)}"
    )
    print(f"fresh session without preload, to first result and closed: {ms(bare_starts)}")
    with session:
        warm(session, TRIVIAL, 10)
        w_triv = warm(session, TRIVIAL, args.n)
        w_np = warm(session, NUMPY_CELL, args.n)
    c_triv = cold(TRIVIAL, args.cold_n)
    c_np = cold(
        f"{NUMPY_SETUP}\n{NUMPY_CELL.replace(chr(10) + 'float', chr(10) + 'print(float')})", args.cold_n
    )
    print(f"warm  trivial : {ms(w_triv)}")
    print(f"warm  numpy   : {ms(w_np)}")
    print(f"cold  trivial : {ms(c_triv)}   (fresh `python -c`, unsandboxed)")
    print(f"cold  numpy   : {ms(c_np)}   (fresh `python -c` importing numpy, unsandboxed)")
    print(f"speedup trivial: {statistics.median(c_triv) / statistics.median(w_triv):.1f}x")
    one = asyncio.run(throughput(config, 1, args.throughput_calls))
    eight = asyncio.run(throughput(config, 8, args.throughput_calls))
    print(
        f"throughput numpy cell: 1 session {one:.0f} calls/s; 8 sessions at once {eight:.0f} calls/s "
        f"({eight / one:.1f}x)"
    )
    wp, cp = pct(w_np, 0.5) * 1e3, pct(c_np, 0.5) * 1e3
    print(f"warm_p50_ms={wp:.2f} cold_p50_ms={cp:.2f} speedup={cp / wp:.1f}")


if __name__ == "__main__":
    main()
