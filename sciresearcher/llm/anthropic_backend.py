"""Anthropic's Messages API through the official `anthropic` SDK (AsyncAnthropic).

Builds the request from our records (`anthropic_format.py` does the mapping) and maps OpenAI-style
sampling onto Anthropic's: `max_tokens` is required (default 4096); `stop` -> `stop_sequences`;
`tool_choice` "required" -> any; OpenAI-only knobs such as `seed` or `frequency_penalty` are dropped
(logged once); `temperature`, `top_p`, `top_k` and any other key go into the JSON body via `extra_body`.
Extended thinking comes from the config (`thinking_budget`, or `enable_thinking` with a 4096-token
budget) or a per-call `thinking=` dict (e.g. `{"type": "adaptive"}`). With thinking on, `temperature`,
`top_k` and a forced `tool_choice` are left out (the API rejects them), and `max_tokens` is raised above
the budget when it would leave no room for the answer. With `prompt_cache` (the default) the request
carries cache breakpoints on the stable prefix and the conversation (`caching.py`).

Streams (and assembles the final message) when `stream` is set or `max_tokens` is large enough that the
SDK refuses a non-streaming call. SDK errors become ProviderError: 408, 429, 5xx (529 overloaded
included), timeouts, connection errors and unreadable bodies are retryable, with Retry-After honoured
by ManagedClient; the SDK's own retries are off. `base_url` points it at a proxy or a recorded server.
"""

from __future__ import annotations

import logging
from typing import Any

from sciresearcher.errors import ConfigError, ProviderError
from sciresearcher.llm.anthropic_format import (
    anthropic_tool,
    anthropic_tool_choice,
    from_anthropic,
    to_anthropic,
)
from sciresearcher.llm.base import ChatResult
from sciresearcher.llm.caching import add_breakpoints
from sciresearcher.llm.config import LLMConfig
from sciresearcher.llm.managed import ManagedClient, api_key
from sciresearcher.llm.sdk_errors import map_sdk_error
from sciresearcher.records import Message

log = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 4096
DEFAULT_THINKING_BUDGET = 4096
STREAM_ABOVE_MAX_TOKENS = 21_000  # the SDK refuses non-streaming calls that may run past 10 minutes
_DROPPED = frozenset({
    "seed", "frequency_penalty", "presence_penalty", "n", "logprobs", "top_logprobs", "logit_bias",
    "parallel_tool_calls", "response_format", "user", "min_p", "repetition_penalty", "stream_options",
    "chat_template_kwargs", "enable_thinking",
})


def map_anthropic_error(exc: Exception, model: str, base_url: str | None = None) -> ProviderError:
    """SDK exception -> ProviderError with retryability decided by status and kind."""
    import anthropic

    return map_sdk_error(exc, anthropic, provider="Anthropic", base_url=base_url,
                         not_found_hint=f"check --llm.model: Anthropic does not serve '{model}'",
                         auth_hint="check the API key variable (--llm.api-key-env, default ANTHROPIC_API_KEY)")


class AnthropicClient(ManagedClient):
    backend = "anthropic"

    def __init__(self, config: LLMConfig) -> None:
        super().__init__(config)
        try:
            import anthropic  # noqa: F401
        except ImportError as exc:
            raise ConfigError("the anthropic backend needs the anthropic SDK",
                              hint="pip install -e '.[anthropic]'") from exc
        self._key = api_key(config, "ANTHROPIC_API_KEY")
        self._warned: set[str] = set()
        self._prebuild_sdk_client()

    def _new_sdk_client(self) -> Any:
        import anthropic

        return anthropic.AsyncAnthropic(api_key=self._key, base_url=self.config.base_url,
                                        timeout=self.config.timeout_s, max_retries=0)

    def _thinking(self, sampling: dict[str, Any]) -> dict[str, Any] | None:
        if "thinking" in sampling:
            return sampling.pop("thinking")
        enabled = sampling.pop("enable_thinking", self.config.enable_thinking)
        if self.config.thinking_budget and enabled is not False:
            return {"type": "enabled", "budget_tokens": int(self.config.thinking_budget)}
        if enabled:
            return {"type": "enabled", "budget_tokens": DEFAULT_THINKING_BUDGET}
        return None

    def _drop(self, key: str, why: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.info("anthropic %s: not sending '%s' (%s)", self.model, key, why)

    def build_request(self, messages: list[Message], tools: list[dict[str, Any]] | None,
                      sampling: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments for `messages.create` / `messages.stream`, `extra_body` included."""
        s = dict(sampling)
        extra_body = {**self.config.extra_body, **s.pop("extra_body", {})}
        max_tokens = s.pop("max_tokens", None)
        max_tokens = int(s.pop("max_completion_tokens", None) or max_tokens or DEFAULT_MAX_TOKENS)
        system, chat = to_anthropic(messages)
        request: dict[str, Any] = {"model": self.model, "messages": chat}
        if system:
            request["system"] = system
        if tools:
            request["tools"] = [anthropic_tool(t) for t in tools]
        choice = anthropic_tool_choice(s.pop("tool_choice", None))
        if choice is not None:
            request["tool_choice"] = choice
        stop = s.pop("stop", None)
        if stop:
            request["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
        thinking = self._thinking(s)
        if thinking and thinking.get("type") in ("enabled", "adaptive"):
            request["thinking"] = thinking
            budget = int(thinking.get("budget_tokens") or 0)
            if max_tokens <= budget:
                max_tokens += budget  # the budget counts inside max_tokens: leave room for the answer
            for key in ("temperature", "top_k"):
                if s.pop(key, None) is not None:
                    self._drop(key, "not allowed with extended thinking")
            if request.get("tool_choice", {}).get("type") in ("any", "tool"):
                request.pop("tool_choice")
                self._drop("tool_choice", "forced tool use is not allowed with extended thinking")
        elif thinking:
            request["thinking"] = thinking
        request["max_tokens"] = max_tokens
        for key in list(s):
            if key in _DROPPED:
                s.pop(key)
                self._drop(key, "OpenAI-only parameter")
        # temperature, top_p, top_k and anything else go in the body as they are (recent SDKs no longer
        # type them; the API decides, and a 400 names a parameter it rejects)
        extra_body.update(s)
        request["extra_body"] = extra_body or None
        if self.config.prompt_cache:  # breakpoints on tools, system and the rolling conversation (llm/caching.py)
            request = add_breakpoints(request, self.config.prompt_cache_ttl)
        return request

    async def _chat_once(self, messages: list[Message], tools: list[dict[str, Any]] | None,
                         sampling: dict[str, Any]) -> ChatResult:
        request = self.build_request(messages, tools, sampling)
        try:
            if self.config.stream or request["max_tokens"] > STREAM_ABOVE_MAX_TOKENS:
                async with self._client.messages.stream(**request) as stream:
                    response = await stream.get_final_message()
            else:
                response = await self._client.messages.create(**request)
        except AssertionError as exc:  # the SDK's stream accumulator found no message: a cut or foreign body
            raise ProviderError(f"unreadable response stream: {exc!r}", retryable=True) from exc
        except Exception as exc:
            raise map_anthropic_error(exc, self.model, self.config.base_url) from exc
        if getattr(response, "stop_reason", None) is None:  # a stream cut before message_delta/message_stop
            raise ProviderError("the response stream ended before the reply finished", retryable=True)
        message, usage, finish, model = from_anthropic(response)
        return ChatResult(message=message, usage=usage, finish_reason=finish, model=model)
