"""The two providers' batch APIs through their official SDKs, behind one small interface.

- Anthropic Message Batches: `messages.batches.create(requests=[{custom_id, params}])`, `retrieve` until
  `processing_status == "ended"`, then `results()` (JSONL; `succeeded` results carry the Message, `errored`
  an error response, `canceled` / `expired` nothing).
- OpenAI Batch: the requests as a JSONL file (`{custom_id, method, url, body}` per line) uploaded with
  `files.create(purpose="batch")`, `batches.create(input_file_id, endpoint="/v1/chat/completions",
  completion_window="24h")`, `retrieve` until completed (or failed / expired / cancelled), then the output
  and error files through `files.content` (each line: `custom_id`, `response.status_code` and `body`, or
  `error`).

Each adapter builds a request body with the online backend's own mapping (so a batched call sends what the
online call would), and turns results into outcomes `{"custom_id", "ok", "body"}` / `{"custom_id", "ok":
False, "error", "retryable"}` that `batch.py` resolves with the backend's own response parser. SDK errors
become ProviderError through the backends' mappers. Not here: queueing, polling, persistence.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from sciresearcher.errors import ProviderError
from sciresearcher.llm.base import ChatResult
from sciresearcher.records import Message

Outcome = dict[str, Any]
_RETRYABLE_ANTHROPIC = frozenset({"api_error", "overloaded_error", "rate_limit_error", "timeout_error"})


class BatchAPI(Protocol):
    provider: str

    def body(self, client: Any, messages: list[Message], tools: list[dict[str, Any]] | None,
             sampling: dict[str, Any]) -> dict[str, Any]: ...
    async def submit(self, sdk: Any, items: list[tuple[str, dict[str, Any]]]) -> tuple[str, dict[str, Any]]: ...
    async def status(self, sdk: Any, batch_id: str) -> tuple[bool, str]: ...
    async def results(self, sdk: Any, batch_id: str) -> list[Outcome]: ...
    def to_result(self, body: dict[str, Any]) -> ChatResult: ...
    def map_error(self, exc: Exception, model: str, base_url: str | None) -> ProviderError: ...


class AnthropicBatches:
    provider = "anthropic"

    def body(self, client: Any, messages: list[Message], tools: list[dict[str, Any]] | None,
             sampling: dict[str, Any]) -> dict[str, Any]:
        request = client.build_request(messages, tools, sampling)
        extra = request.pop("extra_body", None) or {}
        return {**{k: v for k, v in request.items() if v is not None}, **extra}

    async def submit(self, sdk: Any, items: list[tuple[str, dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
        batch = await sdk.messages.batches.create(requests=[{"custom_id": c, "params": p} for c, p in items])
        return batch.id, {}

    async def status(self, sdk: Any, batch_id: str) -> tuple[bool, str]:
        batch = await sdk.messages.batches.retrieve(batch_id)
        return batch.processing_status == "ended", batch.processing_status

    async def results(self, sdk: Any, batch_id: str) -> list[Outcome]:
        outcomes: list[Outcome] = []
        async for item in await sdk.messages.batches.results(batch_id):
            result = item.result
            if result.type == "succeeded":
                outcomes.append({"custom_id": item.custom_id, "ok": True,
                                 "body": result.message.model_dump(mode="json")})
            elif result.type == "errored":
                error = result.error.error
                outcomes.append({"custom_id": item.custom_id, "ok": False, "error": f"{error.type}: {error.message}",
                                 "retryable": error.type in _RETRYABLE_ANTHROPIC})
            else:  # canceled, expired: never processed
                outcomes.append({"custom_id": item.custom_id, "ok": False, "retryable": True,
                                 "error": f"the request was {result.type} before it was processed"})
        return outcomes

    def to_result(self, body: dict[str, Any]) -> ChatResult:
        from sciresearcher.llm.anthropic_format import from_anthropic

        message, usage, finish, model = from_anthropic(body)
        return ChatResult(message=message, usage=usage, finish_reason=finish, model=model)

    def map_error(self, exc: Exception, model: str, base_url: str | None) -> ProviderError:
        from sciresearcher.llm.anthropic_backend import map_anthropic_error

        return map_anthropic_error(exc, model, base_url)


class OpenAIBatches:
    provider = "openai"
    endpoint = "/v1/chat/completions"

    def body(self, client: Any, messages: list[Message], tools: list[dict[str, Any]] | None,
             sampling: dict[str, Any]) -> dict[str, Any]:
        return client._request(messages, tools, sampling)

    async def submit(self, sdk: Any, items: list[tuple[str, dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
        lines = "".join(json.dumps({"custom_id": c, "method": "POST", "url": self.endpoint, "body": b},
                                   ensure_ascii=False) + "\n" for c, b in items)
        upload = await sdk.files.create(file=("batch.jsonl", lines.encode(), "application/jsonl"), purpose="batch")
        batch = await sdk.batches.create(input_file_id=upload.id, endpoint=self.endpoint, completion_window="24h")
        return batch.id, {"input_file_id": upload.id}

    async def status(self, sdk: Any, batch_id: str) -> tuple[bool, str]:
        batch = await sdk.batches.retrieve(batch_id)
        return batch.status in ("completed", "failed", "expired", "cancelled"), batch.status

    async def results(self, sdk: Any, batch_id: str) -> list[Outcome]:
        batch = await sdk.batches.retrieve(batch_id)
        outcomes: list[Outcome] = []
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            content = await sdk.files.content(file_id)
            for line in content.text.splitlines():
                if line.strip():
                    outcomes.append(self._outcome(json.loads(line)))
        if batch.status == "failed" and not outcomes:
            errors = getattr(batch, "errors", None)
            detail = "; ".join(e.message or "" for e in (errors.data or [])) if errors else "no detail"
            raise ProviderError(f"OpenAI batch {batch_id} failed validation: {detail}", retryable=False)
        return outcomes

    @staticmethod
    def _outcome(line: dict[str, Any]) -> Outcome:
        custom_id = line.get("custom_id")
        response = line.get("response") or {}
        if response.get("status_code") == 200 and isinstance(response.get("body"), dict):
            return {"custom_id": custom_id, "ok": True, "body": response["body"]}
        status = response.get("status_code")
        error = line.get("error") or (response.get("body") or {}).get("error") or {}
        message = error.get("message") or "no result"
        return {"custom_id": custom_id, "ok": False, "error": f"HTTP {status}: {message}" if status else message,
                "retryable": status is None or status == 429 or status >= 500}

    def to_result(self, body: dict[str, Any]) -> ChatResult:
        from sciresearcher.llm.openai_backend import _result

        return _result(body)

    def map_error(self, exc: Exception, model: str, base_url: str | None) -> ProviderError:
        from sciresearcher.llm.openai_backend import map_openai_error

        return map_openai_error(exc, model, base_url)
