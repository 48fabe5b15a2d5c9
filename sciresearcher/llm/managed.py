"""What every backend shares: bounded concurrency, retries with backoff, the response cache, accounting.

A backend implements one method, `_chat_once(messages, tools, sampling) -> ChatResult`, raising
`ProviderError` (with `retryable`, `status_code`, `retry_after`) for anything that crosses the provider
boundary. `ManagedClient.chat` wraps it: cache lookup, a semaphore of `max_concurrency` (per event
loop), then retries with exponential backoff and full jitter on retryable errors only (429, 5xx,
timeouts, connection errors, truncated bodies), sleeping at least the server's Retry-After;
non-retryable 4xx fail at once. Usage is priced and added to the client's `ledger`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import threading
import time
from typing import Any, Self

from sciresearcher.errors import ConfigError, ProviderError
from sciresearcher.llm.accounting import Ledger
from sciresearcher.llm.base import ChatResult
from sciresearcher.llm.cache import ResponseCache, request_key
from sciresearcher.llm.config import LLMConfig, Price
from sciresearcher.llm.prices import FREE, price_for, price_table, price_usage
from sciresearcher.llm.retry import backoff_delay
from sciresearcher.records import Message, Usage

log = logging.getLogger(__name__)


_LOCAL_HOSTS = ("://127.0.0.1", "://localhost", "://0.0.0.0", "://[::1]")


def api_key(config: LLMConfig, default_env: str) -> str:
    """The key from the environment variable the config names; local endpoints may go without one."""
    env = config.api_key_env or default_env
    key = os.environ.get(env)
    if key:
        return key
    if config.base_url and any(h in config.base_url for h in _LOCAL_HOSTS):
        return "EMPTY"  # local servers (vLLM, SGLang, Ollama, test servers) accept any key
    raise ConfigError(
        f"no API key for the {config.backend} backend: the environment variable {env} is not set",
        hint=f"export {env}=... (or set --llm.api-key-env to the variable that holds your key)",
    )


async def _close_quietly(client: Any) -> None:
    """Closes an SDK client whose event loop has finished: marked closed, so its finalizer stays quiet;
    its sockets belonged to the dead loop and go with the garbage collector."""
    try:
        await client.close()
    except (RuntimeError, OSError) as exc:  # the dead loop refuses the socket shutdown: nothing more to do
        log.debug("closing an SDK client of a finished event loop: %r", exc)
        # The failed close leaves the client marked open, and its finalizer would later schedule another
        # close on whatever loop is running, which fails the same way and logs "Task exception was never
        # retrieved". Keep it referenced instead: one small object per dead loop whose close failed.
        _UNCLOSABLE.append(client)


_UNCLOSABLE: list[Any] = []


async def _close_at_shutdown(state: dict[str, Any]) -> Any:
    """An async generator that waits at its `yield`; closed at loop shutdown (or by `aclose`), it closes the
    SDK client still in `state` (none when the client was already taken away and closed elsewhere)."""
    try:
        yield
    finally:
        client = state.pop("client", None)
        if client is not None:
            try:
                await client.close()
            except (RuntimeError, OSError) as exc:  # pragma: no cover - the loop is already tearing down
                log.debug("closing an SDK client at event-loop shutdown: %r", exc)


class ManagedClient:
    """Base class for backends; subclasses set `backend` and implement `_chat_once`."""

    backend = "base"

    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self.model: str = config.model or ""
        self.ledger = Ledger()
        self._loops: dict[asyncio.AbstractEventLoop, dict[str, Any]] = {}  # per event loop: semaphore, SDK client
        self._loops_lock = threading.Lock()
        self._closing: set[asyncio.Task[None]] = set()
        self._cache = ResponseCache(config.cache_dir) if config.cache_dir else None
        self._price = self._find_price()
        self._rng = random.Random()
        self._spare: Any = None  # see _prebuild_sdk_client

    def _find_price(self) -> Price | None:
        if self.backend == "local":
            return FREE  # a local model has no per-token bill
        price = price_for(self.model, price_table(self.config.prices))
        if price is None:
            log.warning("no price for model '%s': its cost is reported as unknown (add it to a price file and pass "
                        "--llm.prices FILE)", self.model)
        return price

    def price(self, usage: Usage, *, batched: bool = False) -> Usage:
        """`usage` of one call with its cost set from this client's price (cache TTL and batch discount)."""
        return price_usage(usage, self._price, batched=batched, ttl=self.config.prompt_cache_ttl)

    def _cache_context(self, salt: Any) -> dict[str, Any]:
        c = self.config
        return {"backend": self.backend, "enable_thinking": c.enable_thinking, "thinking_budget": c.thinking_budget,
                "extra_body": c.extra_body, "salt": salt}

    def _loop_state(self) -> dict[str, Any]:
        """State bound to the running event loop (asyncio semaphores and SDK connection pools are).

        Several loops may use one client at once (threads each running a loop); state of loops that
        have since closed is dropped, and their SDK clients are closed quietly on the current loop.
        """
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is not None:
            return state
        with self._loops_lock:
            for old in [lp for lp in self._loops if lp.is_closed()]:
                # A loop closed without `shutdown_asyncgens` (a hand-made loop): close its client from here,
                # then finish its shutdown guard here too, so the guard's finalizer never targets the dead loop.
                old_state = self._loops.pop(old)
                client = old_state.pop("client", None)
                guard = old_state.pop("shutdown_guard", None)
                for job in ([_close_quietly(client)] if client is not None else []) + (
                        [guard.aclose()] if guard is not None else []):
                    task = loop.create_task(job)
                    self._closing.add(task)
                    task.add_done_callback(self._closing.discard)
            return self._loops.setdefault(loop, {"semaphore": asyncio.Semaphore(self.config.max_concurrency)})

    def _new_sdk_client(self) -> Any:
        """A fresh SDK client (backends that talk HTTP through an SDK override this)."""
        raise NotImplementedError

    def _prebuild_sdk_client(self) -> None:
        """Builds the first event loop's SDK client now, outside any loop: building one imports the HTTP
        stack and loads the TLS trust store (~110 ms), which inside the loop would hold up every coroutine.
        SDK clients bind to no loop until their first request (httpx and aiohttp open pools lazily)."""
        self._spare = self._new_sdk_client()

    @property
    def _client(self) -> Any:
        return self._per_loop_client()

    def _per_loop_client(self) -> Any:
        """One SDK client per event loop: its connection pool is bound to the loop that created it.

        The client is closed on its own loop when that loop shuts down (`asyncio.run` and every runner call
        `loop.shutdown_asyncgens()`, which closes the open async generator `_close_at_shutdown` starts), so
        sync callers that run one loop per call leave no open sockets or sessions behind.
        """
        state = self._loop_state()
        client = state.get("client")
        if client is None:
            spare, self._spare = self._spare, None
            client = state["client"] = spare if spare is not None else self._new_sdk_client()
            guard = state["shutdown_guard"] = _close_at_shutdown(state)
            try:  # start it now, synchronously, up to its `yield` (this registers it with the running loop)
                guard.asend(None).send(None)
            except StopIteration:
                pass
        return client

    async def aclose(self) -> None:
        """Closes the SDK client of the running event loop (the next call opens a new one)."""
        state = self._loops.get(asyncio.get_running_loop())
        guard = state.pop("shutdown_guard", None) if state else None
        if guard is not None:
            await guard.aclose()  # its `finally` closes the client

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _sem(self) -> asyncio.Semaphore:
        """`max_concurrency` requests in flight per event loop (one loop in the usual case)."""
        return self._loop_state()["semaphore"]

    async def _chat_once(self, messages: list[Message], tools: list[dict[str, Any]] | None,
                         sampling: dict[str, Any]) -> ChatResult:
        raise NotImplementedError

    async def chat(self, messages: list[Message], tools: list[dict[str, Any]] | None = None,
                   **sampling: Any) -> ChatResult:
        merged = {**self.config.sampling, **sampling}
        salt = merged.pop("cache_salt", None)  # only distinguishes cache entries; never sent
        key = request_key(self.model, messages, tools, merged, self._cache_context(salt)) if self._cache else None
        if self._cache and key:
            hit = self._cache.get(key)
            if hit is not None:
                self.ledger.add(hit.usage, cached=True)
                return hit
        async with self._sem():
            result = await self._with_retries(messages, tools, merged)
        usage = self.price(result.usage)
        result = result.model_copy(update={"usage": usage})
        self.ledger.add(usage)
        if self._cache and key and result.finish_reason != "error":
            self._cache.put(key, result)
        return result

    async def _with_retries(self, messages: list[Message], tools: list[dict[str, Any]] | None,
                            sampling: dict[str, Any]) -> ChatResult:
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                result = await self._chat_once(messages, tools, sampling)
                return result.model_copy(update={"latency_s": time.perf_counter() - started})
            except ProviderError as exc:
                if not exc.retryable or attempt >= self.config.max_retries:
                    self.ledger.failures += 1
                    if exc.retryable:
                        raise ProviderError(
                            f"{self.backend} {self.model}: gave up after {attempt + 1} attempts: {exc}",
                            status_code=exc.status_code, retryable=False,
                        ) from exc
                    raise
                delay = backoff_delay(attempt, self.config.backoff_base_s, self.config.backoff_max_s,
                                      exc.retry_after, self._rng)
                self.ledger.retries += 1
                if exc.retry_after is not None and exc.retry_after > 60:
                    log.warning("%s %s: the provider asks to wait %.0fs before retrying", self.backend,
                                self.model, exc.retry_after)
                log.info("%s %s: %s; retry %d in %.2fs", self.backend, self.model, exc, attempt + 1, delay)
                await asyncio.sleep(delay)
                attempt += 1
