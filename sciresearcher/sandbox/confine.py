"""Confinement modes: the command line that starts a sandboxed worker, and the start-up probe.

`build_launch(mode, ...)` returns the argv, environment and user to start the worker with in one of the
three modes (bwrap, unshare, rlimit); `resolve_mode(config)` checks the configured mode with a real probe on
this machine (cached per process); `auto` picks bwrap or unshare and never the weak rlimit mode, which runs
only when named and then logs what it does not contain. What each mode covers is documented in
`sciresearcher.sandbox` and docs/sandbox.md; the file system the namespace modes see is `mounts.py`'s
allow-list. This module does not talk to the worker nor enforce per-call limits.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sciresearcher.errors import SandboxError
from sciresearcher.sandbox.config import SandboxConfig
from sciresearcher.sandbox.mounts import WORKER_DIR, bwrap_args, mount_plan

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
WORKER = HERE / "_worker.py"
UNSHARE_SETUP = HERE / "_unshare_setup.py"
ORDER = ("bwrap", "unshare", "rlimit")
AUTO_ORDER = ("bwrap", "unshare")  # auto never picks rlimit: it must be asked for by name
_warned: list[str] = []


@dataclass
class Launch:
    """How to start one worker: argv, environment, and the uid to Popen as (None: the host's)."""

    argv: list[str]
    env: dict[str, str]
    uid: int | None
    mode: str


def python_for(config: SandboxConfig) -> str:
    return config.python or sys.executable


@cache
def site_dirs(python: str) -> tuple[str, ...] | None:
    """The directories `site` adds to sys.path for `python` when it is this interpreter (`with_pth_paths` of its
    site-packages). The worker then starts with `-S` and appends them itself, which skips site's start-up (~11 ms
    of a ~36 ms session start in a venv, most of it an editable install's import hook) and every `import` line
    of a .pth file (editable-install finders, setuptools' distutils shim: nothing a cell needs). None for another
    interpreter: its worker runs site as usual."""
    if python != sys.executable:
        return None
    import site

    return with_pth_paths(site.getsitepackages())


def with_pth_paths(sitedirs: list[str]) -> tuple[str, ...]:
    """The existing `sitedirs`, each followed by the existing directories its .pth files list (in name order, as
    site reads them); comment lines and `import` lines (code site would run) are left out."""
    dirs: list[str] = []
    for sitedir in sitedirs:
        if not os.path.isdir(sitedir):
            continue
        dirs.append(sitedir)
        for pth in sorted(n for n in os.listdir(sitedir) if n.endswith(".pth") and not n.startswith(".")):
            try:
                lines = Path(sitedir, pth).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            for line in lines:
                line = line.rstrip()
                if not line or line.startswith(("#", "import ", "import\t")):
                    continue
                path = os.path.abspath(os.path.join(sitedir, line))
                if os.path.isdir(path) and path not in dirs:
                    dirs.append(path)
    return tuple(dirs)


def sandbox_env(session_dir: Path, config: SandboxConfig) -> dict[str, str]:
    """A fresh environment: nothing of the host's passes except what is listed here (no keys, no tokens)."""
    work, io = session_dir / "work", session_dir / "io"
    bindir = str(Path(python_for(config)).parent)
    threads = str(config.threads)
    return {
        "PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(work),
        "TMPDIR": str(io / "tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(io / "mpl"),
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "NUMEXPR_MAX_THREADS": threads,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "PIP_NO_INPUT": "1",
    }


def build_launch(
    mode: str, session_dir: Path, root_dir: Path, config: SandboxConfig, uid: int | None, nproc: int
) -> Launch:
    """The argv/env to start a worker for `session_dir` in `mode` (uid: the session's uid when root)."""
    python = python_for(config)
    work, io = session_dir / "work", session_dir / "io"
    writable = [str(session_dir)]
    spec = {
        "workdir": str(work),
        "iodir": str(io),
        "writable": writable,
        "memory_mb": config.memory_mb,
        "nproc": nproc,
        "max_file_mb": config.max_file_mb,
        "max_open_files": config.max_open_files,
        "session_cpu_s": config.session_cpu_s,
        "max_output_bytes": config.max_output_bytes,
        "max_value_chars": config.max_value_chars,
        "figures": config.figures,
        "preload": config.preload,
        "blocked_modules": config.blocked_modules,
        "guard": mode == "rlimit",
        "sessions_root": str(root_dir),
        "host_home": os.path.expanduser("~"),
    }
    paths = site_dirs(python)
    if paths is not None:
        spec["site_dirs"] = list(paths)
    worker = str(WORKER) if mode == "rlimit" else f"{WORKER_DIR}/{WORKER.name}"
    worker_argv = [python, "-I", *(["-S"] if paths is not None else []), "-B", worker, json.dumps(spec)]
    env = sandbox_env(session_dir, config)
    # As root, the namespace tools run as root (so they can read the interpreter under /root and mount),
    # and `setpriv` drops to the session's uid with no capabilities just before the worker starts.
    drop = (
        ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"] if uid is not None else ["setpriv"]
    )
    drop += ["--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    popen_uid: int | None = None
    plan = mount_plan(session_dir, python, config.inputs, config.tmpfs_mb) if mode != "rlimit" else []
    if mode == "bwrap":
        if uid is None:
            argv = ["bwrap", "--unshare-all", "--cap-drop", "ALL"]
            inner = worker_argv
        else:
            argv = [
                "bwrap",
                "--unshare-ipc",
                "--unshare-pid",
                "--unshare-net",
                "--unshare-uts",
                "--unshare-cgroup-try",
                "--cap-drop",
                "ALL",
                "--cap-add",
                "CAP_SETUID",
                "--cap-add",
                "CAP_SETGID",
                "--cap-add",
                "CAP_SETPCAP",
            ]
            inner = drop + worker_argv
        argv += ["--die-with-parent", "--new-session", "--hostname", "sandbox", *bwrap_args(plan)]
        argv += ["--", *inner]  # the worker changes into its dir itself, after setpriv
    elif mode == "unshare":
        setup = {
            "mounts": [m.as_dict() for m in plan],
            "workdir": str(work),
            "argv": drop + worker_argv,
        }
        user = ["--user", "--map-root-user"] if uid is None else []
        argv = [
            "unshare",
            *user,
            "--net",
            "--pid",
            "--kill-child",
            "--mount",
            "--mount-proc",
            "--ipc",
            "--uts",
            "--",
            python,
            "-I",
            "-S",
            str(UNSHARE_SETUP),
            json.dumps(setup),
        ]
    elif mode == "rlimit":
        argv = worker_argv
        if uid is not None and all(world_accessible(p) for p in (python, str(WORKER), sys.prefix)):
            popen_uid = uid
        elif uid is not None and python not in _warned:
            _warned.append(python)
            log.warning(
                "sandbox (rlimit mode): the interpreter %s is not readable by other users, so the code "
                "runs as root, guarded only by a Python audit hook",
                python,
            )
    else:
        raise SandboxError(f"unknown sandbox mode {mode!r}", hint="use auto, bwrap, unshare or rlimit")
    return Launch(argv=argv, env=env, uid=popen_uid, mode=mode)


def world_accessible(path: str) -> bool:
    """True when any user may reach (and read/execute) `path` and what it links to."""
    for p in {Path(path).absolute(), Path(path).resolve()}:
        for d in [*p.parents, p]:
            try:
                st = d.stat()
            except OSError:
                return False
            if (d != p and not st.st_mode & 0o001) or (d == p and not st.st_mode & 0o004):
                return False
    return True


PROBE_CODE = r"""
import os
problems = []
for path in ("/usr/.sandbox-probe", "/etc/.sandbox-probe"):
    try:
        open(path, "w").close(); os.remove(path); problems.append("system writable: " + path)
    except OSError:
        pass
ifaces = [line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:]]
if any(i != "lo" for i in ifaces):
    problems.append("network interfaces visible: " + ",".join(ifaces))
if os.path.exists(HOST_PACKAGE):
    problems.append("host files visible: " + HOST_PACKAGE)
open("probe.txt", "w").write("ok")
problems
"""


RLIMIT_WARNING = (
    "SANDBOX IS WEAK (rlimit mode, asked for by name): no namespaces. New processes and sockets are refused by "
    "a seccomp filter, but files are guarded only by a Python audit hook: C extensions and ctypes can read "
    "any file the worker's user can (the repository, data dirs with gold answers, /tmp) and, when it runs as "
    "root, write outside its dir; /tmp and /dev/shm are the host's and not size-bounded. Use bwrap or unshare "
    "for model-written code."
)


def missing_tool(mode: str) -> str | None:
    """What mode `mode` needs and this machine lacks (None when its tools are installed)."""
    tool = {"bwrap": "bwrap", "unshare": "unshare"}.get(mode)
    if tool and shutil.which(tool) is None:
        return f"{tool} is not installed"
    if mode in ("bwrap", "unshare") and shutil.which("setpriv") is None and (mode == "unshare" or os.geteuid() == 0):
        return "setpriv (util-linux) is not installed"
    return None


def default_root() -> Path:
    return Path(tempfile.gettempdir()) / f"sciresearcher-sandbox-{os.geteuid()}"


def count_user_processes(uid: int) -> int:
    n = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    n += 1
            except OSError:
                continue
    return n


def run_quiet(argv: list[str], **kwargs: object) -> None:
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, **kwargs)  # type: ignore[call-overload]
