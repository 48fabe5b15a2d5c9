"""The host's side of the worker protocol: framed JSON on pipes, every reply frame treated as untrusted.

Cell code runs in the worker's own process, so it can find the reply pipe and write frames of its own.
The host therefore checks every frame before using it: the 4-byte length against a cap computed from the
session's limits (with slack), valid JSON, exactly the fields a worker sends with the right types and
bounds, the call number it is waiting for, figure paths that are PNGs the worker saved in its own working
dir, and no second frame for one call. Any violation raises `ProtocolError`; the session then kills the
worker (see session.py). Reading is linear in the bytes received (a bytearray consumed in place). What a
valid frame says (stdout, value, error) is as trustworthy as the code's own print(): it is never acted
upon beyond being returned. This module does not start, kill or time workers.
"""

from __future__ import annotations

import json
import os
import re
import select
import struct
import time
from pathlib import Path
from typing import Any

from sciresearcher.sandbox.config import SandboxConfig

MAX_ERROR_CHARS = 4000  # the worker's cap on an exception message (_worker.MAX_ERROR_CHARS)
MAX_FIGURES = 20  # the worker's cap on figures per call (_worker.MAX_FIGURES)
TRACEBACK_CHARS = 6100  # _worker._trim_traceback keeps ~6 kB
ERROR_KINDS = frozenset({"exception", "timeout", "cpu", "memory", "file_size", "exit", "crash"})
_FIGURE = re.compile(r"figure_\d{3,}_\d+\.png")
_REPLY_KEYS = frozenset(
    {"call", "value", "error", "figures", "stray_threads", "stdout", "stderr", "stdout_dropped", "stderr_dropped"}
)


class ProtocolError(Exception):
    """A frame from the worker broke the protocol (forged, oversized, malformed or out of order)."""


def max_frame_bytes(config: SandboxConfig) -> int:
    """The largest frame a genuine worker can send under `config`, doubled for slack (JSON escapes a
    character as up to 12 bytes, a replaced byte of output as 6)."""
    chars = config.max_value_chars + 200 + MAX_ERROR_CHARS + TRACEBACK_CHARS + MAX_FIGURES * 512
    return 2 * (6 * 2 * config.max_output_bytes + 12 * chars + 4096) + (1 << 16)


class FrameReader:
    """Length-prefixed JSON frames from one fd, with a size cap."""

    def __init__(self, fd: int, max_bytes: int) -> None:
        self.fd = fd
        self.max_bytes = max_bytes
        self._buf = bytearray()
        self._eof = False

    def pending(self) -> bool:
        """Bytes are waiting (already read, or readable now): the worker sent something nobody asked for.
        The end of the stream is not pending data."""
        if self._buf:
            return True
        if self._eof or not select.select([self.fd], [], [], 0)[0]:
            return False
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            self._eof = True
            return False
        self._buf += chunk
        return True

    def read(self, deadline: float) -> Any:
        """The next frame's JSON value, or "timeout" / "eof". Raises ProtocolError for a bad frame."""
        need = 4
        while True:
            if len(self._buf) >= 4:
                n = struct.unpack(">I", self._buf[:4])[0]
                if n > self.max_bytes:
                    raise ProtocolError(f"a frame of {n} bytes (the cap is {self.max_bytes})")
                if len(self._buf) >= 4 + n:
                    body = bytes(self._buf[4 : 4 + n])
                    del self._buf[: 4 + n]
                    try:
                        return json.loads(body)
                    except (ValueError, RecursionError) as exc:
                        raise ProtocolError(f"a frame that is not JSON ({type(exc).__name__})") from None
                need = 4 + n
            if self._eof:
                return "eof"
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                chunk = os.read(self.fd, max(1 << 16, min(1 << 20, need - len(self._buf))))
                if not chunk:
                    self._eof = True
                    return "eof"
                self._buf += chunk


def _is(value: Any, kind: type | tuple[type, ...]) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


def check_hello(msg: Any) -> dict[str, Any]:
    """The worker's first frame: {"ready": true, "pid", "python", "preload_errors"}."""
    if not isinstance(msg, dict) or msg.get("ready") is not True:
        raise ProtocolError("the first frame is not the worker's ready message")
    errors = msg.get("preload_errors", {})
    if not isinstance(errors, dict) or len(errors) > 100 or not all(
        isinstance(k, str) and isinstance(v, str) and len(k) < 300 and len(v) <= 600 for k, v in errors.items()
    ):
        raise ProtocolError("the ready message has malformed preload_errors")
    return msg


def check_reply(msg: Any, call: int, workdir: Path, config: SandboxConfig) -> dict[str, Any]:
    """`msg` when it is a genuine-looking reply to `call`; else ProtocolError saying what is wrong."""
    if not isinstance(msg, dict) or set(msg) != _REPLY_KEYS:
        got = sorted(msg)[:12] if isinstance(msg, dict) else type(msg).__name__
        raise ProtocolError(f"a reply with the wrong fields ({got})")
    if msg["call"] != call or not _is(msg["call"], int):
        raise ProtocolError(f"a reply for call {str(msg['call'])[:20]} while call {call} was running")
    cap = config.max_output_bytes
    for name in ("stdout", "stderr"):
        if not isinstance(msg[name], str) or len(msg[name]) > cap:
            raise ProtocolError(f"a reply whose {name} is not text of at most {cap} characters")
        if not _is(msg[name + "_dropped"], int) or msg[name + "_dropped"] < 0:
            raise ProtocolError(f"a reply whose {name}_dropped is not a count")
    if not _is(msg["stray_threads"], int):
        raise ProtocolError("a reply whose stray_threads is not a count")
    value = msg["value"]
    if value is not None and (not isinstance(value, str) or len(value) > config.max_value_chars + 200):
        raise ProtocolError("a reply whose value is not a repr string within max_value_chars")
    _check_error(msg["error"])
    figures = msg["figures"]
    if not isinstance(figures, list) or len(figures) > MAX_FIGURES:
        raise ProtocolError("a reply whose figures are not a short list")
    for fig in figures:
        if not isinstance(fig, str) or os.path.dirname(fig) != str(workdir) or not _FIGURE.fullmatch(
            os.path.basename(fig)
        ):
            raise ProtocolError(f"a figure path outside the working dir ({str(fig)[:200]!r})")
    return msg


def _check_error(error: Any) -> None:
    if error is None:
        return
    if not isinstance(error, dict) or set(error) != {"type", "message", "kind", "traceback"}:
        raise ProtocolError("a reply with a malformed error")
    if error["kind"] not in ERROR_KINDS:
        raise ProtocolError(f"a reply with an unknown error kind ({str(error['kind'])[:40]!r})")
    limits = {"type": 200, "message": MAX_ERROR_CHARS + 100, "traceback": TRACEBACK_CHARS}
    for key, limit in limits.items():
        text = error[key]
        if not (isinstance(text, str) or (key == "traceback" and text is None)) or len(text or "") > limit:
            raise ProtocolError(f"a reply whose error {key} is not text of at most {limit} characters")
