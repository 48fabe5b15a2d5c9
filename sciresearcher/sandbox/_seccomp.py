"""A seccomp filter for the rlimit mode's worker (stdlib and ctypes only; runs inside the sandbox).

`deny_processes_and_sockets()` sets no_new_privs and installs, on every thread of the worker (TSYNC), a
kernel filter that refuses: new processes (fork, vfork, clone without CLONE_THREAD, execve, execveat;
clone3 answers ENOSYS so libc falls back to clone, where threads stay allowed), new sockets of any family
(socketpair stays allowed, for multiprocessing pipes), io_uring (which could open sockets behind the
filter's back) and ptrace. Unlike the audit hook, C extensions, ctypes and `_posixsubprocess` cannot get
around it. It knows x86_64 and aarch64; elsewhere it raises OSError and the worker reports it. It does not
restrict files: that is the audit hook's job (`_guard.py`), and the namespace modes' mounts.
"""

import ctypes
import errno
import os
import platform
import struct

PR_SET_NO_NEW_PRIVS = 38
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
CLONE_THREAD = 0x00010000
RET_ALLOW = 0x7FFF0000
RET_KILL_PROCESS = 0x80000000
X32_SYSCALL_BIT = 0x40000000
LD_W_ABS, JEQ_K, JSET_K, JGE_K, RET_K = 0x20, 0x15, 0x45, 0x35, 0x06

# machine -> (AUDIT_ARCH, seccomp syscall, {name: number})
ARCHES = {
    "x86_64": (0xC000003E, 317, {"socket": 41, "clone": 56, "fork": 57, "vfork": 58, "execve": 59, "ptrace": 101,
                                 "execveat": 322, "io_uring_setup": 425, "clone3": 435}),
    "aarch64": (0xC00000B7, 277, {"socket": 198, "clone": 220, "execve": 221, "ptrace": 117, "execveat": 281,
                                  "io_uring_setup": 425, "clone3": 435}),
}


def _ins(code, k, jt=0, jf=0):
    return struct.pack("HBBI", code, jt, jf, k)


def _errno(value):
    return 0x00050000 | value


def program(machine):
    """The BPF program for `machine` (bytes of struct sock_filter)."""
    arch, _, nr = ARCHES[machine]
    prog = [_ins(LD_W_ABS, 4), _ins(JEQ_K, arch, 1, 0), _ins(RET_K, RET_KILL_PROCESS), _ins(LD_W_ABS, 0)]
    if machine == "x86_64":  # x32 numbers alias the 64-bit ones: refuse them all
        prog += [_ins(JGE_K, X32_SYSCALL_BIT, 0, 1), _ins(RET_K, _errno(errno.EPERM))]
    for name in ("fork", "vfork", "execve", "execveat", "socket", "io_uring_setup", "ptrace"):
        if name in nr:
            prog += [_ins(JEQ_K, nr[name], 0, 1), _ins(RET_K, _errno(errno.EPERM))]
    prog += [_ins(JEQ_K, nr["clone3"], 0, 1), _ins(RET_K, _errno(errno.ENOSYS))]
    # clone: allowed only for threads (flags, the first argument, carry CLONE_THREAD)
    prog += [
        _ins(JEQ_K, nr["clone"], 0, 4),
        _ins(LD_W_ABS, 16),
        _ins(JSET_K, CLONE_THREAD, 1, 0),
        _ins(RET_K, _errno(errno.EPERM)),
        _ins(RET_K, RET_ALLOW),
        _ins(RET_K, RET_ALLOW),
    ]
    return b"".join(prog)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def deny_processes_and_sockets():
    """Install the filter on all threads of this process (irreversible; inherited by nothing, as nothing
    can be started)."""
    machine = platform.machine()
    if machine not in ARCHES:
        raise OSError(errno.ENOSYS, f"no seccomp filter for {machine}")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(NO_NEW_PRIVS): {os.strerror(err)}")
    code = program(machine)
    buf = ctypes.create_string_buffer(code, len(code))
    fprog = _SockFprog(len(code) // 8, ctypes.cast(buf, ctypes.c_void_p))
    ret = libc.syscall(ctypes.c_long(ARCHES[machine][1]), ctypes.c_long(SECCOMP_SET_MODE_FILTER),
                       ctypes.c_long(SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(fprog))
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp(SET_MODE_FILTER): {os.strerror(err)}")
