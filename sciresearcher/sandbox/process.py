"""The host side of starting sandbox workers: the thread that forks them, the thread pool async calls run in,
and the matplotlib font cache seeded into each session (so `import matplotlib` inside does not rebuild it).

No confinement decisions (confine.py) and no session state (session.py) live here.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sciresearcher.sandbox.config import SandboxConfig
from sciresearcher.sandbox.confine import python_for, run_quiet

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def thread_pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=512, thread_name_prefix="sandbox")
        return _executor


_spawner: ThreadPoolExecutor | None = None


def spawn(argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """Popen from one long-lived thread: bwrap's --die-with-parent (PR_SET_PDEATHSIG) fires when the
    *thread* that forked it exits, so a session started from a short-lived thread would die with it."""
    global _spawner
    with _executor_lock:
        if _spawner is None:
            _spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-spawn")
    return _spawner.submit(subprocess.Popen, argv, **kwargs).result()


def as_uid(argv: list[str], uid: int) -> tuple[list[str], dict[str, Any]]:
    """(argv, Popen kwargs) that run `argv` as `uid` with its own gid and no supplementary groups. Through
    `setpriv` (util-linux) the switch happens after the exec, so Popen can vfork; Popen's own user=/group= make
    CPython fork the whole host process instead, whose page tables are most of a session's cost in a process
    that has loaded torch (~20 ms of system time per call). Without setpriv, Popen switches."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return argv, {"user": uid, "group": uid, "extra_groups": []}
    return [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--", *argv], {}


_mpl_lock = threading.Lock()


def seed_matplotlib_cache(root: Path, target: Path, config: SandboxConfig, uid: int | None) -> None:
    """Copy a font cache built once per machine, so importing matplotlib inside does not rebuild it."""
    if not config.figures:
        return
    cache = root / ".mplcache"
    with _mpl_lock:
        if not any(cache.glob("fontlist-*.json")):
            cache.mkdir(exist_ok=True)
            env = {"MPLCONFIGDIR": str(cache), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"}
            run_quiet(
                [python_for(config), "-I", "-c", "import matplotlib.font_manager"], env=env, timeout=120
            )
    for f in cache.glob("fontlist-*.json"):
        shutil.copy(f, target / f.name)
        if uid is not None:
            os.chown(target / f.name, uid, uid)


def describe_exit(code: int | None) -> tuple[str, str]:
    """(how the worker ended, error kind) from its exit status (None: alive but no longer answering)."""
    if code is None:
        return "closed its reply pipe", "crash"
    if code < 0:
        return f"was killed by signal {signal.Signals(-code).name}", "crash"
    if code > 128:
        try:
            return f"was killed by signal {signal.Signals(code - 128).name}", "crash"
        except ValueError:
            pass
    return f"exited with code {code}", "exit"
