"""`BatchClient`: the `LLMClient` protocol over a provider's batch API (50% off, replies in minutes to hours).

`make_client(LLMConfig(batch=True, batch_dir=...))` wraps the anthropic or openai backend in one. Callers do
not change: each `chat` call builds the same request body the online backend would send, is queued, and
awaits its reply. A queue is submitted as one provider batch when `batch_size` calls are waiting or
`batch_window_s` after the first one arrived; each batch is then polled with a growing interval
(`batch_poll_s` x 1.5 per poll, up to `batch_poll_max_s`) until it ends or `batch_max_wait_s` passes, and
its results resolve the waiting calls: a reply as the same `ChatResult` the online path returns (usage
priced with the batch discount, `batched_calls=1`, added to the same ledger), an errored item as a
ProviderError for that call only (items that expired, were canceled or hit a server error go into the next
batch, up to `max_retries` times). SDK calls (submit, poll, download) are retried like online calls.

Resume: each request's `custom_id` is a hash of its body, its sampling (seed, `cache_salt`) and how many
identical requests this client made before it, and batch ids are recorded in `batch_dir` as soon as the
provider accepts a batch (`batch_store.py`). A killed run that makes the same calls again finds them: a
reply already collected is returned without any request, a submitted batch is polled again; nothing is
paid twice. (A kill between the provider accepting a batch and the id being written, a few milliseconds,
would resubmit it.) Use it for calls that need no interaction: writers, solver votes and no-tool checks,
the HLE judge; agent rollouts work too, one batch round trip per turn.

Not here: provider formats (`batch_providers.py`), persistence (`batch_store.py`), pricing (`prices.py`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

from sciresearcher.errors import ConfigError, ProviderError
from sciresearcher.llm.base import ChatResult
from sciresearcher.llm.batch_providers import AnthropicBatches, BatchAPI, OpenAIBatches
from sciresearcher.llm.batch_store import BatchStore
from sciresearcher.llm.cache import request_key
from sciresearcher.llm.managed import ManagedClient
from sciresearcher.llm.retry import backoff_delay
from sciresearcher.records import Message

log = logging.getLogger(__name__)
T = TypeVar("T")


def request_id(body: dict[str, Any], sampling: dict[str, Any], salt: Any, occurrence: int) -> str:
    """64 hex characters (Anthropic allows at most 64 of [A-Za-z0-9_-]) naming one request of this client."""
    blob = json.dumps({"body": body, "sampling": sampling, "salt": salt, "n": occurrence}, sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class _LoopState:
    """Queue, timers and pollers of one event loop (futures and tasks belong to the loop that made them)."""

    queue: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    waiting: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    pollers: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    timer: asyncio.Task[None] | None = None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)


class BatchClient:
    """An LLMClient that sends each call through the provider's batch API; see the module docstring."""

    def __init__(self, inner: ManagedClient, api: BatchAPI | None = None) -> None:
        config = inner.config
        if not config.batch_dir:
            raise ConfigError("llm.batch needs a directory for batch ids and results (llm.batch_dir)",
                              hint="commands set it inside their run directory; in your own code pass "
                              "LLMConfig(batch=True, batch_dir='runs/x/batches')")
        self.inner = inner
        self.config = config
        self.model = inner.model
        self.ledger = inner.ledger
        self.backend = f"{inner.backend}-batch"
        self.api = api or (AnthropicBatches() if inner.backend == "anthropic" else OpenAIBatches())
        self.store = BatchStore(config.batch_dir)
        self._seen: Counter[str] = Counter()
        self._loops: dict[asyncio.AbstractEventLoop, _LoopState] = {}

    @classmethod
    def wrap(cls, inner: ManagedClient) -> BatchClient:
        if inner.backend not in ("anthropic", "openai"):
            raise ConfigError(f"llm.batch works with the anthropic and openai backends, not '{inner.backend}'",
                              hint="drop --llm.batch, or use --llm.backend anthropic / openai")
        return cls(inner)

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        for old in [lp for lp in self._loops if lp.is_closed()]:
            del self._loops[old]
        return self._loops.setdefault(loop, _LoopState())

    def _spawn(self, state: _LoopState, job: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(job)
        state.tasks.add(task)
        task.add_done_callback(state.tasks.discard)
        return task

    # ------------------------------------------------------------------ the LLMClient protocol
    async def chat(self, messages: list[Message], tools: list[dict[str, Any]] | None = None,
                   **sampling: Any) -> ChatResult:
        started = time.perf_counter()
        merged = {**self.config.sampling, **sampling}
        salt = merged.pop("cache_salt", None)
        cache = self.inner._cache
        key = request_key(self.model, messages, tools, merged, self.inner._cache_context(salt)) if cache else None
        if cache is not None and key is not None and (hit := cache.get(key)) is not None:
            self.ledger.add(hit.usage, cached=True)
            return hit
        body = self.api.body(self.inner, messages, tools, dict(merged))
        base = request_id(body, merged, salt, 0)
        custom_id = request_id(body, merged, salt, self._seen[base])
        self._seen[base] += 1
        for attempt in range(self.config.max_retries + 1):
            outcome = self.store.outcome(custom_id) or await self._await_outcome(custom_id, body)
            if outcome.get("ok") or not outcome.get("retryable") or attempt == self.config.max_retries:
                break
            self.ledger.retries += 1  # expired, canceled or a server error in the batch: into the next batch
            log.info("%s %s: %s; resubmitting", self.backend, self.model, outcome.get("error"))
        if not outcome.get("ok"):
            self.ledger.failures += 1
            raise ProviderError(f"{self.backend} {self.model}: {outcome.get('error')}", retryable=False)
        result = self.api.to_result(outcome["body"])
        usage = self.inner.price(result.usage, batched=True)
        result = result.model_copy(update={"usage": usage, "latency_s": time.perf_counter() - started})
        self.ledger.add(usage)
        if cache is not None and key is not None:
            cache.put(key, result)
        return result

    async def _await_outcome(self, custom_id: str, body: dict[str, Any]) -> dict[str, Any]:
        state = self._state()
        future = state.waiting.get(custom_id)
        if future is None or future.done():
            future = state.waiting[custom_id] = asyncio.get_running_loop().create_future()
            pending = self.store.pending_batch(custom_id)
            if pending is not None:  # submitted by an earlier run (or loop): resume polling, never resubmit
                log.info("%s: resuming batch %s for a request it already holds", self.backend, pending)
                self._ensure_poller(state, pending)
            else:
                state.queue.append((custom_id, body))
                if len(state.queue) >= self.config.batch_size:
                    self._spawn(state, self._flush(state))
                elif state.timer is None or state.timer.done():
                    state.timer = self._spawn(state, self._flush_later(state))
        return await asyncio.shield(future)

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ submit, poll, collect
    async def _sdk_call(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """One SDK call with the client's retry policy; a final failure is a ProviderError naming `what`."""
        attempt = 0
        while True:
            try:
                try:
                    return await call()
                except ProviderError:
                    raise
                except Exception as exc:
                    raise self.api.map_error(exc, self.model, self.config.base_url) from exc
            except ProviderError as exc:
                if not exc.retryable or attempt >= self.config.max_retries:
                    raise ProviderError(f"{self.backend} {self.model}: {what}: {exc}", status_code=exc.status_code,
                                        retryable=False, hint=exc.hint) from exc
                self.ledger.retries += 1
                await asyncio.sleep(backoff_delay(attempt, self.config.backoff_base_s, self.config.backoff_max_s,
                                                  exc.retry_after, self.inner._rng))
                attempt += 1

    async def _flush_later(self, state: _LoopState) -> None:
        await asyncio.sleep(self.config.batch_window_s)
        await self._flush(state)

    async def _flush(self, state: _LoopState) -> None:
        sdk = self.inner._client
        while state.queue:
            items, state.queue = state.queue[:self.config.batch_size], state.queue[self.config.batch_size:]
            try:
                batch_id, extra = await self._sdk_call(
                    f"submitting a batch of {len(items)}", lambda items=items: self.api.submit(sdk, items))
            except ProviderError as exc:
                self._fail(state, [c for c, _ in items], exc)
                continue
            self.store.submitted(batch_id, self.api.provider, self.model, [c for c, _ in items], extra)
            log.info("%s %s: submitted batch %s (%d requests)", self.backend, self.model, batch_id, len(items))
            self._ensure_poller(state, batch_id)

    def _ensure_poller(self, state: _LoopState, batch_id: str) -> None:
        poller = state.pollers.get(batch_id)
        if poller is None or poller.done():
            state.pollers[batch_id] = self._spawn(state, self._poll(state, batch_id))

    async def _poll(self, state: _LoopState, batch_id: str) -> None:
        sdk = self.inner._client
        delay, started = self.config.batch_poll_s, time.monotonic()
        try:
            while True:
                ended, status = await self._sdk_call(f"polling batch {batch_id}",
                                                     lambda: self.api.status(sdk, batch_id))
                if ended:
                    break
                if time.monotonic() - started > self.config.batch_max_wait_s:
                    raise ProviderError(
                        f"batch {batch_id} is still {status} after {self.config.batch_max_wait_s:.0f}s "
                        f"(llm.batch_max_wait_s); it stays recorded in {self.store.root}: run again to resume "
                        "polling it without resubmitting", retryable=False)
                await asyncio.sleep(delay)
                delay = min(delay * 1.5, self.config.batch_poll_max_s)
            outcomes = await self._sdk_call(f"downloading the results of batch {batch_id}",
                                            lambda: self.api.results(sdk, batch_id))
        except ProviderError as exc:
            self._fail(state, self.store.custom_ids(batch_id), exc)
            return
        expected = self.store.custom_ids(batch_id)
        seen = {o["custom_id"] for o in outcomes}
        outcomes += [{"custom_id": c, "ok": False, "retryable": True, "error": f"batch {batch_id} ({status}) "
                      "returned no result for this request"} for c in expected if c not in seen]
        self.store.collected(batch_id, outcomes, status)
        n_ok = sum(1 for o in outcomes if o.get("ok"))
        log.info("%s %s: batch %s %s: %d succeeded, %d failed", self.backend, self.model, batch_id, status, n_ok,
                 len(outcomes) - n_ok)
        for outcome in outcomes:
            future = state.waiting.pop(outcome["custom_id"], None)
            if future is not None and not future.done():
                future.set_result(outcome)

    def _fail(self, state: _LoopState, custom_ids: list[str], exc: ProviderError) -> None:
        for custom_id in custom_ids:
            future = state.waiting.pop(custom_id, None)
            if future is not None and not future.done():
                future.set_exception(exc)
                future.add_done_callback(lambda f: f.exception())  # a caller that gave up leaves no warning
