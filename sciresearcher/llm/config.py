"""`LLMConfig`: which backend and model to call, and how (concurrency, retries, cache, prices).

Only configuration lives here; `llm/factory.py` turns it into a client.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Backend = Literal["openai", "anthropic", "local"]
BACKENDS: tuple[str, ...] = ("openai", "anthropic", "local")


NO_MODEL_HINT = (
    "point the agent at a model: a local model directory (`--llm.backend local --llm.model /path/to/model`; "
    "`sciresearcher train tiny-model --out DIR` builds a tiny offline one), or an OpenAI-compatible endpoint "
    "(`--llm.backend openai --llm.base-url http://127.0.0.1:8000/v1 --llm.model NAME`), or Anthropic "
    "(`--llm.backend anthropic --llm.model claude-sonnet-4-5`)"
)


class Price(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(extra="forbid")

    input: float = 0.0
    output: float = 0.0
    cached_input: float | None = None


class LLMConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: Backend = Field("local", description="openai (any OpenAI-compatible server) | anthropic | local")
    model: str | None = Field(None, description="model name at the endpoint, or a local model directory")
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    api_key_env: str | None = Field(
        None, description="environment variable holding the API key (default OPENAI_API_KEY / ANTHROPIC_API_KEY; "
        "not needed for a local base_url)"
    )
    max_concurrency: int = Field(16, ge=1, description="requests in flight at once from this client")
    max_retries: int = Field(6, ge=0, description="retries on 429, 5xx, timeouts and connection errors")
    backoff_base_s: float = Field(1.0, gt=0, description="first retry delay; doubles each retry, with jitter")
    backoff_max_s: float = Field(60.0, gt=0)
    timeout_s: float = Field(600.0, gt=0, description="per request")
    http_client: Literal["auto", "aiohttp", "httpx"] = Field(
        "auto", description="openai backend transport: aiohttp (the SDK's DefaultAioHttpClient; auto picks it when "
        "aiohttp is installed) or httpx (the SDK's default)"
    )
    stream: bool = Field(False, description="use streaming responses (assembled into one reply)")
    cache_dir: str | None = Field(None, description="on-disk response cache keyed by request hash")
    enable_thinking: bool | None = Field(None, description="Qwen3-style thinking switch (local/openai via template)")
    thinking_budget: int | None = Field(None, description="Anthropic extended-thinking budget tokens")
    send_reasoning: bool | None = Field(
        None, description="openai backend: send reasoning_content back on later turns (default: yes, except to "
        "api.openai.com and api.deepseek.com, which reject it)"
    )
    sampling: dict[str, Any] = Field(default_factory=dict, description="defaults merged under each call's sampling")
    extra_body: dict[str, Any] = Field(default_factory=dict, description="passed through to OpenAI-compatible servers")
    prices: dict[str, Price] = Field(default_factory=dict, description="per-model price overrides (USD / 1M tokens)")
    device: str | None = Field(None, description="local backend: cpu | cuda | auto")
    batch_size: int = Field(
        1, ge=1, description="local backend: concurrent requests generated together in one padded batch (> 1: "
        "llm.batched_local.BatchedLocalClient, which renders with the training chat template)")
    dtype: str | None = Field(None, description="local backend: float32 | bfloat16 | auto")
