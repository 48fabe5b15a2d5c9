"""The Python sandbox: persistent, confined workers that run model-written code.

Use::

    from sciresearcher.sandbox import SandboxConfig, SandboxSession

    async with SandboxSession(SandboxConfig(timeout_s=10)) as sb:
        r = await sb.run("import numpy as np\\nx = np.arange(5)\\nx.sum()")
        r.ok, r.value, r.stdout, r.error, r.figures, r.mode   # True, '10', '', None, [], 'bwrap'

One session = one worker process (started on the first call, or with `start()`), so variables and imports
persist between calls; each call returns stdout, stderr, the repr of a final expression, the exception
with a traceback trimmed to the user's code, and matplotlib figures saved as PNGs in the working dir. A
crashed, exited or killed worker is restarted on the next call and that result says the state was lost.
`SandboxPool` keeps sessions started ahead of demand for rollouts (GRPO environments, many trajectories).

Confinement is chosen once per process by a start-up probe (`mode: auto` picks bwrap or unshare and never
falls back to rlimit; the mode is recorded on every result). What each mode contains is in docs/sandbox.md:

- **bwrap** (bubblewrap, `apt-get install -y bubblewrap`): new pid, net, ipc, uts (and user, when not
  root) namespaces; the file system is an allow-list on an empty read-only root (`mounts.py`): /usr and
  the /lib links, a few /etc files, the interpreter's own dirs (never a venv's parent: the repository), the
  worker scripts one by one, 64 MB scratch tmpfs, the session dir (the only writable host path) and what a
  task hands in (`SandboxConfig.inputs`, read-only). No data dir, repository, run dir, home, /run or host
  socket is there. A fresh /proc and /dev; no capabilities; no_new_privs; dies with the host process.
- **unshare** (util-linux `unshare` + `setpriv`): the same namespaces and file system, built by
  `_unshare_setup.py` (open_tree/move_mount, pivot_root; Linux >= 5.2), then all capabilities dropped.
- **rlimit** (only when named): no namespaces, so every file the worker's user can read is readable.
  Resource limits, a private session uid when the host runs as root (and the interpreter is readable by
  other users), a seccomp filter that refuses new processes and sockets in the kernel (`_seccomp.py`), and
  a Python audit hook that refuses writes outside the session dir, reads of the host's secrets and
  directory fds outside the session dir. A loud warning says what it does not contain.

In every mode: the environment is rebuilt from scratch (no API keys, tokens or proxies reach the code);
limits on wall time per call (the worker interrupts the cell, keeping state; after `grace_s` more the
whole sandbox is killed), CPU seconds per call and per worker, address space (memory), processes and
threads, open files, size of any file written, and bytes of stdout/stderr kept per call. Every reply frame
is checked by the host (`protocol.py`: size, JSON, fields, call number, figure paths) and a bad one kills
the worker. When the host runs as root each live session gets its own uid (`uids.py`: locked in /run,
never one a process runs with), so process limits are per session, sessions cannot signal each other,
and every leftover process of a session is killed with it.

Not covered: total disk usage of the working dir (only the size of each file is capped); CPU share
between sessions (no cgroups: a session may use a whole core until its CPU limit); kernel exploits (the
namespaces and no_new_privs shrink the surface; the namespace modes have no seccomp filter); GPU access;
a worker busy in C code for longer than timeout_s + grace_s is killed, losing the session's variables
(files remain); in rlimit mode, reading the host's files.
"""

from sciresearcher.sandbox.config import SandboxConfig
from sciresearcher.sandbox.pool import SandboxPool
from sciresearcher.sandbox.result import ExecResult
from sciresearcher.sandbox.session import SandboxSession

__all__ = ["ExecResult", "SandboxConfig", "SandboxPool", "SandboxSession"]
