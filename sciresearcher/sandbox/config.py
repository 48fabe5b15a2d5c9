"""`SandboxConfig`: the confinement mode and the limits of one sandbox session.

Every limit is per session (one worker process tree) unless its name says per call. `mode: auto` picks
bwrap or unshare and never the weaker rlimit mode, which must be asked for by name. The values are
read by `sciresearcher.sandbox.session` and enforced as described in `sciresearcher.sandbox`'s module
docstring (and docs/sandbox.md). This module only declares and validates them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Mode = Literal["auto", "bwrap", "unshare", "rlimit"]


class SandboxConfig(BaseModel):
    """Confinement mode and resource limits of a sandbox session."""

    model_config = ConfigDict(extra="forbid")

    mode: Mode = Field(
        "auto",
        description="auto picks bwrap or unshare (whichever passes a start-up probe first); rlimit (no namespaces, "
        "a Python-level file guard) is used only when named",
    )
    timeout_s: float = Field(30.0, gt=0, description="wall-clock limit per call")
    grace_s: float = Field(
        2.0,
        ge=0,
        description="after timeout_s: time the worker gets to interrupt itself "
        "(state kept) before the whole sandbox is killed (state lost)",
    )
    cpu_s: int = Field(60, gt=0, description="CPU seconds per call (all threads of the worker)")
    session_cpu_s: int = Field(3600, gt=0, description="CPU seconds per worker process over its lifetime")
    memory_mb: int = Field(
        4096, gt=0, description="address-space limit of each sandboxed process (RLIMIT_AS)"
    )
    max_procs: int = Field(64, gt=0, description="processes and threads of the session (RLIMIT_NPROC)")
    max_output_bytes: int = Field(
        65536, gt=0, description="stdout / stderr kept per call, each; the rest is dropped with a marker"
    )
    max_value_chars: int = Field(8192, gt=0, description="repr of the final expression kept per call")
    max_file_mb: int = Field(512, gt=0, description="largest file the code may write (RLIMIT_FSIZE)")
    max_open_files: int = Field(256, gt=0, description="open file descriptors (RLIMIT_NOFILE)")
    threads: int = Field(1, gt=0, description="OMP/OpenBLAS/MKL threads inside the sandbox")
    preload: list[str] = Field(
        default_factory=lambda: ["numpy"],
        description="modules imported when the worker starts (hides their import time)",
    )
    blocked_modules: list[str] = Field(
        default_factory=list, description="modules the code may not import (with their submodules), e.g. the "
        "libraries synthesized facts come from, so tasks need their documents; a task-design guard, not confinement")
    figures: bool = Field(True, description="save open matplotlib figures as PNGs after each call")
    python: str | None = Field(None, description="interpreter for the worker (default: the running one)")
    root_dir: Path | None = Field(
        None, description="where session working dirs are created (default: system temp)"
    )
    uid_base: int = Field(
        200000,
        ge=1000,
        description="when the host runs as root: sessions run as uid uid_base + n (one uid per live session)",
    )
    keep_workdir: bool = Field(False, description="keep the session's working dir after close()")
    inputs: list[Path] = Field(
        default_factory=list,
        description="host files or dirs a task hands in: visible read-only at the same path (bwrap, unshare); "
        "nothing else of the host's files is, beyond the interpreter and the system libraries",
    )
    tmpfs_mb: int = Field(
        64, gt=0, description="size of each scratch tmpfs (/tmp, /var/tmp, /dev/shm) in bwrap and unshare modes"
    )
