"""A local HTTP server on 127.0.0.1 speaking Anthropic's and OpenAI's documented APIs, online and batch.

For tests and benchmarks that drive the real SDK clients: the Messages API (`POST /v1/messages`) and
Message Batches (`POST /v1/messages/batches`, `GET .../{id}`, `GET .../{id}/results` as JSONL, `POST
.../{id}/cancel`); chat completions (`POST /v1/chat/completions`), files (`POST /v1/files` multipart, `GET
/v1/files/{id}/content`) and the Batch API (`POST /v1/batches`, `GET /v1/batches/{id}`, `POST .../cancel`).
Bodies follow the providers' documented formats: batch statuses in_progress -> ended (Anthropic) and
validating -> in_progress -> finalizing -> completed (OpenAI), each advancing one step per status poll
(`polls_to_end`), result lines with `custom_id`, errored items as `errored` results / error-file lines.

Replies come from `reply(provider, body)`: a dict with `content`, optional `thinking`, `tool_calls`
([{"name", "arguments"}]) and `output_tokens`, or a `Fault` (from `testserver`): online a Fault is an HTTP
error, in a batch it errors that item only (`bad_request`: invalid_request_error / HTTP 400 in the error file;
other kinds: api_error / HTTP 5xx, which clients may resubmit). Usage is computed by the prompt-cache
simulations of `cache_sim.py`, from the breakpoints each request carries (Anthropic) or its prefix
(OpenAI). `submissions`, `polls` and `requests` record what clients did. Not an inference engine.
"""

from __future__ import annotations

import datetime
import itertools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler
from typing import Any

from sciresearcher.llm.cache_sim import AnthropicCacheSim, OpenAICacheSim, text_tokens
from sciresearcher.llm.testserver import Fault, LoopbackServer

Reply = Callable[[str, dict[str, Any]], dict[str, Any] | Fault]
_STATUS = {"rate_limit": 429, "server_error": 500, "bad_request": 400, "not_found": 404}
_OPENAI_STEPS = ("validating", "in_progress", "finalizing", "completed")


def _now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z")


@dataclass
class _Batch:
    id: str
    provider: str
    requests: list[tuple[str, dict[str, Any]]]
    created: int
    input_file_id: str | None = None
    polls: int = 0
    canceled: bool = False
    results: list[dict[str, Any]] | None = None
    files: dict[str, str] = field(default_factory=dict)


