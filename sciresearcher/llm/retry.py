"""The one retry policy: when a failed request may be retried, and how long to wait before it.

`parse_retry_after(headers)` reads `retry-after-ms`, or `Retry-After` as seconds or an HTTP date;
`backoff_delay(attempt, base, cap, retry_after)` is full-jitter exponential backoff that never waits less than
the server asked. Model calls (`managed.py`, `batch.py` polls) honour Retry-After in full (a paid API that says
wait means it); scholarly and web sources (`knowledge/sources/http.py`) cap it at their `backoff_max_s`.
Which errors are retryable is decided where they are classified (ProviderError.retryable, the sources' HTTP
status), not here.
"""

from __future__ import annotations

import datetime
import email.utils
import random
from typing import Any


def parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` as seconds or an HTTP date; None if absent."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds())


def backoff_delay(attempt: int, base: float, cap: float, retry_after: float | None, rng: random.Random | None = None,
                  *, max_retry_after: float | None = None) -> float:
    """Full-jitter exponential backoff (uniform in [0, min(cap, base * 2^attempt)]), never shorter than the
    server's Retry-After; `max_retry_after` caps how long a Retry-After may hold us (None: honour it fully)."""
    delay = (rng or random).uniform(0, min(cap, base * (2 ** attempt)))
    if retry_after is not None:
        delay = max(delay, retry_after if max_retry_after is None else min(retry_after, max_retry_after))
    return delay
