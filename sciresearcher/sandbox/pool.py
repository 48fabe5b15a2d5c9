"""`SandboxPool`: hands out fresh sandbox sessions, keeping a few started ahead of demand.

For rollouts (GRPO environments, batch evaluation) where every trajectory needs its own clean session and
start-up time (~0.3-0.5 s with numpy preloaded) should overlap with other work. Sessions are never reused
across trajectories: a released session is closed. The pool resolves the confinement mode once. Synthesis
verification takes one per candidate (a reference solution never shares a session with another). It does
not limit how many sessions are live at once beyond what callers take.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Self

from sciresearcher.errors import SandboxError
from sciresearcher.sandbox.config import SandboxConfig
from sciresearcher.sandbox.process import thread_pool
from sciresearcher.sandbox.session import SandboxSession, resolve_mode

log = logging.getLogger(__name__)


class SandboxPool:
    """Fresh, already-started sessions on demand (`take`/`atake`, or `async with pool.session()`)."""

    def __init__(self, config: SandboxConfig | None = None, *, warm: int = 2) -> None:
        self.config = config or SandboxConfig()
        self.mode = resolve_mode(self.config)
        self.warm = warm
        self._ready: list[SandboxSession] = []
        self._lock = threading.Lock()
        self._starting = 0
        self._closed = False
        self._refill()

    def _start_one(self) -> None:
        try:
            session = SandboxSession(self.config, mode=self.mode)
            session.start()
        except SandboxError as exc:
            if not self._closed:  # a start cut short by close() is no news
                log.warning("sandbox pool could not pre-start a session: %s", exc)
            with self._lock:
                self._starting -= 1
            return
        with self._lock:
            self._starting -= 1
            if self._closed:
                session.close()
            else:
                self._ready.append(session)

    def _refill(self) -> None:
        with self._lock:
            missing = self.warm - len(self._ready) - self._starting
            if self._closed or missing <= 0:
                return
            self._starting += missing
        for _ in range(missing):
            thread_pool().submit(self._start_one)

    def take(self) -> SandboxSession:
        """A fresh session, owned by the caller (close it when done)."""
        if self._closed:
            raise SandboxError("the sandbox pool is closed")
        with self._lock:
            session = self._ready.pop() if self._ready else None
        self._refill()
        return session or SandboxSession(self.config, mode=self.mode)

    async def atake(self) -> SandboxSession:
        return await asyncio.get_running_loop().run_in_executor(thread_pool(), self.take)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[SandboxSession]:
        """`async with pool.session() as sb:` a fresh session, closed on exit."""
        sb = await self.atake()
        try:
            yield sb
        finally:
            await sb.aclose()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            ready, self._ready = self._ready, []
        for session in ready:
            session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.get_running_loop().run_in_executor(thread_pool(), self.close)
