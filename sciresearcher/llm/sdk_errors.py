"""SDK exceptions -> ProviderError, for the two SDKs generated from the same template (openai, anthropic).

Both raise APIStatusError (with status and response headers), APITimeoutError, APIConnectionError and
APIResponseValidationError; this decides the message, the hint and whether the call is worth retrying
(429, 408, 5xx, timeouts, connection failures and unreadable bodies are; other 4xx are not). It does not
retry anything itself: ManagedClient does.
"""

from __future__ import annotations

import json
from types import ModuleType

from sciresearcher.errors import ProviderError
from sciresearcher.llm.retry import parse_retry_after


def refused(exc: BaseException | None) -> ConnectionRefusedError | None:
    """The ConnectionRefusedError under an SDK error, if any (the aiohttp transport reports a refused
    connection as a connect *timeout*, httpx as "All connection attempts failed")."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, ConnectionRefusedError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def map_sdk_error(exc: Exception, sdk: ModuleType, *, provider: str, base_url: str | None,
                  not_found_hint: str, auth_hint: str,
                  unreadable: tuple[type[BaseException], ...] = ()) -> ProviderError:
    """`sdk` is the imported `openai` or `anthropic` module; `unreadable` adds exception types that mean
    a response body could not be parsed."""
    if isinstance(exc, sdk.APIConnectionError) and refused(exc) is not None:  # APITimeoutError included
        return ProviderError(f"cannot connect to {base_url or provider}: connection refused",
                             retryable=True, hint="is the server running? check --llm.base-url")
    if isinstance(exc, sdk.APIStatusError):
        status = exc.status_code
        hint = not_found_hint if status == 404 else auth_hint if status in (401, 403) else None
        return ProviderError(f"HTTP {status} from {provider}: {exc.message}", status_code=status,
                             retryable=status in (408, 429) or status >= 500,
                             retry_after=parse_retry_after(exc.response.headers), hint=hint)
    if isinstance(exc, sdk.APITimeoutError):
        return ProviderError("request timed out", retryable=True)
    if isinstance(exc, sdk.APIConnectionError):
        return ProviderError(f"connection error: {exc}", retryable=True)
    if isinstance(exc, (json.JSONDecodeError, sdk.APIResponseValidationError, *unreadable)):
        return ProviderError(f"unreadable response body: {exc}", retryable=True)
    return ProviderError(f"{type(exc).__name__}: {exc}", retryable=False)
