"""Any OpenAI-compatible chat-completions endpoint (vLLM, SGLang, Ollama, OpenRouter, OpenAI) via the SDK.

Maps our Message records to the request (reasoning_content is sent back where the server accepts it:
`send_reasoning`, by default on except for the official OpenAI and DeepSeek APIs; tool-call arguments
stay JSON strings; `enable_thinking` becomes vLLM/SGLang's `chat_template_kwargs`) and the response back to a ChatResult: reasoning from
`reasoning_content` or `reasoning`, tool calls with their arguments kept raw even when malformed (the
agent loop tells the model), usage, finish_reason. Streaming assembles content, reasoning and tool-call
deltas into one reply. SDK errors are mapped to ProviderError with `retryable` set for 429, 5xx,
timeouts, connection errors and unreadable bodies; the SDK's own retries are off (ManagedClient retries).
"""

from __future__ import annotations

import functools
from typing import Any

from sciresearcher.errors import ConfigError, ProviderError
from sciresearcher.llm.base import ChatResult
from sciresearcher.llm.config import LLMConfig
from sciresearcher.llm.managed import ManagedClient, api_key
from sciresearcher.llm.sdk_errors import map_sdk_error
from sciresearcher.records import FunctionCall, Message, ToolCall, Usage

# Hosted APIs known to reject `reasoning_content` on input messages (self-hosted servers use it).
_REJECT_REASONING = ("api.openai.com", "api.deepseek.com")


def map_openai_error(exc: Exception, model: str, base_url: str | None = None) -> ProviderError:
    """SDK exception -> ProviderError with retryability decided by status and kind."""
    import openai

    return map_sdk_error(
        exc, openai, provider="the provider", base_url=base_url, unreadable=(ValueError,),
        not_found_hint=f"check --llm.model: the server does not serve '{model}' (GET /v1/models lists what it has)",
        auth_hint="check the API key variable (--llm.api-key-env) and your access to this model")


def to_openai_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """The messages as the chat API takes them: a turn's training `weight` is ours, not the API's, and stays out."""
    return [{k: v for k, v in m.to_openai().items() if k != "weight"} for m in messages]


def _message_from(content: str | None, reasoning: str | None, calls: list[dict[str, Any]]) -> Message:
    tool_calls = [
        ToolCall(id=c.get("id") or f"call_{i}", function=FunctionCall(
            name=c.get("name") or "", arguments=c.get("arguments") if c.get("arguments") is not None else "{}"))
        for i, c in enumerate(calls)
    ]
    return Message(role="assistant", content=content, reasoning_content=reasoning or None,
                   tool_calls=tool_calls or None)


