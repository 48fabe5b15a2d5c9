"""`SandboxSession`: one persistent, confined worker per agent trajectory, usable sync or async.

A session owns a private directory (`work/` is the code's working dir, `io/` holds capture files, TMPDIR
and matplotlib's config), a worker process started lazily on the first call, and, when the host runs as
root, its own uid (so rlimits on processes count this session only and sessions cannot signal each
other). Calls are serialized per session; different sessions run in parallel (async calls run in a
shared thread pool, so hundreds of trajectories can each hold one). A call that overruns its wall time
by more than `grace_s`, or a worker that crashes or exits, kills the whole sandbox; the next call starts
a fresh worker and its result says the state was lost. It also probes which confinement modes work
here (`probe`, `resolve_mode`: a probe is a real session); how each mode is launched is confine.py, the
cell runs in the worker.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Any, Self

from sciresearcher.errors import SandboxError
from sciresearcher.sandbox.config import SandboxConfig
from sciresearcher.sandbox.confine import (
    AUTO_ORDER,
    HERE,
    PROBE_CODE,
    RLIMIT_WARNING,
    build_launch,
    count_user_processes,
    default_root,
    missing_tool,
    python_for,
    run_quiet,
)
from sciresearcher.sandbox.process import as_uid, describe_exit, seed_matplotlib_cache, spawn, thread_pool
from sciresearcher.sandbox.protocol import (
    FrameReader,
    ProtocolError,
    check_hello,
    check_reply,
    max_frame_bytes,
)
from sciresearcher.sandbox.result import ExecResult, lost_result
from sciresearcher.sandbox.uids import claim_uid

log = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0
_live: weakref.WeakSet[SandboxSession] = weakref.WeakSet()
_probe_lock = threading.Lock()
_probe_cache: dict[tuple[str, str], str | None] = {}
_warned_modes: set[str] = set()


@atexit.register
def _close_all() -> None:
    for session in list(_live):
        session.close()


class SandboxSession:
    """A persistent confined Python worker. Thread-safe; use `run` (async) or `run_sync`."""

    def __init__(
        self, config: SandboxConfig | None = None, *, mode: str | None = None, _probing: bool = False
    ) -> None:
        self.config = config or SandboxConfig()
        self.mode: str | None = mode or (self.config.mode if _probing else None)  # resolved on start
        root = self.config.root_dir or default_root()
        root.mkdir(parents=True, exist_ok=True)
        self._root = root
        self._uid: int | None = None
        self._uid_fds: list[int] = []
        if os.geteuid() == 0:
            os.chmod(root, 0o711)
            self._uid, self._uid_fds = claim_uid(self.config.uid_base)
        self.session_dir = Path(tempfile.mkdtemp(prefix="s-", dir=root))
        self.workdir = self.session_dir / "work"
        self._io = self.session_dir / "io"
        for d in (self.workdir, self._io, self._io / "tmp", self._io / "mpl"):
            d.mkdir(exist_ok=True)
        if self._uid is not None:
            for d in (self.session_dir, self.workdir, self._io, self._io / "tmp", self._io / "mpl"):
                os.chown(d, self._uid, self._uid)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: FrameReader | None = None
        self._started_once = False
        self._pending_notice: str | None = None
        self.calls = 0
        self.restarts = 0
        self.closed = False
        self.preload_errors: dict[str, str] = {}
        _live.add(self)

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker now (otherwise the first call does). Raises SandboxError if it cannot."""
        with self._lock:
            self._ensure_started()

    def _ensure_started(self) -> None:
        if self.closed:
            raise SandboxError("this sandbox session is closed", hint="create a new SandboxSession")
        if self._proc is not None and self._proc.poll() is None:
            return
        if self._proc is not None:
            self._kill()
        if self.mode is None:
            self.mode = resolve_mode(self.config)
        if not self._started_once:
            seed_matplotlib_cache(self._root, self._io / "mpl", self.config, self._uid)
        uid = self._uid
        nproc = self.config.max_procs + (0 if uid is not None else count_user_processes(os.geteuid()))
        launch = build_launch(self.mode, self.session_dir, self._root, self.config, uid, nproc)
        log_path = self._io / "launcher.log"
        with open(log_path, "wb") as errf:
            kwargs: dict[str, Any] = {}
            if launch.uid is not None:
                kwargs.update(user=launch.uid, group=launch.uid, extra_groups=[])
            self._proc = spawn(
                launch.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errf,
                env=launch.env,
                cwd=self.workdir,
                close_fds=True,
                start_new_session=True,
                **kwargs,
            )
        assert self._proc.stdout is not None
        self._reader = FrameReader(self._proc.stdout.fileno(), max_frame_bytes(self.config))
        raw: Any = None
        hello: dict[str, Any] | None = None
        why = ""
        try:
            raw = self._reader.read(time.monotonic() + START_TIMEOUT_S)
            hello = check_hello(raw) if isinstance(raw, dict) else None
            why = "it sent more than its ready message" if hello and self._reader.pending() else ""
        except ProtocolError as exc:
            why = f"it sent {exc}"
        if hello is None or why:
            why = why or ("timed out" if raw == "timeout" else "it exited")
            detail = log_path.read_text(errors="replace")[-2000:].strip()
            self._kill()
            raise SandboxError(
                f"the sandbox worker ({self.mode} mode) did not start: {why}\n{detail}",
                hint="run `sciresearcher sandbox probe` to see which modes work here",
            )
        self.preload_errors = hello.get("preload_errors") or {}
        for mod, err in self.preload_errors.items():
            log.warning("sandbox preload of %s failed: %s", mod, err)
        if self._started_once:
            self.restarts += 1
        self._started_once = True

    def close(self) -> None:
        """Kill the worker, free the uid and delete the session dir (unless keep_workdir)."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self._kill()
            for fd in self._uid_fds:
                os.close(fd)
            self._uid_fds = []
            if not self.config.keep_workdir:
                shutil.rmtree(self.session_dir, ignore_errors=True)

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for action in (lambda: os.killpg(proc.pid, signal.SIGKILL), proc.kill):
            try:
                action()
            except (ProcessLookupError, PermissionError, OSError):
                pass
        if self._uid is not None:
            kill = shutil.which("kill")
            if kill:  # every process left with this session's uid, wherever it went (setsid, reparenting)
                argv, as_user = as_uid([kill, "-9", "-1"], self._uid)
                run_quiet(argv, timeout=5, **as_user)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.warning("sandbox worker %s did not exit after SIGKILL", proc.pid)
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(thread_pool(), self.close)

    # -- calls -------------------------------------------------------------------------------------
    async def run(self, code: str, timeout_s: float | None = None) -> ExecResult:
        """Run `code` in the session (state persists); never raises for what the code does."""
        return await asyncio.get_running_loop().run_in_executor(thread_pool(), self.run_sync, code, timeout_s)

    def run_sync(self, code: str, timeout_s: float | None = None) -> ExecResult:
        """Blocking `run`. Raises SandboxError only when the session is closed or cannot start."""
        with self._lock:
            return self._run_locked(code, timeout_s or self.config.timeout_s)

    def _run_locked(self, code: str, timeout_s: float) -> ExecResult:
        if self._proc is not None and self._proc.poll() is None and self._reader and self._reader.pending():
            self._kill()  # a frame nobody asked for: cell code of the last call wrote replies of its own
            self._pending_notice = (
                f"after call {self.calls} the worker sent a reply nobody asked for (written by the cell's code), "
                "so it was killed"
            )
        restarted = self._started_once and (self._proc is None or self._proc.poll() is not None)
        notice = self._pending_notice
        self._pending_notice = None
        self._ensure_started()
        if restarted:
            notice = ((notice + "; ") if notice else "") + (
                "the sandbox was restarted: variables, imports and definitions from earlier calls are gone "
                "(files in the working dir remain)"
            )
        self.calls += 1
        call = self.calls
        req = {"call": call, "code": code, "timeout_s": timeout_s, "cpu_s": self.config.cpu_s}
        base: dict[str, Any] = {
            "mode": str(self.mode),
            "call": call,
            "restarted": restarted,
            "state_lost": restarted,
            "notice": notice,
        }
        t0 = time.monotonic()  # the limit is the code's: a worker's start (slow when many start at once) is not in it
        try:
            self._send(req)
            assert self._reader is not None
            msg = self._reader.read(t0 + timeout_s + self.config.grace_s)
            if isinstance(msg, dict):
                msg = check_reply(msg, call, self.workdir, self.config)
                if self._reader.pending():
                    raise ProtocolError(f"more than one reply for call {call}")
            elif msg not in ("timeout", "eof"):
                raise ProtocolError(f"a reply that is not an object ({type(msg).__name__})")
        except ProtocolError as exc:
            return self._violated(base, round(time.monotonic() - t0, 4), str(exc))
        except OSError:
            msg = "eof"
        elapsed = round(time.monotonic() - t0, 4)
        if msg == "timeout":
            self._kill()
            return ExecResult(
                ok=False,
                error=f"TimeoutError: the call ran past its limit of {timeout_s:g} s and "
                "did not stop when interrupted; the sandbox was killed and its state is lost",
                error_kind="timeout",
                elapsed_s=elapsed,
                **{**base, "state_lost": True},
            )
        if not isinstance(msg, dict):
            return self._crashed(base, elapsed)
        error = msg["error"]
        result = ExecResult(
            ok=error is None,
            stdout=msg["stdout"],
            stderr=msg["stderr"],
            stdout_dropped=msg["stdout_dropped"],
            stderr_dropped=msg["stderr_dropped"],
            value=msg["value"],
            figures=msg["figures"],
            elapsed_s=elapsed,
            error=None if error is None else f"{error['type']}: {error['message']}",
            error_kind=None if error is None else error["kind"],
            traceback=None if error is None else error["traceback"],
            **base,
        )
        if error and result.error_kind in ("timeout", "cpu") and msg["stray_threads"] > 0:
            self._kill()
            self._pending_notice = (
                f"call {call} hit its limit while {msg['stray_threads']} thread(s) it "
                "started kept running, so the sandbox was restarted"
            )
            result.state_lost = True
            result.error = (
                result.error or ""
            ) + " (threads it started kept running: the sandbox was killed, state lost)"
        return result

    def _violated(self, base: dict[str, Any], elapsed: float, reason: str) -> ExecResult:
        """A frame broke the protocol: the worker is killed (the next call starts a fresh one)."""
        self._kill()
        log.warning("sandbox worker sent %s; killed it", reason)
        return lost_result(f"SandboxProtocolError: the worker sent {reason}, so it was killed", "protocol",
                           base, elapsed)

    def _crashed(self, base: dict[str, Any], elapsed: float) -> ExecResult:
        proc = self._proc
        try:
            code = proc.wait(timeout=2) if proc is not None else None
        except subprocess.TimeoutExpired:  # alive but its reply pipe is closed: it can no longer answer
            self._kill()
            code = None
        how, kind = describe_exit(code)
        self._kill()
        return lost_result(f"SandboxCrash: the Python worker {how} (a segfault, os._exit, a kill or a hard limit)",
                           kind, base, elapsed)

    # -- protocol ----------------------------------------------------------------------------------
    def _send(self, obj: dict[str, Any]) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        data = json.dumps(obj).encode()
        self._proc.stdin.write(struct.pack(">I", len(data)) + data)
        self._proc.stdin.flush()


# -- which modes work here ---------------------------------------------------------------------------
def probe(mode: str, config: SandboxConfig) -> str | None:
    """None when `mode` works here (a real sandbox starts and passes checks), else the reason it does not."""
    missing = missing_tool(mode)
    if missing:
        return missing
    key = (mode, python_for(config))
    with _probe_lock:
        if key in _probe_cache:
            return _probe_cache[key]
    cfg = config.model_copy(update={"mode": mode, "preload": [], "timeout_s": 20.0})
    reason: str | None = None
    try:
        with SandboxSession(cfg, _probing=True) as session:
            res = session.run_sync(f"HOST_PACKAGE = {str(HERE / 'session.py')!r}\n" + PROBE_CODE)
            if not res.ok:
                reason = f"probe failed: {res.error}"
            elif mode != "rlimit" and res.value not in ("[]", None):
                reason = f"probe found: {res.value}"
            elif not (session.workdir / "probe.txt").exists():
                reason = "the working dir is not writable from inside"
    except SandboxError as exc:
        reason = " ".join(str(exc).split("\n")[:2])
    with _probe_lock:
        _probe_cache[key] = reason
    if reason:
        log.info("sandbox mode %s unavailable: %s", mode, reason)
    return reason


def resolve_mode(config: SandboxConfig) -> str:
    """The mode to use: config.mode when it works (else SandboxError), or for auto the first of bwrap and
    unshare that works. auto never falls back to rlimit: that must be asked for by name."""
    if config.mode != "auto":
        reason = probe(config.mode, config)
        if reason:
            raise SandboxError(
                f"sandbox mode {config.mode!r} does not work here: {reason}",
                hint="use mode: auto, or install bubblewrap (apt-get install -y bubblewrap)",
            )
        if config.mode == "rlimit" and "rlimit" not in _warned_modes:
            _warned_modes.add("rlimit")
            log.warning(RLIMIT_WARNING)
        return config.mode
    reasons = []
    for mode in AUTO_ORDER:
        reason = probe(mode, config)
        if reason is None:
            return mode
        reasons.append(f"{mode}: {reason}")
    raise SandboxError(
        "no namespace sandbox works here (" + "; ".join(reasons) + "); auto does not fall back to the rlimit "
        "mode, which cannot keep code from reading the host's files",
        hint="install bubblewrap (apt-get install -y bubblewrap), or set sandbox.mode: rlimit to accept a "
        "weaker sandbox for code you would run unconfined",
    )
