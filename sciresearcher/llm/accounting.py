"""Token and cost accounting: running totals per client, and the cost split a run's summary reports.

Prices come from `llm/prices.py` (the shipped `prices.yaml` under a user's own table). `cost_split` turns
summed `Usage` into what summaries and the report show: billed cost next to the list price, how much the
prompt cache and the batch discount saved, the cache hit share, and how many calls had no price (their
cost is unknown: the billed total is then a lower bound, and says so).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sciresearcher.llm.config import Price
from sciresearcher.llm.prices import price_for as _lookup
from sciresearcher.llm.prices import price_table, price_usage
from sciresearcher.records import Usage


def price_for(model: str | None, overrides: dict[str, Price] | str | None = None) -> Price | None:
    """The price of `model`: the user's entries (a mapping or a price file) over the shipped table."""
    return _lookup(model, price_table(overrides))


def cost_of(usage: Usage, price: Price | None) -> float:
    """Billed USD of one online call (0.0 when unpriced: use `prices.price_usage` to keep that visible)."""
    return price_usage(usage, price).cost_usd


def cost_split(usage: Usage | Iterable[Usage]) -> dict[str, Any]:
    """The cost of summed usage, split: billed vs list price, cache and batch savings, tokens by kind."""
    if not isinstance(usage, Usage):
        total = Usage()
        for u in usage:
            total = total + u
        usage = total
    cache_saved = usage.list_cost_usd - usage.cost_usd - usage.batch_saved_usd
    return {
        "cost_usd": round(usage.cost_usd, 6), "list_cost_usd": round(usage.list_cost_usd, 6),
        "cache_saved_usd": round(cache_saved, 6), "batch_saved_usd": round(usage.batch_saved_usd, 6),
        "prompt_tokens": usage.prompt_tokens, "cache_read_tokens": usage.cached_tokens,
        "cache_write_tokens": usage.cache_write_tokens, "completion_tokens": usage.completion_tokens,
        "cache_hit_share": round(usage.cached_tokens / usage.prompt_tokens, 4) if usage.prompt_tokens else 0.0,
        "batched_calls": usage.batched_calls, "unpriced_calls": usage.unpriced_calls,
        "complete": usage.unpriced_calls == 0,
    }


def describe_cost(split: dict[str, Any]) -> str:
    """One line for logs and the report: `$1.23 (list $4.56; cache saved $2.00, batch saved $1.33)`."""
    text = f"${split['cost_usd']:.4f} (list ${split['list_cost_usd']:.4f}; cache saved ${split['cache_saved_usd']:.4f}"
    text += f", batch saved ${split['batch_saved_usd']:.4f})"
    if split.get("unpriced_calls"):
        text += f" + unknown: {split['unpriced_calls']} calls of unpriced models (add them with --llm.prices FILE)"
    return text


def session_costs(**clients: Any) -> dict[str, Any]:
    """`cost_split` of each named client's ledger (calls made by this process: a resumed run's earlier
    sessions are not in it); clients without a ledger (test doubles, None) are left out."""
    out: dict[str, Any] = {}
    for name, client in clients.items():
        ledger = getattr(client, "ledger", None)
        if isinstance(ledger, Ledger):
            out[name] = {**cost_split(ledger.usage), "calls": ledger.calls, "scope": "this session"}
    return out


@dataclass
class Ledger:
    """Running totals of one client: calls, tokens, cost, retries, cache hits. Thread-safe."""

    calls: int = 0
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0
    usage: Usage = field(default_factory=Usage)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, usage: Usage, *, cached: bool = False) -> None:
        with self._lock:
            self.calls += 1
            self.cache_hits += int(cached)
            if not cached:
                self.usage = self.usage + usage

    def summary(self) -> dict[str, Any]:
        return {"calls": self.calls, "cache_hits": self.cache_hits, "retries": self.retries,
                "failures": self.failures, **cost_split(self.usage)}
