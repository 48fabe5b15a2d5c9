"""The allow-list of host paths a sandboxed worker sees in the namespace modes (bwrap, unshare).

`mount_plan(...)` lists, in mount order, everything the sandbox's file system is made of: the system
library dirs (/usr and the /bin, /lib* links or dirs), a few files of /etc the dynamic loader and libc read,
the interpreter (a venv's own bin/, lib/, share/ and pyvenv.cfg, and its base installation's bin/ and lib/,
never the dir that holds the venv), the worker scripts (bound one by one at `WORKER_DIR`, never the
package or the repository), bounded scratch tmpfs (/tmp, /var/tmp, /dev/shm), the session dir (the only
writable host path) and the files a task hands in (`SandboxConfig.inputs`, read-only). The root itself is
an empty tmpfs made read-only, so nothing else of the host exists inside: no data dirs, repository, run
directories, home dirs, /run or host sockets. `bwrap_args` turns the plan into bubblewrap arguments;
`_unshare_setup.py` builds the same tree for the unshare mode. This module builds no mounts itself and does
not cover the rlimit mode (which has none).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from sciresearcher.errors import SandboxError

HERE = Path(__file__).resolve().parent
WORKER_DIR = "/.sandbox-worker"  # where the worker scripts appear inside the namespace modes
WORKER_FILES = ("_worker.py", "_guard.py", "_seccomp.py")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "nsswitch.conf", "passwd",
    "group", "hosts", "fonts", "mime.types",
)
SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")
_PREFIX_PARTS = ("bin", "lib", "lib64", "share", "pyvenv.cfg")

_PREFIXES_CODE = (
    "import sys, json; print(json.dumps([sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]))"
)


@dataclass(frozen=True)
class Mount:
    """One entry of the plan: `ro`/`rw` bind of `src` at `dest`, a `symlink` to `src`, or a `tmpfs`."""

    kind: str
    dest: str
    src: str = ""
    size_mb: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _under(path: str, roots: tuple[str, ...] | list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


@functools.lru_cache(maxsize=8)
def interpreter_prefixes(python: str) -> tuple[str, ...]:
    """sys.prefix, exec_prefix, base_prefix and base_exec_prefix of `python` (asked once per interpreter)."""
    if python == sys.executable:
        found = [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]
    else:
        try:
            out = subprocess.run([python, "-I", "-S", "-c", _PREFIXES_CODE], capture_output=True, text=True,
                                 timeout=60, check=True).stdout
            found = json.loads(out)
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            raise SandboxError(f"cannot ask the sandbox interpreter {python} where it lives: {exc}",
                               hint="set sandbox.python to a working Python 3 interpreter") from exc
    return tuple(dict.fromkeys(os.path.abspath(p) for p in found))


def _entry(path: str, dest: str | None = None) -> Mount | None:
    """A read-only bind of `path` (or the same link, when it is a symlink), None when it does not exist."""
    dest = dest or path
    if os.path.islink(path):
        return Mount("symlink", dest, os.readlink(path))
    if os.path.exists(path):
        return Mount("ro", dest, path)
    return None


def interpreter_mounts(python: str) -> list[Mount]:
    """The interpreter's own files: for each prefix outside the system dirs, its bin/, lib/, lib64, share/ and
    pyvenv.cfg (a venv's prefix is a dir of the repository in development: its parent is never bound)."""
    out: list[Mount] = []
    seen: set[str] = set()
    roots = [p for p in interpreter_prefixes(python) if not _under(p, SYSTEM_DIRS)]
    for prefix in roots:
        for part in _PREFIX_PARTS:
            path = os.path.join(prefix, part)
            if path not in seen and (m := _entry(path)) is not None:
                seen.add(path)
                out.append(m)
    # the executable and what its links point to, when they live elsewhere (e.g. a venv's python -> pyenv)
    chain, path = [os.path.abspath(python)], os.path.abspath(python)
    while os.path.islink(path) and len(chain) < 16:
        path = os.path.join(os.path.dirname(path), os.readlink(path))
        chain.append(os.path.normpath(path))
    for p in chain:
        covered = _under(p, SYSTEM_DIRS) or any(_under(p, [m.dest]) for m in out if m.kind != "symlink")
        if not covered and p not in seen and (m := _entry(p)) is not None:
            seen.add(p)
            out.append(m)
    return out


def mount_plan(session_dir: Path, python: str, inputs: list[Path], tmpfs_mb: int) -> list[Mount]:
    """Everything the sandbox's file system holds, in mount order (see the module docstring)."""
    plan: list[Mount] = []
    for d in SYSTEM_DIRS:
        if (m := _entry(d)) is not None:
            plan.append(m)
    for name in ETC_FILES:
        if (m := _entry(f"/etc/{name}")) is not None:
            plan.append(m)
    plan += interpreter_mounts(python)
    plan += [Mount("ro", f"{WORKER_DIR}/{f}", str(HERE / f)) for f in WORKER_FILES]
    plan += [Mount("tmpfs", d, size_mb=tmpfs_mb) for d in SCRATCH]
    plan.append(Mount("rw", str(session_dir), str(session_dir)))
    for item in inputs:
        path = os.path.abspath(item)
        if not os.path.exists(path):
            raise SandboxError(f"sandbox input {path} does not exist", hint="sandbox.inputs lists existing paths")
        plan.append(Mount("ro", path, path))
    return plan


def bwrap_args(plan: list[Mount]) -> list[str]:
    """bubblewrap arguments that build `plan` on bwrap's empty root, then make the root read-only."""
    args = ["--dev", "/dev", "--proc", "/proc"]
    made: set[str] = {"/", "/dev", "/proc"}
    for m in plan:
        for parent in reversed(Path(m.dest).parents):  # bwrap would copy the host's modes (/root is 0700)
            p = str(parent)
            inside_bind = any(o.kind != "tmpfs" and _under(p, [o.dest]) for o in plan[: plan.index(m)])
            if p not in made and not inside_bind:
                made.add(p)
                args += ["--perms", "0755", "--dir", p]
        if m.kind == "ro":
            args += ["--ro-bind", m.src, m.dest]
        elif m.kind == "rw":
            args += ["--bind", m.src, m.dest]
        elif m.kind == "symlink":
            args += ["--symlink", m.src, m.dest]
        elif m.kind == "tmpfs":
            args += ["--perms", "1777", "--size", str(m.size_mb << 20), "--tmpfs", m.dest]
        else:  # pragma: no cover - the plan only holds the kinds above
            raise SandboxError(f"unknown mount kind {m.kind!r}")
    return [*args, "--remount-ro", "/"]