class ProviderServer(LoopbackServer):
    def __init__(self, reply: Reply | None = None, *, polls_to_end: int = 2, min_cache_tokens: int = 1024) -> None:
        self.reply: Reply = reply or (lambda provider, body: {"content": "ok"})
        self.polls_to_end = polls_to_end
        self.anthropic_cache = AnthropicCacheSim(min_cache_tokens)
        self.openai_cache = OpenAICacheSim(min_cache_tokens)
        self.requests: list[tuple[str, str, Any]] = []  # (method, path, JSON body or None)
        self.submissions: list[str] = []  # batch ids, in creation order
        self.polls = 0
        self.batches: dict[str, _Batch] = {}
        self.files: dict[str, bytes] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._httpd = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        """The root URL (the anthropic SDK's base_url); OpenAI clients use `openai_base_url`."""
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"

    # ------------------------------------------------------------------ one reply in each format
    def anthropic_message(self, body: dict[str, Any], spec: dict[str, Any], tier: str = "standard") -> dict:
        content: list[dict[str, Any]] = []
        if spec.get("thinking"):
            content.append({"type": "thinking", "thinking": spec["thinking"], "signature": "sig-" + self._id("")})
        if spec.get("content"):
            content.append({"type": "text", "text": spec["content"]})
        for call in spec.get("tool_calls") or []:
            content.append({"type": "tool_use", "id": self._id("toolu_"), "name": call["name"],
                            "input": call.get("arguments") or {}})
        output = spec.get("output_tokens") or max(1, text_tokens(content))
        usage = {**self.anthropic_cache.usage(body), "output_tokens": output, "service_tier": tier}
        stop = spec.get("stop") or ("tool_use" if spec.get("tool_calls") else "end_turn")
        return {"id": self._id("msg_"), "type": "message", "role": "assistant", "model": body.get("model"),
                "content": content, "stop_reason": stop, "stop_sequence": None, "usage": usage}

    def openai_completion(self, body: dict[str, Any], spec: dict[str, Any]) -> dict:
        message: dict[str, Any] = {"role": "assistant", "content": spec.get("content")}
        if spec.get("thinking"):
            message["reasoning_content"] = spec["thinking"]
        calls = [{"id": self._id("call_"), "type": "function",
                  "function": {"name": c["name"], "arguments": json.dumps(c.get("arguments") or {})}}
                 for c in spec.get("tool_calls") or []]
        if calls:
            message["tool_calls"] = calls
        prompt, cached = self.openai_cache.usage(body)
        output = spec.get("output_tokens") or max(1, text_tokens(message))
        return {"id": self._id("chatcmpl-"), "object": "chat.completion", "created": 0, "model": body.get("model"),
                "choices": [{"index": 0, "message": message, "logprobs": None,
                             "finish_reason": "tool_calls" if calls else "stop"}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": output, "total_tokens": prompt + output,
                          "prompt_tokens_details": {"cached_tokens": cached}}}

    # ------------------------------------------------------------------ batches
    def _poll(self, batch: _Batch) -> None:
        with self._lock:
            self.polls += 1
            batch.polls += 1
            if batch.results is None and (batch.canceled or batch.polls >= self.polls_to_end):
                self._run(batch)

    def _run(self, batch: _Batch) -> None:
        """Processes every request of a finished batch, in order, through the same cache as online calls."""
        batch.results = []
        for custom_id, params in batch.requests:
            if batch.canceled:
                batch.results.append({"custom_id": custom_id, "kind": "canceled"})
                continue
            spec = self.reply(batch.provider, params)
            if isinstance(spec, Fault):
                status = _STATUS.get(spec.kind, 500)
                batch.results.append({"custom_id": custom_id, "kind": "errored", "status": status,
                                      "message": f"{'invalid request' if status == 400 else 'error'} ({spec.kind})"})
            elif batch.provider == "anthropic":
                batch.results.append({"custom_id": custom_id, "kind": "succeeded",
                                      "body": self.anthropic_message(params, spec, tier="batch")})
            else:
                batch.results.append({"custom_id": custom_id, "kind": "succeeded",
                                      "body": self.openai_completion(params, spec)})

    def _counts(self, batch: _Batch) -> dict[str, int]:
        kinds = [r["kind"] for r in batch.results or []]
        return {k: kinds.count(k) for k in ("succeeded", "errored", "canceled", "expired")}

    def anthropic_batch(self, batch: _Batch, base_url: str) -> dict[str, Any]:
        ended = batch.results is not None
        counts = self._counts(batch)
        status = "ended" if ended else "canceling" if batch.canceled else "in_progress"
        return {"id": batch.id, "type": "message_batch", "processing_status": status,
                "request_counts": {"processing": 0 if ended else len(batch.requests), **counts},
                "ended_at": _now_iso() if ended else None, "created_at": _now_iso(), "expires_at": _now_iso(),
                "archived_at": None, "cancel_initiated_at": _now_iso() if batch.canceled else None,
                "results_url": f"{base_url}/v1/messages/batches/{batch.id}/results" if ended else None}

    def anthropic_results(self, batch: _Batch) -> bytes:
        lines = []
        for r in batch.results or []:
            if r["kind"] == "succeeded":
                result = {"type": "succeeded", "message": r["body"]}
            elif r["kind"] == "errored":
                kind = {400: "invalid_request_error", 429: "rate_limit_error"}.get(r["status"], "api_error")
                result = {"type": "errored", "error": {"type": "error", "error": {"type": kind,
                                                                                 "message": r["message"]}}}
            else:
                result = {"type": r["kind"]}
            lines.append(json.dumps({"custom_id": r["custom_id"], "result": result}))
        return ("\n".join(lines) + "\n").encode()

    def openai_batch(self, batch: _Batch) -> dict[str, Any]:
        if batch.results is not None and not batch.files:
            ok = [r for r in batch.results if r["kind"] == "succeeded"]
            bad = [r for r in batch.results if r["kind"] != "succeeded"]
            for name, rows in (("output", ok), ("error", bad)):
                if rows:
                    file_id = self._id("file-")
                    self.files[file_id] = "".join(json.dumps(_openai_line(self._id("batch_req_"), r)) + "\n"
                                                  for r in rows).encode()
                    batch.files[name] = file_id
        if batch.results is not None:
            status = "cancelled" if batch.canceled else "completed"
        else:  # validating, in_progress, finalizing: advancing one step per poll
            status = "cancelling" if batch.canceled else _OPENAI_STEPS[min(batch.polls, len(_OPENAI_STEPS) - 2)]
        counts = self._counts(batch)
        return {"id": batch.id, "object": "batch", "endpoint": "/v1/chat/completions", "errors": None,
                "input_file_id": batch.input_file_id, "completion_window": "24h", "status": status,
                "output_file_id": batch.files.get("output"), "error_file_id": batch.files.get("error"),
                "created_at": batch.created, "in_progress_at": None, "expires_at": batch.created + 86_400,
                "completed_at": None, "failed_at": None, "expired_at": None, "cancelled_at": None,
                "request_counts": {"total": len(batch.requests), "completed": counts["succeeded"],
                                   "failed": len(batch.results or []) - counts["succeeded"]},
                "metadata": None}


