"""The sandbox worker: a persistent Python process that runs code cells sent by the host.

Runs INSIDE the sandbox, as a script (`python -I -S -B _worker.py SPEC_JSON`: the host passes the site
directories, see confine.site_dirs), with the standard library only
so that it starts fast and imports nothing of SciResearcher. It talks to the host over its original
stdin/stdout (length-prefixed JSON), which it moves to private descriptors at start; the code's fd 1 and
2 then point at per-call capture files, so output of subprocesses and C extensions is captured too.

It covers: the session's own rlimits (set before any user code runs; hard limits can only go down), the
per-call wall-time alarm and CPU soft limit (both raise inside the cell, so state survives), the final
expression's repr, trimmed tracebacks, matplotlib figures saved as PNGs, and, in `rlimit` mode only, the
Python audit hook of `_guard.py`. It does not
cover anything the host must enforce from outside (hard kills, restarts, namespaces): see `session.py`.
The `unshare` mode's mounts are built before it starts, by `_unshare_setup.py`.
"""

import ast
import builtins
import io
import json
import linecache
import os
import resource
import signal
import struct
import sys
import threading
import traceback


class SandboxTimeout(BaseException):
    """Raised in the cell when its wall-time limit passes (a BaseException: `except Exception` misses it)."""


class SandboxCPULimit(BaseException):
    """Raised in the cell when its CPU-time limit passes."""


MAX_ERROR_CHARS = 4000  # of an exception's message; the host's frame cap counts on these two
MAX_FIGURES = 20  # figures saved per call (the rest are closed unsaved)
_IN_CALL = False
_LIMITS = {"timeout_s": 0.0, "cpu_s": 0}


def _on_alarm(signum, frame):
    if _IN_CALL:
        raise SandboxTimeout(
            f"the call ran past its wall-time limit of {_LIMITS['timeout_s']:g} s and was interrupted; "
            "variables defined so far are kept"
        )


def _on_xcpu(signum, frame):
    if _IN_CALL:
        raise SandboxCPULimit(
            f"the call used more than its CPU-time limit of {_LIMITS['cpu_s']} s and was interrupted; "
            "variables defined so far are kept"
        )


class _CappedWriter(io.TextIOBase):
    """sys.stdout / sys.stderr: writes straight to fd 1 / 2 until the per-call cap, then only counts."""

    def __init__(self, fd, cap):
        self.fd, self.cap, self.written, self.total = fd, cap, 0, 0

    def writable(self):
        return True

    def write(self, s):
        data = str(s).encode("utf-8", "backslashreplace")
        self.total += len(data)
        room = self.cap - self.written
        if room > 0:
            chunk = data[:room]
            os.write(self.fd, chunk)
            self.written += len(chunk)
        return len(s)

    def fileno(self):
        return self.fd

    def isatty(self):
        return False

    @property
    def encoding(self):
        return "utf-8"


def _send(fd, obj):
    data = json.dumps(obj, default=str).encode("utf-8", "backslashreplace")
    os.write(fd, struct.pack(">I", len(data)))
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _recv(fd):
    head = _read_exact(fd, 4)
    if head is None:
        return None
    body = _read_exact(fd, struct.unpack(">I", head)[0])
    return None if body is None else json.loads(body)


def _read_exact(fd, n):
    buf = bytearray()
    while len(buf) < n:
        try:
            chunk = os.read(fd, n - len(buf))
        except InterruptedError:
            continue
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _set_limits(spec):
    limits = {
        resource.RLIMIT_AS: spec["memory_mb"] * 1024 * 1024,
        resource.RLIMIT_NPROC: spec["nproc"],
        resource.RLIMIT_FSIZE: spec["max_file_mb"] * 1024 * 1024,
        resource.RLIMIT_NOFILE: spec["max_open_files"],
        resource.RLIMIT_CORE: 0,
    }
    for which, value in limits.items():
        _soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    cpu_hard = spec["session_cpu_s"] if hard == resource.RLIM_INFINITY else min(hard, spec["session_cpu_s"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_hard, cpu_hard))


def _format_one(exc):
    tb = exc.__traceback__
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith("<cell-"):
        if tb.tb_next is None:  # raised outside the cells only (e.g. inside a library): keep it all
            tb = exc.__traceback__
            break
        tb = tb.tb_next
    frames = traceback.extract_tb(tb)
    while frames and frames[-1].filename == __file__:  # the limit handlers of this file
        frames.pop()
    head = "Traceback (most recent call last):\n" if frames else ""
    return (
        head
        + "".join(traceback.format_list(frames))
        + "".join(traceback.format_exception_only(type(exc), exc))
    )


