"""Shared HTTP for sources: per-host rate limits, retries honouring Retry-After (the one policy of llm/retry.py, Retry-After capped at backoff_max_s), disk cache, blocklist.

`SourceHttp.get/post` return an `httpx.Response`-like `CachedResponse` (status, headers, content, text,
json()). 429, 5xx and connection errors are retried up to `max_retries` times with exponential backoff,
waiting what the server's Retry-After says when it says it; then a `SourceError` reports the final status.
Errors that cannot succeed are raised at once: other 4xx, a refused address or scheme, a body over the
size cap, and a request that ran past `timeout_s` in total (connect, redirects and the whole body: a server
dripping its answer is cut there). Every URL, and every redirect hop (followed here, not by httpx), passes
the blocklist and the SSRF guard of `knowledge/netguard.py` (internal addresses refused after DNS
resolution and again at connect time, unless `fetch_allow` lists them).
Successful GET responses (and POSTs to search APIs) are cached on disk keyed by a hash of the request
(secret headers and key parameters never reach the cache files). Queries and URLs matching the blocklist
are refused with `SourceError` before any request. Tests pass an `httpx.MockTransport`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from sciresearcher.errors import SourceError
from sciresearcher.knowledge.config import KnowledgeConfig
from sciresearcher.knowledge.netguard import NetGuard, Refused, guarded_transport
from sciresearcher.llm.retry import backoff_delay, parse_retry_after

log = logging.getLogger(__name__)

USER_AGENT = "sciresearcher/0.1 (+https://github.com/sciresearcher; research agent)"
MAX_REDIRECTS = 10
_REDIRECTS = {301, 302, 303, 307, 308}
_SECRET_PARAMS = {"api_key", "apikey", "key", "token", "access_token"}


@dataclass
class CachedResponse:
    status_code: int
    headers: dict[str, str]
    content: bytes
    url: str
    from_cache: bool = False

    @property
    def text(self) -> str:
        return self.content.decode(_charset(self.headers), errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


def _charset(headers: dict[str, str]) -> str:
    m = re.search(r"charset=([\w-]+)", headers.get("content-type", ""))
    return m.group(1) if m else "utf-8"


def scrub_url(url: str) -> str:
    """The URL without secret query parameters (what may be logged or cached)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in _SECRET_PARAMS]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (it may be a number of seconds or an HTTP date)."""
    return parse_retry_after({"retry-after": value}) if value else None


@dataclass
class Blocklist:
    patterns: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._compiled = [re.compile(p, re.IGNORECASE) for p in self.patterns]

    def match(self, text: str) -> str | None:
        return next((p.pattern for p in self._compiled if p.search(text or "")), None)


class SourceHttp:
    """One shared async HTTP client for all sources of a session."""

    def __init__(self, config: KnowledgeConfig | None = None, *, transport: httpx.AsyncBaseTransport | None = None,
                 sleep=asyncio.sleep) -> None:
        self.config = config or KnowledgeConfig()
        self.blocklist = Blocklist(self.config.blocklist)
        allow = list(self.config.fetch_allow)
        if self.config.searxng_url:
            allow.append(urlsplit(self.config.searxng_url).hostname or "")
        # an injected transport (tests) never reaches the network: check literal addresses, resolve nothing
        self.guard = NetGuard(allow, resolve=transport is None)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._next_ok: dict[str, float] = {}
        self._sleep = sleep
        cache = self.config.cache_dir or (Path.home() / ".cache" / "sciresearcher" / "http")
        self.cache_dir = Path(cache) if self.config.use_cache else None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            transport = self._transport
            if transport is None and not httpx._utils.get_environment_proxies():  # a proxy connects for us
                transport = guarded_transport(self.guard)
            self._client = httpx.AsyncClient(transport=transport, timeout=self.config.timeout_s,
                                             follow_redirects=False, headers={"User-Agent": USER_AGENT})
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def check_url(self, url: str) -> None:
        hit = self.blocklist.match(url)
        if hit:
            raise Refused(f"blocked by the configured blocklist ({hit!r}): {url}")

    def check_query(self, query: str) -> None:
        hit = self.blocklist.match(query)
        if hit:
            raise SourceError(f"query blocked by the configured blocklist ({hit!r})")

    async def _throttle(self, host: str) -> None:
        rate = self.config.rate_limits.get(host, self.config.default_rate_limit)
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:
            wait = self._next_ok.get(host, 0.0) - time.monotonic()
            if wait > 0:
                await self._sleep(wait)
            self._next_ok[host] = time.monotonic() + 1.0 / rate

    def _cache_path(self, method: str, url: str, params: dict | None, body: Any) -> Path | None:
        if self.cache_dir is None:
            return None
        safe = {k: v for k, v in (params or {}).items() if k.lower() not in _SECRET_PARAMS}
        key = json.dumps([method, url, sorted(safe.items()), body], sort_keys=True, default=str)
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self.cache_dir / digest[:2] / f"{digest}.json"

    async def request(self, method: str, url: str, *, params: dict | None = None, json_body: Any = None,
                      headers: dict[str, str] | None = None, cache: bool = True,
                      max_bytes: int | None = None) -> CachedResponse:
        self.check_url(url)
        await self.guard.check_url(url)
        cpath = self._cache_path(method, url, params, json_body) if cache else None
        if cpath is not None and cpath.exists():
            raw = json.loads(cpath.read_text())
            return CachedResponse(raw["status"], raw["headers"], bytes.fromhex(raw["content"]), raw["url"], True)
        host = urlsplit(url).hostname or ""
        attempts = self.config.max_retries + 1
        last = ""
        for attempt in range(attempts):
            await self._throttle(host)
            try:
                resp = await asyncio.wait_for(self._send(method, url, params, json_body, headers, max_bytes),
                                              self.config.timeout_s)
            except TimeoutError:
                raise SourceError(f"{host} did not answer {scrub_url(url)} within {self.config.timeout_s:g} s "
                                  "(knowledge.timeout_s, for the whole request)") from None
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise Refused(f"cannot fetch {scrub_url(url)}: {exc}") from None
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                last = f"{type(exc).__name__}: {exc}"
                delay = None
            else:
                if resp.status_code == 429 or resp.status_code >= 500:
                    last = f"HTTP {resp.status_code}"
                    delay = retry_after_seconds(resp.headers.get("retry-after"))
                elif resp.status_code >= 400:
                    raise SourceError(f"{host} answered HTTP {resp.status_code} for {scrub_url(resp.url)}: "
                                      f"{resp.text[:200].strip()}")
                else:
                    if cpath is not None:
                        cpath.parent.mkdir(parents=True, exist_ok=True)
                        tmp = cpath.with_suffix(".tmp")
                        tmp.write_text(json.dumps({"status": resp.status_code, "headers": resp.headers,
                                                   "content": resp.content.hex(), "url": scrub_url(resp.url)}))
                        tmp.replace(cpath)
                    return resp
            if attempt + 1 < attempts:
                wait = backoff_delay(attempt, self.config.backoff_base_s, self.config.backoff_max_s, delay,
                                     max_retry_after=self.config.backoff_max_s)
                log.info("%s: %s, retry %d/%d in %.1fs", host, last, attempt + 1, attempts - 1, wait)
                await self._sleep(wait)
        raise SourceError(f"{host} failed after {attempts} attempts ({last}) for {url}",
                          hint="the source is rate-limiting or down; try again later or use another source")

    async def _send(self, method: str, url: str, params: dict | None, json_body: Any,
                    headers: dict[str, str] | None, max_bytes: int | None) -> CachedResponse:
        limit = max_bytes or self.config.max_fetch_bytes
        for _ in range(MAX_REDIRECTS + 1):
            async with self.client.stream(method, url, params=params, json=json_body, headers=headers) as resp:
                location = resp.headers.get("location")
                if resp.status_code in _REDIRECTS and location:
                    target = str(resp.url.join(location))
                    self.check_url(target)  # every hop: blocklist and SSRF guard
                    await self.guard.check_url(target)
                    if resp.status_code == 303 or (resp.status_code in (301, 302) and method == "POST"):
                        method, json_body = "GET", None
                    url, params = target, None
                    continue
                chunks, size = [], 0
                async for chunk in resp.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise SourceError(f"{url} is larger than the {limit}-byte cap (knowledge.max_fetch_bytes)")
                    chunks.append(chunk)
                hdrs = {k.lower(): v for k, v in resp.headers.items()}
                return CachedResponse(resp.status_code, hdrs, b"".join(chunks), str(resp.url))
        raise Refused(f"more than {MAX_REDIRECTS} redirects from {scrub_url(url)}")

    async def get(self, url: str, **kwargs: Any) -> CachedResponse:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> CachedResponse:
        return await self.request("POST", url, **kwargs)
