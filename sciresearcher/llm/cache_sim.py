"""A provider-side prompt-cache simulation, for the local provider server of tests and benchmarks.

`AnthropicCacheSim.usage(body)` computes the usage fields a Messages API reply would carry for a request
body, the way Anthropic documents its cache: the prompt is a sequence of blocks (tools, system blocks,
message content blocks, in that order); a block marked `cache_control` asks for the prefix up to it to be
cached (if it is at least `min_tokens` long), for 5 minutes or 1 hour, refreshed on each hit; a request
reads the longest cached prefix ending at a breakpoint or at one of the 20 blocks before it. Tokens up to
the read point are `cache_read_input_tokens`, tokens from there to the last breakpoint are
`cache_creation_input_tokens`, the rest `input_tokens`.

`OpenAICacheSim.cached_tokens(body)` does the same for automatic prefix caching (OpenAI, vLLM): no marks;
prompts of at least 1,024 tokens are cached by prefix, hits counted in 128-token steps.

Token counts are an estimate (characters / 4 over the text of each block, plus a few per block), not a
tokenizer: enough for cost arithmetic. The cache is shared by all requests to one server, as a provider's
is within an organisation. Not here: HTTP (`provider_server.py`), pricing (`prices.py`).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

LOOKBACK_BLOCKS = 20
TTL_S = {"5m": 300.0, "1h": 3600.0}


def text_tokens(value: Any) -> int:
    """About 4 characters a token over every string inside `value` (keys of dicts excluded)."""
    if isinstance(value, str):
        return (len(value) + 3) // 4
    if isinstance(value, dict):
        return sum(text_tokens(v) for k, v in value.items() if k != "cache_control")
    if isinstance(value, list):
        return sum(text_tokens(v) for v in value)
    return 1 if value is not None else 0


def block_tokens(block: Any) -> int:
    return text_tokens(block) + 4  # role and block framing


def _canonical(block: Any) -> bytes:
    if isinstance(block, dict):
        block = {k: v for k, v in block.items() if k != "cache_control"}
    return json.dumps(block, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def anthropic_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The request as the provider's cache sees it: tools, then system, then each message's blocks."""
    blocks: list[dict[str, Any]] = [{"kind": "tool", **t} for t in body.get("tools") or []]
    system = body.get("system")
    if isinstance(system, str):
        blocks.append({"kind": "system", "type": "text", "text": system})
    else:
        blocks += [{"kind": "system", **b} for b in system or []]
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        blocks += [{"kind": message.get("role"), **b} for b in content or []]
    return blocks


class AnthropicCacheSim:
    """Anthropic's prompt cache: explicit breakpoints, 20-block lookback, minimum length, TTL refresh."""

    def __init__(self, min_tokens: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        self.min_tokens = min_tokens
        self.clock = clock
        self._entries: dict[str, tuple[float, str]] = {}  # prefix hash -> (expires at, ttl)
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> bool:
        entry = self._entries.get(key)
        return entry is not None and entry[0] > now

    def usage(self, body: dict[str, Any]) -> dict[str, Any]:
        blocks = anthropic_blocks(body)
        hashes: list[str] = []
        cumulative: list[int] = []
        running, total = hashlib.sha256(str(body.get("model")).encode()), 0
        for block in blocks:
            running.update(_canonical(block))
            hashes.append(running.copy().hexdigest())
            total += block_tokens(block)
            cumulative.append(total)
        marks = [i for i, b in enumerate(blocks) if b.get("cache_control")]
        now = self.clock()
        with self._lock:
            read_at = -1
            for mark in marks:
                for pos in range(mark, max(-1, mark - LOOKBACK_BLOCKS), -1):
                    if self._live(hashes[pos], now):
                        read_at = max(read_at, pos)
                        break
            if read_at >= 0:  # a hit refreshes the entry's lifetime
                _, ttl = self._entries[hashes[read_at]]
                self._entries[hashes[read_at]] = (now + TTL_S[ttl], ttl)
            read = cumulative[read_at] if read_at >= 0 else 0
            written_to, by_ttl = read_at, {"5m": 0, "1h": 0}
            for mark in marks:
                if mark <= read_at or cumulative[mark] < self.min_tokens:
                    continue
                ttl = blocks[mark]["cache_control"].get("ttl", "5m")
                self._entries[hashes[mark]] = (now + TTL_S.get(ttl, 300.0), ttl)
                by_ttl[ttl if ttl in by_ttl else "5m"] += cumulative[mark] - (cumulative[written_to]
                                                                               if written_to >= 0 else 0)
                written_to = mark
        written = sum(by_ttl.values())
        return {"input_tokens": total - read - written, "cache_creation_input_tokens": written,
                "cache_read_input_tokens": read,
                "cache_creation": {"ephemeral_5m_input_tokens": by_ttl["5m"],
                                   "ephemeral_1h_input_tokens": by_ttl["1h"]}}


class OpenAICacheSim:
    """Automatic prefix caching: prompts of >= 1,024 tokens cached by prefix, hits in 128-token steps."""

    def __init__(self, min_tokens: int = 1024, step: int = 128) -> None:
        self.min_tokens = min_tokens
        self.step = step
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def usage(self, body: dict[str, Any]) -> tuple[int, int]:
        """(prompt tokens, cached tokens) of a chat-completions request."""
        parts: list[Any] = [{"tools": body.get("tools") or []}, *(body.get("messages") or [])]
        running = hashlib.sha256(str(body.get("model")).encode())
        hashes, cumulative, total = [], [], 0
        for part in parts:
            running.update(_canonical(part))
            hashes.append(running.copy().hexdigest())
            total += block_tokens(part) if part is not parts[0] or part["tools"] else 0
            cumulative.append(total)
        with self._lock:
            hit = max((cumulative[i] for i, h in enumerate(hashes) if h in self._seen), default=0)
            if total >= self.min_tokens:
                self._seen.update(hashes)
        cached = (hit // self.step) * self.step if hit >= self.min_tokens else 0
        return total, min(cached, total)