def _trim_traceback(exc, depth=0):
    """The traceback from the first user-cell frame on, with chained causes (3 deep), at most ~6 kB."""
    prefix = ""
    if depth < 3 and exc.__cause__ is not None:
        prefix = _trim_traceback(exc.__cause__, depth + 1) + (
            "\nThe above exception was the direct cause of the following exception:\n\n"
        )
    elif depth < 3 and exc.__context__ is not None and not exc.__suppress_context__:
        prefix = _trim_traceback(exc.__context__, depth + 1) + (
            "\nDuring handling of the above exception, another exception occurred:\n\n"
        )
    text = prefix + _format_one(exc)
    if len(text) > 6000:
        text = text[:2000] + "\n[... traceback trimmed ...]\n" + text[-3500:]
    return text


def _save_figures(workdir, call):
    mod = sys.modules.get("matplotlib.pyplot")
    if mod is None:
        return []
    paths = []
    for i, num in enumerate(mod.get_fignums()[:MAX_FIGURES]):
        path = os.path.join(workdir, f"figure_{call:03d}_{i + 1}.png")
        mod.figure(num).savefig(path, dpi=100)
        paths.append(path)
    mod.close("all")
    return paths


def _run_cell(code, ns, call):
    """Execute one cell; returns (value_repr, error_dict_or_None)."""
    name = f"<cell-{call}>"
    linecache.cache[name] = (len(code), None, code.splitlines(True), name)
    try:
        tree = ast.parse(code, filename=name, mode="exec")
    except SyntaxError as exc:
        return None, {
            "type": "SyntaxError",
            "message": str(exc)[:MAX_ERROR_CHARS],
            "kind": "exception",
            "traceback": "".join(traceback.format_exception_only(type(exc), exc))[:MAX_ERROR_CHARS],
        }
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    try:
        exec(compile(tree, name, "exec"), ns)  # noqa: S102 - running the cell is the point
        if last is not None:
            value = eval(compile(last, name, "eval"), ns)
            if value is not None:
                ns["_"] = value
                return repr(value), None
        return None, None
    except BaseException as exc:  # noqa: BLE001 - everything the cell raises is reported, never fatal
        kind = {
            SandboxTimeout: "timeout",
            SandboxCPULimit: "cpu",
            MemoryError: "memory",
            SystemExit: "exit",
            KeyboardInterrupt: "timeout",
        }.get(type(exc), "exception")
        message = str(exc)
        if len(message) > MAX_ERROR_CHARS:
            message = message[:MAX_ERROR_CHARS] + f"... [message truncated, {len(message)} chars in all]"
        if isinstance(exc, SystemExit):
            message = f"sys.exit({exc.code!r}) was called; the session goes on"
        elif isinstance(exc, OSError) and exc.errno == 27:
            kind = "file_size"
        return None, {
            "type": type(exc).__name__[:200],
            "message": message,
            "kind": kind,
            "traceback": _trim_traceback(exc),
        }


def _read_capture(fd, cap):
    size = os.fstat(fd).st_size
    data = os.pread(fd, cap, 0)
    os.ftruncate(fd, 0)
    return data.decode("utf-8", "replace"), size


class _BlockedImports:
    """A meta-path finder that refuses the spec's blocked modules (a task-design guard, not a security boundary)."""

    def __init__(self, names):
        self.names = tuple(names)

    def find_spec(self, fullname, path=None, target=None):
        if any(fullname == n or fullname.startswith(n + ".") for n in self.names):
            raise ModuleNotFoundError(f"No module named {fullname!r} (not available in this sandbox)", name=fullname)


def _block_imports(names):
    if not names:
        return
    for mod in list(sys.modules):
        if any(mod == n or mod.startswith(n + ".") for n in names):
            del sys.modules[mod]
    sys.meta_path.insert(0, _BlockedImports(names))


def _add_site(dirs):
    """What `site` would have done for a worker started with -S: the host's site directories on sys.path, and the
    builtins site adds (exit, quit, help, copyright, credits, license), which model-written cells do call."""
    import site

    sys.path.extend(d for d in dirs if d not in sys.path)
    site.setquit()
    site.setcopyright()
    site.sethelper()


