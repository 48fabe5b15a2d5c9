"""The rlimit mode's Python audit hook, installed by the worker before any user code runs (stdlib only).

It refuses, at the Python level: sockets other than AF_UNIX and name lookups; starting processes
(fork, exec, spawn, system, subprocess); signalling processes outside the sandbox's process group;
opening for writing, or creating, removing, renaming, chmod-ing paths outside the session dir; reading
the host's secrets (~/.ssh, ~/.aws, ~/.config..., /etc/shadow, other processes' /proc entries); opening
a directory outside the session dir (its fd would let `dir_fd=` paths escape the checks, which see only
the path) and relative paths with '..'. Audit hooks cannot be removed from Python, but C extensions and
ctypes can act without raising audit events: this is a guard rail for the weakest mode, not a security
boundary. Processes and sockets are also refused by the kernel there (`_seccomp.py`); files are not.
"""

import os
import re
import sys


def install_guard(spec):
    """rlimit mode only: refuse network, new processes and writes outside the allowed dirs (Python level)."""
    allowed = tuple(os.path.realpath(p) + os.sep for p in spec["writable"])
    home = spec.get("host_home") or ""
    secret_dirs = (
        tuple(
            os.path.join(home, d)
            for d in (".ssh", ".aws", ".config", ".gnupg", ".netrc", ".docker", ".kube", ".cache/huggingface")
        )
        if home
        else ()
    )
    secret_dirs += (
        "/etc/shadow",
        "/etc/gshadow",
        "/etc/sudoers",
        "/etc/ssh/",
        "/root/.ssh",
        "/var/run/secrets",
        "/run/secrets",
    )
    pgid = os.getpgid(0)

    def own(pid):
        try:
            return pid == 0 or os.getpgid(pid) == pgid
        except OSError:
            return False

    spawn = {
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "subprocess.Popen",
        "pty.spawn",
        "os.startfile",
    }
    mutate = {
        "os.remove",
        "os.rmdir",
        "os.rename",
        "os.mkdir",
        "os.chmod",
        "os.chown",
        "os.link",
        "os.symlink",
        "os.truncate",
        "os.utime",
        "shutil.rmtree",
        "shutil.move",
    }

    def inside(path):
        try:
            real = os.path.realpath(os.fsdecode(path)) + os.sep
        except (TypeError, ValueError):
            return True  # a file descriptor: already open
        return real.startswith(allowed)

    def climbs(text):
        """A relative path going up: with dir_fd=, it would be resolved from a dir the hook cannot see."""
        return not os.path.isabs(text) and ".." in text.replace("\\", "/").split("/")

    def hook(event, args):
        if event in ("os.kill", "os.killpg") and not own(args[0]):
            raise PermissionError(
                "sandbox (rlimit mode): signalling processes outside the sandbox is not allowed"
            )
        if event in spawn:
            raise PermissionError(f"sandbox (rlimit mode): starting processes is not allowed ({event})")
        if event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"):
            sock = args[0]
            if getattr(sock, "family", None) != getattr(__import__("socket"), "AF_UNIX", 1):
                raise PermissionError("sandbox (rlimit mode): network access is not allowed")
        elif event == "socket.getaddrinfo":
            raise PermissionError("sandbox (rlimit mode): network access is not allowed")
        elif event == "open":
            path, mode, flags = args
            if isinstance(path, int):
                return
            text = os.fsdecode(path)
            if climbs(text):
                raise PermissionError(f"sandbox (rlimit mode): relative paths with '..' are not allowed ({text})")
            real = os.path.realpath(text)
            if os.path.isdir(real) and not inside(path):  # a dir fd outside would make dir_fd= paths escape
                raise PermissionError(f"sandbox (rlimit mode): opening directories outside the working dir ({text})")
            proc = re.match(r"/proc/(\d+)(/|$)", real)
            others = spec.get("sessions_root")
            if (
                real.startswith(secret_dirs)
                or (proc and not own(int(proc.group(1))))
                or (others and real.startswith(others + os.sep) and not inside(path))
            ):
                raise PermissionError(f"sandbox (rlimit mode): reading {text} is not allowed")
            writing = (mode and any(c in str(mode) for c in "wax+")) or (
                flags is not None and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC)
            )
            if writing and not inside(path):
                raise PermissionError(f"sandbox (rlimit mode): writing outside the working dir ({text})")
        elif event in mutate:
            for p in args[:2]:
                if isinstance(p, (str, bytes, os.PathLike)) and (climbs(os.fsdecode(p)) or not inside(p)):
                    raise PermissionError(f"sandbox (rlimit mode): changing {os.fsdecode(p)} is not allowed")

    sys.addaudithook(hook)