def _openai_line(line_id: str, r: dict[str, Any]) -> dict[str, Any]:
    if r["kind"] == "succeeded":
        response = {"status_code": 200, "request_id": "req_" + line_id, "body": r["body"]}
        return {"id": line_id, "custom_id": r["custom_id"], "response": response, "error": None}
    if r["kind"] == "errored":
        kind = "invalid_request_error" if r["status"] == 400 else "server_error"
        body = {"error": {"message": r["message"], "type": kind, "param": None, "code": None}}
        response = {"status_code": r["status"], "request_id": "req_" + line_id, "body": body}
        return {"id": line_id, "custom_id": r["custom_id"], "response": response, "error": None}
    return {"id": line_id, "custom_id": r["custom_id"], "response": None,
            "error": {"code": "batch_cancelled", "message": "the batch was cancelled before this request ran"}}


def _handler_for(server: ProviderServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, payload: bytes | dict[str, Any], content_type: str = "application/json") -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str, anthropic: bool) -> None:
            kind = {400: "invalid_request_error", 404: "not_found_error", 429: "rate_limit_error"}.get(status,
                                                                                                       "api_error")
            body = ({"type": "error", "error": {"type": kind, "message": message}} if anthropic
                    else {"error": {"message": message, "type": kind, "code": status}})
            self._send(status, body)

        def _batch(self, batch_id: str, anthropic: bool) -> _Batch | None:
            batch = server.batches.get(batch_id)
            if batch is None:
                self._error(404, f"no batch {batch_id}", anthropic)
            return batch

        def do_GET(self) -> None:
            path = self.path.split("?")[0].rstrip("/")
            with server._lock:
                server.requests.append(("GET", path, None))
            if m := re.fullmatch(r"/v1/messages/batches/([\w-]+)/results", path):
                if (batch := self._batch(m[1], True)) is not None:
                    self._send(200, server.anthropic_results(batch), "application/binary")
            elif m := re.fullmatch(r"/v1/messages/batches/([\w-]+)", path):
                if (batch := self._batch(m[1], True)) is not None:
                    server._poll(batch)
                    self._send(200, server.anthropic_batch(batch, server.base_url))
            elif m := re.fullmatch(r"/v1/batches/([\w-]+)", path):
                if (batch := self._batch(m[1], False)) is not None:
                    server._poll(batch)
                    self._send(200, server.openai_batch(batch))
            elif (m := re.fullmatch(r"/v1/files/([\w-]+)/content", path)) and m[1] in server.files:
                self._send(200, server.files[m[1]], "application/octet-stream")
            else:
                self._error(404, f"no route GET {path}", path.startswith("/v1/messages"))

        def do_POST(self) -> None:
            path = self.path.split("?")[0].rstrip("/")
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if path == "/v1/files":
                return self._upload(raw)
            body = json.loads(raw or b"{}")
            with server._lock:
                server.requests.append(("POST", path, body))
            if path == "/v1/messages":
                spec = server.reply("anthropic", body)
                if isinstance(spec, Fault):
                    return self._error(_STATUS.get(spec.kind, 500), f"fault: {spec.kind}", True)
                return self._send(200, server.anthropic_message(body, spec))
            if path == "/v1/chat/completions":
                spec = server.reply("openai", body)
                if isinstance(spec, Fault):
                    return self._error(_STATUS.get(spec.kind, 500), f"fault: {spec.kind}", False)
                return self._send(200, server.openai_completion(body, spec))
            if path == "/v1/messages/batches":
                return self._create_anthropic(body)
            if path == "/v1/batches":
                return self._create_openai(body)
            if m := re.fullmatch(r"/v1/(messages/batches|batches)/([\w-]+)/cancel", path):
                anthropic = m[1] == "messages/batches"
                if (batch := self._batch(m[2], anthropic)) is not None:
                    with server._lock:
                        if batch.results is None:
                            batch.canceled = True
                    return self._send(200, server.anthropic_batch(batch, server.base_url) if anthropic
                                      else server.openai_batch(batch))
                return None
            return self._error(404, f"no route POST {path}", path.startswith("/v1/messages"))

        def _create_anthropic(self, body: dict[str, Any]) -> None:
            requests = body.get("requests") or []
            ids = [r.get("custom_id", "") for r in requests]
            if not requests or len(set(ids)) != len(ids) or not all(re.fullmatch(r"[\w-]{1,64}", i) for i in ids):
                return self._error(400, "requests: custom_id must be unique and match ^[a-zA-Z0-9_-]{1,64}$", True)
            with server._lock:
                batch = _Batch(server._id("msgbatch_"), "anthropic", [(r["custom_id"], r["params"]) for r in requests],
                               created=0)
                server.batches[batch.id] = batch
                server.submissions.append(batch.id)
            return self._send(200, server.anthropic_batch(batch, server.base_url))

        def _create_openai(self, body: dict[str, Any]) -> None:
            data = server.files.get(body.get("input_file_id", ""))
            if data is None or body.get("endpoint") != "/v1/chat/completions":
                return self._error(400, "input_file_id must name an uploaded file; endpoint /v1/chat/completions",
                                   False)
            lines = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
            ids = [line.get("custom_id") for line in lines]
            if len(set(ids)) != len(ids) or any(line.get("url") != "/v1/chat/completions" for line in lines):
                return self._error(400, "each line needs a unique custom_id and url /v1/chat/completions", False)
            with server._lock:
                batch = _Batch(server._id("batch_"), "openai", [(line["custom_id"], line["body"]) for line in lines],
                               created=1_700_000_000, input_file_id=body["input_file_id"])
                server.batches[batch.id] = batch
                server.submissions.append(batch.id)
            return self._send(200, server.openai_batch(batch))

        def _upload(self, raw: bytes) -> None:
            message = BytesParser(policy=email_policy).parsebytes(
                b"Content-Type: " + self.headers.get("Content-Type", "").encode() + b"\r\n\r\n" + raw)
            fields = {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
                      for part in message.iter_parts()}
            with server._lock:
                server.requests.append(("POST", "/v1/files", {"purpose": (fields.get("purpose") or b"").decode()}))
                file_id = server._id("file-")
                server.files[file_id] = fields.get("file") or b""
            self._send(200, {"id": file_id, "object": "file", "bytes": len(server.files[file_id]), "created_at": 0,
                             "filename": "batch.jsonl", "purpose": "batch", "status": "processed"})

    return Handler
