"""Mount setup of the `unshare` mode, run as root of a fresh user+mount namespace (stdlib and ctypes only).

Started by `unshare --user --map-root-user --net --pid --mount --mount-proc ...` as
`python -I -S _unshare_setup.py SPEC_JSON`. It builds the same file system as bwrap from the allow-list
`mounts.py` computed on the host: it makes the mount tree private, keeps detached copies (open_tree) of
every path to bind, of this pid namespace's /proc and of the basic device nodes, mounts an empty tmpfs as
the new root and puts the copies, links and bounded scratch tmpfs in it, switches to it (pivot_root) and
drops the old root entirely, makes every bind except the session dir read-only (keeping the flags the
kernel locked) and the root itself read-only, and finally executes the worker through the `setpriv` command
line it was given (empty capability bounding set, no_new_privs, the session uid). It does not set rlimits
(the worker does) and does nothing about the network (the empty network namespace does).
"""

import ctypes
import json
import os
import platform
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME = 1024, 2048, 1 << 21, 1 << 24
OPEN_TREE_CLONE, AT_RECURSIVE, AT_FDCWD, MOVE_MOUNT_F_EMPTY_PATH = 1, 0x8000, -100, 0x4
MNT_DETACH = 2
SYS_OPEN_TREE, SYS_MOVE_MOUNT = 428, 429  # x86_64 and aarch64 share these numbers
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
DEV_NODES = ("null", "zero", "full", "random", "urandom", "tty")
NEW_ROOT = "/tmp"  # the host's /tmp is only covered in this mount namespace, after every source is kept
_FLAGS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
}

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def _check(ret, what):
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"sandbox setup: {what}: {os.strerror(err)}")
    return ret


def mount(src, target, fstype, flags, data=None):
    enc = lambda s: None if s is None else s.encode()
    _check(
        libc.mount(enc(src), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}"
    )


def clone_tree(path, recursive=True):
    flags = OPEN_TREE_CLONE | (AT_RECURSIVE if recursive else 0)
    return _check(libc.syscall(SYS_OPEN_TREE, AT_FDCWD, path.encode(), flags), f"open_tree {path}")


def attach(fd, target, is_dir):
    """Put the detached tree `fd` at `target`, creating the mount point (a dir, or an empty file)."""
    if is_dir:
        _makedirs(target)
    else:
        _makedirs(os.path.dirname(target))
        if not os.path.lexists(target):
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))
    _check(
        libc.syscall(SYS_MOVE_MOUNT, fd, b"", AT_FDCWD, target.encode(), MOVE_MOUNT_F_EMPTY_PATH),
        f"move_mount {target}",
    )
    os.close(fd)


def _makedirs(path):
    missing = []
    while path and not os.path.lexists(path):
        missing.append(path)
        path = os.path.dirname(path)
    for p in reversed(missing):
        os.mkdir(p)
        os.chmod(p, 0o755)  # not the umask's or the host's mode: the session uid must traverse it


def _mounts():
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            target = parts[4].encode().decode("unicode_escape")
            out.append((target, parts[5].split(",")))
    return out


def _under(path, roots):
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def build(spec):
    """The new root under NEW_ROOT, from the plan; returns the dests that stay writable."""
    plan = spec["mounts"]
    kept = [clone_tree(m["src"]) if m["kind"] in ("ro", "rw") else None for m in plan]
    is_dir = [m["kind"] in ("ro", "rw") and os.path.isdir(m["src"]) for m in plan]
    devs = [(d, clone_tree(f"/dev/{d}", False)) for d in DEV_NODES if os.path.exists(f"/dev/{d}")]
    proc = clone_tree("/proc")
    mount("tmpfs", NEW_ROOT, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    new = lambda dest: NEW_ROOT + dest
    mount("tmpfs", _mkdir_ret(new("/dev")), "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=755")
    for name, fd in devs:
        attach(fd, new(f"/dev/{name}"), False)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        os.symlink(target, new(f"/dev/{name}"))
    attach(proc, new("/proc"), True)
    for m, fd, a_dir in zip(plan, kept, is_dir):
        target = new(m["dest"])
        if m["kind"] == "symlink":
            _makedirs(os.path.dirname(target))
            os.symlink(m["src"], target)
        elif m["kind"] == "tmpfs":
            mount("tmpfs", _mkdir_ret(target), "tmpfs", MS_NOSUID | MS_NODEV, f"size={m['size_mb']}m,mode=1777")
        else:
            attach(fd, target, a_dir)
    return [m["dest"] for m in plan if m["kind"] in ("rw", "tmpfs")] + ["/dev", "/proc"]


def _mkdir_ret(path):
    _makedirs(path)
    return path


def pivot():
    os.chdir(NEW_ROOT)
    _check(libc.syscall(SYS_PIVOT_ROOT[platform.machine()], b".", b"."), "pivot_root")
    _check(libc.umount2(b".", MNT_DETACH), "umount the old root")
    os.chdir("/")


def make_read_only(writable):
    """Every mount outside `writable` read-only (keeping locked flags); the root tmpfs last."""
    for target, opts in reversed(_mounts()):
        if target == "/" or _under(target, writable) or "ro" in opts:
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for opt in opts:
            flags |= _FLAGS.get(opt, 0)
        mount(None, target, None, flags)
    mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def main():
    spec = json.loads(sys.argv[1])
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    writable = build(spec)
    pivot()
    make_read_only(writable)
    os.chdir("/")  # the worker changes into its dir itself, after setpriv
    argv = spec["argv"]  # starts with setpriv: the session uid (as root), no capabilities, no_new_privs
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()
