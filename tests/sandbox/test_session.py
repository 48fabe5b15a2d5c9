"""SandboxSession behaviour: persistence, results, figures, concurrency, pool, config."""

from __future__ import annotations

import asyncio
import importlib.util
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from sciresearcher.errors import ConfigError, SandboxError
from sciresearcher.sandbox import SandboxConfig, SandboxPool, SandboxSession


def test_state_value_and_stdout_persist(session):
    r1 = session.run_sync("import math\nx = 20\nprint('half', x / 2)\nx + 1")
    assert r1.ok and r1.stdout == "half 10.0\n" and r1.value == "21" and r1.mode == session.mode
    r2 = session.run_sync("def f(n):\n    return n * x\nf(2)")
    assert r2.value == "40" and r2.call == 2 and not r2.restarted
    assert session.run_sync("None").value is None
    assert session.run_sync("_").value == "40"  # like a REPL, _ holds the last value


def test_traceback_is_trimmed_to_user_code(session):
    session.run_sync("def g():\n    return 1 / 0")
    r = session.run_sync("y = 1\ng()")
    assert not r.ok and r.error.startswith("ZeroDivisionError") and r.error_kind == "exception"
    assert "<cell-2>" in r.traceback and "<cell-1>" in r.traceback and "return 1 / 0" in r.traceback
    assert "_worker.py" not in r.traceback
    assert "ZeroDivisionError" in r.to_text()


def test_syntax_error(session):
    r = session.run_sync("def (:")
    assert not r.ok and r.error.startswith("SyntaxError")


def test_stderr_and_subprocess_output_are_captured(session, sandbox_mode):
    code = "import sys, os\nprint('to-err', file=sys.stderr)\nos.write(1, b'raw-fd\\n')\n"
    if sandbox_mode != "rlimit":  # rlimit mode refuses new processes
        code += "import subprocess\nsubprocess.run(['echo', 'from-child'])\n"
    r = session.run_sync(code)
    assert r.ok, r.error
    assert "to-err" in r.stderr and "raw-fd" in r.stdout
    if sandbox_mode != "rlimit":
        assert "from-child" in r.stdout


def test_long_value_is_truncated(session):
    r = session.run_sync("'a' * 100000")
    assert len(r.value) < 9000 and "repr truncated" in r.value


def test_matplotlib_figures_are_saved(session):
    pytest.importorskip("matplotlib")
    r = session.run_sync(
        "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.figure()\nplt.plot([3, 1])", timeout_s=30
    )
    assert r.ok, r.error
    assert len(r.figures) == 2
    for path in r.figures:
        assert path.startswith(str(session.workdir)) and path.endswith(".png")
        assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "[figure saved: figure_001_1.png]" in r.to_text()
    assert session.run_sync("1").figures == []  # closed after saving


def test_environment_and_working_dir(session):
    r = session.run_sync(
        "import os, tempfile\nopen(os.path.join(tempfile.gettempdir(), 't'), 'w').write('x')\n"
        "(os.getcwd(), os.environ['HOME'], sorted(os.environ))"
    )
    assert r.ok, r.error
    cwd, home, keys = eval(r.value)
    assert cwd == home == str(session.workdir)
    assert not any("KEY" in k or "TOKEN" in k for k in keys)


def test_scientific_stack_imports(session):
    mods = [
        m
        for m in ("numpy", "scipy", "pandas", "sympy", "Bio", "rdkit", "periodictable", "pint")
        if importlib.util.find_spec(m)
    ]
    r = session.run_sync(
        f"import importlib\n[importlib.import_module(m).__name__ for m in {mods!r}]", timeout_s=60
    )
    assert r.ok, r.error
    assert eval(r.value) == mods


def test_closed_session_raises(config):
    sb = SandboxSession(config)
    sb.close()
    with pytest.raises(SandboxError):
        sb.run_sync("1")


def test_preload_errors_are_reported(config):
    with SandboxSession(config.model_copy(update={"preload": ["no_such_module_xyz"]})) as sb:
        sb.start()
        assert "no_such_module_xyz" in sb.preload_errors
        assert sb.run_sync("2").value == "2"


def test_workdir_removed_on_close(config):
    sb = SandboxSession(config)
    sb.run_sync("open('f.txt', 'w').write('x')")
    root = sb.session_dir
    sb.close()
    assert not root.exists()


def test_concurrent_async_sessions_keep_their_own_state(config):
    async def one(i: int) -> tuple[str | None, str | None]:
        async with SandboxSession(config) as sb:
            await sb.run(f"v = {i}")
            first, second = await asyncio.gather(sb.run("v * 2"), sb.run("v * 3"))
            return first.value, second.value

    async def main():
        return await asyncio.gather(*(one(i) for i in range(8)))

    results = asyncio.run(main())
    assert results == [(str(i * 2), str(i * 3)) for i in range(8)]


def test_pool_hands_out_fresh_started_sessions(config):
    async def main():
        with SandboxPool(config, warm=2) as pool:
            async with pool.session() as a:
                await a.run("secret = 1")
            async with pool.session() as b:
                r = await b.run("secret")
            return r

    r = asyncio.run(main())
    assert not r.ok and "NameError" in r.error


def test_config_rejects_unknown_keys_and_bad_modes():
    with pytest.raises(ValidationError):
        SandboxConfig(timeout=3)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        SandboxConfig(mode="docker")  # type: ignore[arg-type]
    from sciresearcher.config import load_config

    with pytest.raises(ConfigError):
        load_config(SandboxConfig, None, ["timeoutt_s=3"])


def test_session_outlives_the_thread_that_started_it(session):
    import threading

    t = threading.Thread(target=lambda: session.run_sync("kept = 'yes'"))
    t.start()
    t.join()
    time.sleep(0.3)  # bwrap's --die-with-parent follows the forking thread: it must not be a short-lived one
    r = session.run_sync("kept")
    assert r.value == "'yes'" and not r.restarted


def test_blocked_modules_cannot_be_imported(config):
    """A task sandbox can hide the libraries synthesized facts come from (submodules too); the rest imports."""
    with SandboxSession(config.model_copy(update={"blocked_modules": ["csv", "email"]})) as sb:
        blocked = sb.run_sync("import csv")
        sub = sb.run_sync("from email import message")
        fine = sb.run_sync("import math\nprint(math.sqrt(16))")
    assert not blocked.ok and "No module named 'csv' (not available in this sandbox)" in blocked.to_text()
    assert not sub.ok and "ModuleNotFoundError" in sub.to_text()
    assert fine.ok and fine.stdout.strip() == "4.0"


def test_a_calls_time_limit_starts_when_its_worker_is_ready(config):
    """A worker's start is not the code's time: with many sessions starting at once on a small machine (an
    evaluation of 100 trajectories), counting it timed out `print(1)` and scored the harness, not the model."""
    slow_start = config.model_copy(update={"preload": ["pandas", "scipy.stats", "sympy"], "timeout_s": 0.5,
                                           "grace_s": 0.1})
    with SandboxSession(slow_start) as sb:
        started = time.monotonic()
        r = sb.run_sync("print(1)")
        wall = time.monotonic() - started
    assert wall > 0.6, "the preload started faster than the limit: this test needs a slower start"
    assert r.ok and r.stdout == "1\n" and r.elapsed_s < 0.5
