"""Fixtures for the sandbox tests: a small-limits config, fresh sessions, and a bystander session.

The confinement mode under test is `auto` (what this machine offers) unless SCIRESEARCHER_SANDBOX_MODE
names one; the mode used is printed in the terminal summary so CI logs show what was exercised.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sciresearcher.sandbox import SandboxConfig, SandboxSession
from sciresearcher.sandbox.session import resolve_mode

MODE = os.environ.get("SCIRESEARCHER_SANDBOX_MODE", "auto")
_used: set[str] = set()


def small_config(**kw: object) -> SandboxConfig:
    base: dict[str, object] = {
        "mode": MODE,
        "timeout_s": 3.0,
        "grace_s": 1.0,
        "cpu_s": 10,
        "memory_mb": 1024,
        "max_procs": 32,
        "max_file_mb": 32,
        "max_output_bytes": 4096,
        "preload": [],
    }
    base.update(kw)
    return SandboxConfig(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def sandbox_mode() -> str:
    mode = resolve_mode(small_config())
    _used.add(mode)
    return mode


@pytest.fixture
def config(sandbox_mode: str) -> SandboxConfig:
    return small_config(mode=sandbox_mode)


@pytest.fixture
def session(config: SandboxConfig) -> Iterator[SandboxSession]:
    with SandboxSession(config) as sb:
        yield sb


@pytest.fixture(scope="module")
def bystander(sandbox_mode: str) -> Iterator[SandboxSession]:
    """Another live session: after each hostile call it must still answer with its state intact."""
    with SandboxSession(small_config(mode=sandbox_mode)) as sb:
        assert sb.run_sync("canary = 12345").ok
        yield sb


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _used:
        terminalreporter.write_line(f"sandbox confinement mode exercised: {', '.join(sorted(_used))}")
