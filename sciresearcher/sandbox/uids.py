"""Per-session uids when the host runs as root: claimed machine-wide, never shared, never borrowed.

`claim_uid(base)` returns a uid in `base .. base + 65535` and an fd holding its lock, for the session's
lifetime. The locks live in one fixed, root-owned system dir (/run, else /var/lock), not under TMPDIR, so
two sessions started with different temp dirs still see each other's claims. A uid is taken only when,
besides its lock being free, it belongs to no account in the password database and no process runs with
it: so the session may later kill every process of its uid (`kill -9 -1` as that uid) knowing they are all
its own. Leftovers of a host that died without closing its sessions keep their uid busy and are left
alone (they exit when their pipes close or their CPU limit hits). This module does not start workers.
"""

from __future__ import annotations

import fcntl
import logging
import os
import pwd
import stat
import tempfile
from pathlib import Path

from sciresearcher.errors import SandboxError

log = logging.getLogger(__name__)

LOCK_DIRS = (Path("/run/sciresearcher-sandbox-uids"), Path("/var/lock/sciresearcher-sandbox-uids"))
SPAN = 65536
# uids this process already reported as running processes no live session owns: a leftover stays busy for every
# later claim, and a closing session's uid can look the same for a moment (its lock is free while the kernel still
# tears its processes down), so each is said once, not once per claim (a synthesis claims ~1,000 sessions)
_reported: set[int] = set()


def _lock_dir() -> Path:
    """The first usable lock dir: created 0700, and a real dir owned by root (not a planted link)."""
    problems = []
    for d in LOCK_DIRS:
        try:
            d.mkdir(mode=0o700, exist_ok=True)
            st = os.lstat(d)
        except OSError as exc:
            problems.append(f"{d}: {exc.strerror}")
            continue
        if stat.S_ISDIR(st.st_mode) and st.st_uid == 0 and not st.st_mode & 0o022:
            return d
        problems.append(f"{d}: not a root-owned dir")
    raise SandboxError("no place for sandbox uid locks (" + "; ".join(problems) + ")",
                       hint="/run or /var/lock must be writable by root")


def uids_in_use() -> set[int]:
    """The uids of every process running now."""
    used: set[int] = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                used.add(entry.stat().st_uid)
            except OSError:
                continue
    return used


def _has_account(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def _lock(path: Path, create: bool) -> int | None:
    """An fd holding an exclusive lock on `path`, or None when another process holds it (or, with
    create=False, when it does not exist)."""
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_CREAT if create else 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileNotFoundError:
        return None if create else -1
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _held_by_live_session(path: Path) -> bool:
    """Whether a live session holds the lock at `path` (a busy uid without one runs leftovers)."""
    fd = _lock(path, create=False)
    if fd is None:
        return True
    if fd >= 0:
        os.close(fd)
    return False


def claim_uid(base: int) -> tuple[int, list[int]]:
    """A uid no other session on this machine holds and no process uses; and the fds that hold its locks.

    Besides its own lock, a claim also takes the lock an older SciResearcher (which kept its uid locks
    under TMPDIR and killed every process of a uid it claimed) would look for, so the two never meet."""
    locks = _lock_dir()
    legacy = Path(tempfile.gettempdir()) / "sciresearcher-sandbox-uids"
    busy = uids_in_use()
    orphaned: list[int] = []
    for uid in range(base, base + SPAN):
        if uid in busy or _has_account(uid):
            if uid in busy and not _held_by_live_session(locks / str(uid)):
                orphaned.append(uid)
            continue
        fd = _lock(locks / str(uid), create=True)
        if fd is None:
            continue
        old = _lock(legacy / str(uid), create=legacy.is_dir())
        held = [f for f in (fd, old) if f is not None and f >= 0]
        if old is None or uid in uids_in_use():  # an old-style session has it, or a process appeared
            for f in held:
                os.close(f)
            continue
        news = [u for u in orphaned if u not in _reported]
        if news:  # the uids of live sessions are busy as a matter of course: only leftovers are news
            _reported.update(news)
            log.info("sandbox: skipped %d uid(s) from %d that have processes no live session owns", len(news), base)
        return uid, held
    raise SandboxError("no free sandbox uid", hint="too many live sessions; close some")
