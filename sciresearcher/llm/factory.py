"""`make_client(LLMConfig) -> LLMClient`: picks and builds the backend, with errors that say how to fix it.

With `batch` set, the anthropic or openai backend is wrapped in a `BatchClient` (llm/batch.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sciresearcher.errors import ConfigError
from sciresearcher.llm.base import LLMClient
from sciresearcher.llm.config import BACKENDS, NO_MODEL_HINT, LLMConfig


def make_client(config: LLMConfig) -> LLMClient:
    """Builds the configured client. Raises ConfigError for an unknown backend, no model, a bad path."""
    if config.backend not in BACKENDS:
        raise ConfigError(f"unknown LLM backend '{config.backend}'", hint=f"valid backends: {', '.join(BACKENDS)}")
    if not config.model:
        raise ConfigError("no model is configured", hint=NO_MODEL_HINT)
    if config.backend == "openai":
        from sciresearcher.llm.openai_backend import OpenAIClient

        return _batched(OpenAIClient(config), config)
    if config.backend == "anthropic":
        from sciresearcher.llm.anthropic_backend import AnthropicClient

        return _batched(AnthropicClient(config), config)
    if config.batch:
        raise ConfigError("llm.batch works with the anthropic and openai backends, not 'local'",
                          hint="drop --llm.batch true")
    path = Path(config.model).expanduser()
    looks_like_path = config.model.startswith((".", "/", "~")) or path.exists()
    if looks_like_path and not (path / "config.json").is_file():
        reason = "does not exist" if not path.exists() else "has no config.json (not a transformers model)"
        raise ConfigError(f"local model directory {path} {reason}", hint=NO_MODEL_HINT)
    if config.local_batch > 1:
        from sciresearcher.llm.batched_local import BatchedLocalClient

        return BatchedLocalClient(config, max_batch=config.local_batch)
    from sciresearcher.llm.local_backend import LocalClient

    return LocalClient(config)


def _batched(client: Any, config: LLMConfig) -> LLMClient:
    """With `llm.batch`, the same protocol over the provider's batch API (llm/batch.py)."""
    if not config.batch:
        return client
    from sciresearcher.llm.batch import BatchClient

    return BatchClient.wrap(client)