def _usage(raw: dict[str, Any] | None) -> Usage:
    if not raw:
        return Usage()
    cached = (raw.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    return Usage(prompt_tokens=raw.get("prompt_tokens") or 0, completion_tokens=raw.get("completion_tokens") or 0,
                 cached_tokens=cached)


def _reasoning(message: dict[str, Any]) -> str | None:
    """vLLM/SGLang/DeepSeek say `reasoning_content`; OpenRouter and newer vLLM say `reasoning`."""
    return message.get("reasoning_content") or message.get("reasoning") or None


def _body_error(what: str) -> ProviderError:
    return ProviderError(f"unreadable response body: {what}", retryable=True)


class OpenAIClient(ManagedClient):
    backend = "openai"

    def __init__(self, config: LLMConfig) -> None:
        super().__init__(config)
        if not config.model:
            raise ConfigError("no model set for the openai backend", hint="pass --llm.model NAME")
        self._key = api_key(config, "OPENAI_API_KEY")
        send = config.send_reasoning
        self._send_reasoning = send if send is not None else not (
            config.base_url is None or any(host in config.base_url for host in _REJECT_REASONING))
        # Chosen, and the SDK and transport imported, here rather than on the first call: an import inside a
        # running event loop stalls every coroutine on it (about 1.5 s for the SDK).
        self.transport = _transport_for(config)
        self._prebuild_sdk_client()

    def _new_sdk_client(self) -> Any:
        import openai

        # An explicit HTTP client (the SDK's documented way to configure HTTP): the SDK's own default
        # wrapper schedules `aclose()` on whatever loop is running when it is garbage-collected, which fails
        # with "Event loop is closed" for a client of a finished loop. One TLS context serves them all.
        return openai.AsyncOpenAI(
            api_key=self._key, base_url=self.config.base_url, timeout=self.config.timeout_s, max_retries=0,
            http_client=_http_client(self.transport, self.config.timeout_s))

    def _request(self, messages: list[Message], tools: list[dict[str, Any]] | None,
                 sampling: dict[str, Any]) -> dict[str, Any]:
        sampling = dict(sampling)
        extra_body = {**self.config.extra_body, **sampling.pop("extra_body", {})}
        thinking = sampling.pop("enable_thinking", self.config.enable_thinking)
        if thinking is not None:  # Qwen3-style switch, read by vLLM/SGLang chat templates
            extra_body["chat_template_kwargs"] = {**(extra_body.get("chat_template_kwargs") or {}),
                                                  "enable_thinking": thinking}
        chat = to_openai_messages(messages)
        if not self._send_reasoning:
            for m in chat:
                m.pop("reasoning_content", None)
        request: dict[str, Any] = {"model": self.model, "messages": chat, **sampling}
        if tools:
            request["tools"] = tools
        request.update(extra_body)  # server-specific fields (vLLM's chat_template_kwargs, ...) sit at top level
        return request

    async def _post(self, body: dict[str, Any], *, stream: bool) -> Any:
        # `client.post` is the SDK's documented escape hatch for raw bodies: `create()` re-walks every message
        # through its TypedDict transform (~5 ms per call on long agent histories) and the response through
        # pydantic models (~1 ms); our messages are already OpenAI-format dicts and the reply is read as JSON.
        from openai import AsyncStream

        if stream:
            return await self._client.post("/chat/completions", cast_to=object, body=body, stream=True,
                                           stream_cls=AsyncStream[object])
        return await self._client.post("/chat/completions", cast_to=object, body=body)

    async def _chat_once(self, messages: list[Message], tools: list[dict[str, Any]] | None,
                         sampling: dict[str, Any]) -> ChatResult:
        request = self._request(messages, tools, sampling)
        try:
            if self.config.stream:
                return await self._stream(request)
            response = await self._post(request, stream=False)
        except ProviderError:
            raise
        except Exception as exc:
            raise map_openai_error(exc, self.model, self.config.base_url) from exc
        return _result(response)

    async def _stream(self, request: dict[str, Any]) -> ChatResult:
        stream = await self._post({**request, "stream": True, "stream_options": {"include_usage": True}},
                                  stream=True)
        content: list[str] = []
        reasoning: list[str] = []
        calls: dict[int, dict[str, Any]] = {}
        finish, model, usage = None, None, Usage()
        async for chunk in stream:
            if not isinstance(chunk, dict):
                raise _body_error(f"a stream chunk is {type(chunk).__name__}, not a JSON object")
            model = chunk.get("model") or model
            if chunk.get("usage"):
                usage = _usage(chunk["usage"])
            for choice in chunk.get("choices") or []:
                finish = choice.get("finish_reason") or finish
                delta = choice.get("delta")
                if not delta:
                    continue
                if delta.get("content"):
                    content.append(delta["content"])
                piece = _reasoning(delta)
                if piece:
                    reasoning.append(piece)
                for tc in delta.get("tool_calls") or []:
                    slot = calls.setdefault(tc.get("index", 0), {"id": None, "name": "", "arguments": ""})
                    if tc.get("id"):
                        slot["id"] = tc["id"]
                    function = tc.get("function") or {}
                    slot["name"] += function.get("name") or ""
                    slot["arguments"] += function.get("arguments") or ""
        if finish is None:  # the connection closed before the server said the reply was complete
            raise ProviderError("the response stream ended before the reply finished", retryable=True)
        message = _message_from("".join(content) or None, "".join(reasoning),
                                [calls[i] for i in sorted(calls)])
        return ChatResult(message=message, usage=usage, finish_reason=finish, model=model)


def _result(response: Any) -> ChatResult:
    """A chat-completions JSON body -> ChatResult; a body of the wrong shape is a retryable ProviderError."""
    if not isinstance(response, dict):
        raise _body_error(f"expected a JSON object, got {type(response).__name__}")
    choices = response.get("choices")
    if not choices:
        raise ProviderError("the provider returned no choices", retryable=True)
    choice = choices[0]
    msg = choice.get("message")
    if not isinstance(msg, dict):
        raise _body_error("choices[0].message is missing")
    calls = [{"id": c.get("id"), "name": (c.get("function") or {}).get("name"),
              "arguments": (c.get("function") or {}).get("arguments")} for c in msg.get("tool_calls") or []]
    return ChatResult(message=_message_from(msg.get("content"), _reasoning(msg), calls),
                      usage=_usage(response.get("usage")), finish_reason=choice.get("finish_reason"),
                      model=response.get("model"))


def _transport_for(config: LLMConfig) -> str:
    """`aiohttp` (the SDK's DefaultAioHttpClient: half the CPU per request of its httpx pool with 32 agents
    in flight, see benchmarks/agent_throughput.py) where installed and not overridden, else `httpx`."""
    import importlib.util

    import openai  # noqa: F401  (imported now, see OpenAIClient.__init__)

    choice = config.http_client
    has_aiohttp = importlib.util.find_spec("aiohttp") is not None
    if choice == "aiohttp" and not has_aiohttp:
        raise ConfigError("llm.http_client is aiohttp but aiohttp is not installed",
                          hint="pip install 'openai[aiohttp]', or set --llm.http-client httpx")
    if choice == "auto":
        choice = "aiohttp" if has_aiohttp else "httpx"
    if choice == "aiohttp":
        import aiohttp  # noqa: F401
    return choice


@functools.cache
def _tls_context() -> Any:
    """The SDK's default TLS context (system trust store or certifi, as httpx builds it), built once:
    building one costs ~55 ms, and every event loop gets its own HTTP client."""
    try:
        import httpx2 as httpx  # the SDK's HTTP library from openai 3
    except ImportError:  # pragma: no cover - older SDKs
        import httpx
    return httpx.create_ssl_context()


def _http_client(transport: str, timeout_s: float) -> Any:
    import openai

    if transport == "aiohttp":
        return openai.DefaultAioHttpClient(timeout=timeout_s, verify=_tls_context())
    return openai.DefaultAsyncHttpxClient(timeout=timeout_s, verify=_tls_context())