def main():
    global _IN_CALL
    spec = json.loads(sys.argv[1])
    if spec.get("site_dirs") is not None:
        _add_site(spec["site_dirs"])
    os.chdir(spec["workdir"])
    proto_in, proto_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    cap_fds = []
    for fd, name in ((1, "stdout"), (2, "stderr")):
        f = os.open(
            os.path.join(spec["iodir"], name), os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600
        )
        os.dup2(f, fd)
        os.close(f)
        cap_fds.append(fd)
    cap = spec["max_output_bytes"]
    out, err = _CappedWriter(1, cap), _CappedWriter(2, cap)
    sys.stdout, sys.stderr, sys.stdin = out, err, io.StringIO("")
    sys.__stdout__, sys.__stderr__ = out, err
    _set_limits(spec)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGXCPU, _on_xcpu)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.path.insert(0, spec["workdir"])
    preload_errors = {}
    for mod in spec.get("preload", []):
        try:
            __import__(mod)
        except Exception as exc:  # noqa: BLE001 - reported to the host, not fatal
            preload_errors[mod] = f"{type(exc).__name__}: {exc}"[:500]
    if spec.get("guard"):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from _guard import install_guard  # sibling scripts, only needed in rlimit mode
        from _seccomp import deny_processes_and_sockets

        del sys.path[0]
        sys.modules.pop("_guard", None)
        sys.modules.pop("_seccomp", None)
        install_guard(spec)
        deny_processes_and_sockets()  # raises (the worker does not start) when the kernel refuses it
    _block_imports(spec.get("blocked_modules") or [])
    for fd in cap_fds:
        os.ftruncate(fd, 0)
    baseline_threads = threading.active_count()
    ns = {"__name__": "__main__", "__builtins__": builtins}
    main_pid = os.getpid()

    def _in_child():  # a forked child must never answer the host: drop the protocol pipes
        for fd in (proto_in, proto_out):
            try:
                os.close(fd)
            except OSError:
                pass

    os.register_at_fork(after_in_child=_in_child)
    _send(
        proto_out,
        {
            "ready": True,
            "pid": os.getpid(),
            "python": sys.version.split()[0],
            "preload_errors": preload_errors,
        },
    )
    while True:
        req = _recv(proto_in)
        if req is None:
            os._exit(0)
        call = req["call"]
        out.written = out.total = err.written = err.total = 0
        used = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        _, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (min(cpu_hard, int(used) + 1 + req["cpu_s"]), cpu_hard))
        except (ValueError, OSError):
            pass
        _LIMITS.update(timeout_s=req["timeout_s"], cpu_s=req["cpu_s"])
        _IN_CALL = True
        signal.setitimer(
            signal.ITIMER_REAL, req["timeout_s"], 0.25
        )  # repeats: swallowing it once is not enough
        try:
            value, error = _run_cell(req["code"], ns, call)
        except (SandboxTimeout, SandboxCPULimit) as exc:  # a repeated alarm while the cell's error was reported
            kind = "timeout" if isinstance(exc, SandboxTimeout) else "cpu"
            value, error = None, {"type": type(exc).__name__, "message": str(exc), "kind": kind, "traceback": None}
        finally:
            if os.getpid() != main_pid:  # a child forked by the cell fell through to here
                os._exit(0)
            _IN_CALL = False  # first: from here on the alarm handlers raise nothing
            signal.setitimer(signal.ITIMER_REAL, 0)
        figures = []
        if spec.get("figures"):
            try:
                figures = _save_figures(spec["workdir"], call)
            except Exception as exc:  # noqa: BLE001
                err.write(f"\n[sandbox: saving figures failed: {type(exc).__name__}: {exc}]\n")
        if value is not None and len(value) > spec["max_value_chars"]:
            value = value[: spec["max_value_chars"]] + f"... [repr truncated, {len(value)} chars in all]"
        streams = {}
        for fd, name, writer in ((1, "stdout", out), (2, "stderr", err)):
            text, size = _read_capture(fd, cap)
            streams[name] = text
            streams[name + "_dropped"] = max(0, writer.total - writer.written) + max(0, size - cap)
        stray = threading.active_count() - baseline_threads
        _send(
            proto_out,
            {
                "call": call,
                "value": value,
                "error": error,
                "figures": figures,
                "stray_threads": stray,
                **streams,
            },
        )


if __name__ == "__main__":
    main()
