"""`LLMConfig`: which backend and model to call, and how (concurrency, retries, caches, prices, batching).

Only configuration lives here; `llm/factory.py` turns it into a client.
"""

from __future__ import annotations

from pathlib import Path
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
    """USD per million tokens, and the batch multiplier (see llm/prices.yaml)."""

    model_config = ConfigDict(extra="forbid")

    input: float = 0.0
    output: float = 0.0
    cached_input: float | None = Field(None, description="cache reads; unset = the input rate")
    cache_write: float | None = Field(None, description="5-minute cache writes; unset = the input rate")
    cache_write_1h: float | None = Field(None, description="1-hour cache writes; unset = cache_write")
    batch: float = Field(0.5, gt=0, le=1, description="multiplier on every token of a batched call")


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
    prices: str | dict[str, Price] = Field(
        default_factory=dict, description="a YAML price file, or per-model entries (USD / 1M tokens), over the "
        "shipped table (sciresearcher/llm/prices.yaml); a model in neither has an unknown cost")
    prompt_cache: bool = Field(
        True, description="anthropic: cache_control breakpoints on the stable prefix and the conversation "
        "(OpenAI-compatible servers cache prefixes by themselves)")
    prompt_cache_ttl: Literal["5m", "1h"] = Field("5m", description="anthropic cache lifetime (1h: writes cost 2x)")
    batch: bool = Field(False, description="send calls through the provider's batch API (50% off; replies "
                        "take minutes to hours): for calls that need no interaction")
    batch_dir: str | None = Field(None, description="where batch ids and results are kept, so a killed run "
                                  "resumes polling instead of paying again (commands set it in their run directory)")
    batch_size: int = Field(1000, ge=1, description="most requests in one batch submission")
    batch_window_s: float = Field(10.0, ge=0, description="after the first queued call, wait this long for "
                                  "more before submitting")
    batch_poll_s: float = Field(30.0, gt=0, description="first wait between status polls; grows 1.5x per poll")
    batch_poll_max_s: float = Field(300.0, gt=0, description="longest wait between status polls")
    batch_max_wait_s: float = Field(86_400.0, gt=0, description="give up waiting on a batch after this long "
                                    "(it stays recorded: a rerun resumes polling it)")
    device: str | None = Field(None, description="local backend: cpu | cuda | auto")
    local_batch: int = Field(
        1, ge=1, description="local backend: concurrent requests generated together in one padded batch (> 1: "
        "llm.batched_local.BatchedLocalClient, which renders with the training chat template)")
    dtype: str | None = Field(None, description="local backend: float32 | bfloat16 | auto")
    kv_cache: Literal["dynamic", "static"] = Field(
        "dynamic", description="local backend: the key-value cache of a generation. dynamic grows by one token a "
        "step (a copy of the whole cache each step); static is allocated once at prompt + max_tokens: the same "
        "tokens, and on CPU ~1.5x faster decoding of a padded batch (llm/batched_local.py)")
    prefix_cache_mb: int = Field(
        0, ge=0, description="local backend with local_batch > 1: keep every row's tokens and key-value states after "
        "a batch, up to this many MB, so that the next turn of a conversation encodes only what is new (the tool "
        "output) instead of the whole conversation; uses a static cache (llm/prefix_cache.py; 0: off)")
    loop_stop: int = Field(
        0, ge=0, description="local backend: end a reply as cut at max_tokens once its last N or more tokens repeat "
        "one period three times (llm/loop_stop.py; 0: off). A looping row otherwise keeps its whole batch decoding")

    def for_run(self, run_dir: str | Path, name: str) -> LLMConfig:
        """This config with `batch_dir` = `<run_dir>/batches/<name>` when batching with no directory set (so a
        resumed run finds its batches); unchanged otherwise."""
        if not self.batch or self.batch_dir:
            return self
        return self.model_copy(update={"batch_dir": str(Path(run_dir) / "batches" / name)})
