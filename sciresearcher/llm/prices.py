"""Per-model prices, and what one call costs: at list price, with the prompt cache, with the batch discount.

The shipped table is `prices.yaml` beside this module (list prices; edit a copy). `LLMConfig.prices` lays a
user's YAML file, or inline entries, over it: theirs win, models they leave out keep the shipped price.
Lookup is by exact name, then by the name without a provider prefix (`openrouter/anthropic/...`) and without
a snapshot suffix (`-20250929`, `-2025-01-31`, `@20250929`, `-latest`). There is deliberately no fuzzy
prefix match: a new model (`gpt-5-pro`) must not silently get an older model's price. A model with no
price has an unknown cost: `price_usage` marks the call `unpriced_calls=1` and leaves its cost at 0, and
every summary reports those calls as unpriced instead of adding a silent 0.

Not here: running totals of a client (`accounting.Ledger`) and the cost split of a run (`accounting`).
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sciresearcher.errors import ConfigError
from sciresearcher.llm.config import Price
from sciresearcher.records import Usage

log = logging.getLogger(__name__)

SHIPPED = Path(__file__).with_name("prices.yaml")
_SNAPSHOT = re.compile(r"(-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-latest)$")
FREE = Price()  # the local backend: no per-token bill


def _parse_table(data: Any, source: str) -> dict[str, Price]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a price table is a mapping of model name to prices, got {type(data).__name__}",
                          hint="e.g. `my-model: {input: 0.5, output: 1.5}` (USD per million tokens)")
    table: dict[str, Price] = {}
    for name, entry in data.items():
        try:
            table[str(name)] = entry if isinstance(entry, Price) else Price.model_validate(entry)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"{source}: bad price for '{name}': {problems}",
                              hint="keys: input, output, cached_input, cache_write, cache_write_1h, batch") from None
    return table


def load_price_file(path: str | Path) -> dict[str, Price]:
    """A YAML price table; ConfigError naming the file and entry when it is missing or malformed."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"price file {path} does not exist",
                          hint=f"copy {SHIPPED} and edit it, then pass --llm.prices PATH")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: malformed YAML: {exc}") from exc
    return _parse_table(data, str(path))


@functools.cache
def shipped_prices() -> dict[str, Price]:
    return load_price_file(SHIPPED)


def user_prices(prices: str | Path | dict[str, Any] | None) -> dict[str, Price]:
    """A user's entries alone: a price file (a path) or a mapping (values as dicts or Price)."""
    if prices is None or prices == {}:
        return {}
    if isinstance(prices, (str, Path)):
        return load_price_file(prices)
    return _parse_table({k: v.model_dump() if isinstance(v, Price) else v for k, v in prices.items()}, "llm.prices")


def price_table(prices: str | Path | dict[str, Any] | None = None) -> dict[str, Price]:
    """The shipped table with a user's file (a path) or entries (a mapping) laid over it."""
    return {**shipped_prices(), **user_prices(prices)}


def base_names(model: str) -> list[str]:
    """The names a model is looked up under, most specific first."""
    names = [model]
    tail = model.rsplit("/", 1)[-1]
    for name in (tail, _SNAPSHOT.sub("", tail)):
        if name and name not in names:
            names.append(name)
    return names


def price_for(model: str | None, table: dict[str, Price] | None = None) -> Price | None:
    """The price of `model` in `table` (default: the shipped one), or None when it has none."""
    if not model:
        return None
    table = shipped_prices() if table is None else table
    for name in base_names(model):
        if name in table:
            return table[name]
    return None


def cache_write_rate(price: Price, ttl: str = "5m") -> float:
    if ttl == "1h" and price.cache_write_1h is not None:
        return price.cache_write_1h
    return price.cache_write if price.cache_write is not None else price.input


def price_usage(usage: Usage, price: Price | None, *, batched: bool = False, ttl: str = "5m") -> Usage:
    """`usage` of ONE call with its cost fields set: billed, list price, batch discount; unpriced when no price."""
    flags: dict[str, Any] = {"batched_calls": int(batched)}
    if price is None:
        return usage.model_copy(update={**flags, "cost_usd": 0.0, "list_cost_usd": 0.0, "batch_saved_usd": 0.0,
                                        "unpriced_calls": 1})
    reads = min(usage.cached_tokens, usage.prompt_tokens)
    writes = min(usage.cache_write_tokens, usage.prompt_tokens - reads)
    fresh = usage.prompt_tokens - reads - writes
    read_rate = price.cached_input if price.cached_input is not None else price.input
    online = (fresh * price.input + reads * read_rate + writes * cache_write_rate(price, ttl)
              + usage.completion_tokens * price.output) / 1e6
    billed = online * price.batch if batched else online
    listed = (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1e6
    return usage.model_copy(update={**flags, "cost_usd": billed, "list_cost_usd": listed,
                                    "batch_saved_usd": online - billed, "unpriced_calls": 0})


def estimate_usd(model: str, *, input_tokens: float, output_tokens: float, cache_read_share: float = 0.0,
                 cache_write_share: float = 0.0, batched: bool = False, ttl: str = "5m",
                 table: dict[str, Price] | None = None) -> float | None:
    """A planned workload's cost before running it (e.g. a dry run): token totals and the expected cache
    shares of the input (`benchmarks/teacher_cost.py` measures 83% read, 17% written for 10-turn research
    trajectories). None when the model has no price."""
    price = price_for(model, table)
    if price is None:
        return None
    usage = Usage(prompt_tokens=round(input_tokens), completion_tokens=round(output_tokens),
                  cached_tokens=round(input_tokens * cache_read_share),
                  cache_write_tokens=round(input_tokens * cache_write_share))
    return price_usage(usage, price, batched=batched, ttl=ttl).cost_usd
