"""`ExecResult`: what one sandbox call returns, and its rendering as text for the agent.

Covers the record and `to_text()` (the report the `python` tool shows the model). It does not run anything,
and it does not cut long text: the agent's one truncation policy (`agent.tools.truncate`) does.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

ErrorKind = Literal["exception", "timeout", "cpu", "memory", "file_size", "exit", "crash", "start", "protocol"]


class ExecResult(BaseModel):
    """The outcome of one call: output, final value, error, figures, and how it was confined."""

    model_config = ConfigDict(extra="forbid")

    ok: bool
    stdout: str = ""
    stderr: str = ""
    stdout_dropped: int = 0
    stderr_dropped: int = 0
    value: str | None = None
    error: str | None = None
    error_kind: ErrorKind | None = None
    traceback: str | None = None
    figures: list[str] = []
    mode: str
    elapsed_s: float
    call: int
    restarted: bool = False
    state_lost: bool = False
    notice: str | None = None

    def to_text(self) -> str:
        """A readable report for the model: notices, output, value, error (with its traceback), uncut."""
        parts: list[str] = []
        if self.notice:
            parts.append(f"[sandbox: {self.notice}]")
        if self.stdout:
            parts.append(self.stdout.rstrip("\n"))
        if self.stdout_dropped:
            parts.append(f"[... {self.stdout_dropped} more bytes of stdout dropped]")
        if self.stderr:
            parts.append("[stderr]\n" + self.stderr.rstrip("\n"))
        if self.stderr_dropped:
            parts.append(f"[... {self.stderr_dropped} more bytes of stderr dropped]")
        if self.value is not None:
            parts.append(self.value)
        for fig in self.figures:
            parts.append(f"[figure saved: {fig.rsplit('/', 1)[-1]}]")
        if self.error:
            parts.append((self.traceback or "").rstrip("\n") or f"Error: {self.error}")
            if self.traceback and self.error.split(":")[0] not in self.traceback:
                parts.append(f"Error: {self.error}")
        return "\n".join(parts) if parts else "[no output]"


def lost_result(error: str, kind: ErrorKind, base: dict[str, Any], elapsed: float) -> ExecResult:
    """The result of a call whose worker is gone (crashed, killed, or broke the protocol): its state is lost."""
    return ExecResult(ok=False, error=f"{error}; its state is lost and the next call starts a fresh one",
                      error_kind=kind, elapsed_s=elapsed, **{**base, "state_lost": True})
