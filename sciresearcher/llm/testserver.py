"""An OpenAI chat-completions-compatible HTTP server on 127.0.0.1, for tests and benchmarks.

`OpenAITestServer` speaks enough of the protocol for real SDK clients: `POST /v1/chat/completions`
(JSON or SSE streaming, tool calls, usage) and `GET /v1/models`. Replies come from a script (a list
consumed in order) or a function of the request JSON; each reply is a string, a dict with `content`,
`reasoning_content`, `tool_calls` ([{"name", "arguments"}]), optional `finish_reason` and `usage`, or a
`Fault`; `local_model_reply(model_dir)` answers with a local transformers model instead (the tiny offline
Qwen3 in tests). Faults can also be queued with `inject(...)` to hit the next requests: 429 with
Retry-After, 500, a hang past the client's timeout, a truncated JSON body, an SSE stream cut before its
end, malformed tool-call arguments, a 400, a 404. Every request body is recorded in `requests`.

Each request runs in its own thread, with an optional fixed `latency_s`, so concurrent requests overlap
as they would against a real server (`max_active` records the most seen at once). It is a protocol
double for tests and benchmarks, not an inference engine: use vLLM or SGLang to serve models.
"""

from __future__ import annotations

import collections
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass(frozen=True)
class Fault:
    """kind: rate_limit | server_error | hang | truncated | cut_stream | bad_arguments | bad_request | not_found.

    `retry_after` (seconds) goes in the 429's Retry-After header; `seconds` is how long a hang lasts.
    """

    kind: str
    retry_after: float | None = None
    seconds: float = 30.0


ScriptReply = str | dict[str, Any] | Fault


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):  # a client that timed out and hung up: expected
            return
        super().handle_error(request, client_address)


class LoopbackServer:
    """Lifecycle shared by the recorded-response servers: serve `_handler()` on 127.0.0.1 in a thread."""

    _httpd: _Server | None = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self) -> Self:
        self._httpd = _Server(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class OpenAITestServer(LoopbackServer):
    def __init__(self, replies: list[ScriptReply] | Callable[[dict[str, Any]], ScriptReply] | None = None,
                 *, latency_s: float = 0.0, model: str = "test-model") -> None:
        self.replies = replies if replies is not None else ["ok"]
        self.latency_s = latency_s
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self._faults: collections.deque[Fault] = collections.deque()
        self._lock = threading.Lock()
        self._cursor = 0
        self._ids = itertools.count()
        self._httpd: _Server | None = None
        self.active = 0
        self.max_active = 0

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    # ------------------------------------------------------------------ scripting
    def inject(self, *faults: Fault) -> None:
        """Queues faults; each of the next requests takes one before normal replies resume."""
        with self._lock:
            self._faults.extend(faults)

    def _next(self, body: dict[str, Any]) -> ScriptReply:
        with self._lock:
            self.requests.append(body)
            if self._faults:
                return self._faults.popleft()
            if callable(self.replies):
                pass
            else:
                if self._cursor >= len(self.replies):
                    return Fault("bad_request")
                reply = self.replies[self._cursor]
                self._cursor += 1
                return reply
        return self.replies(body)  # type: ignore[operator]

    # ------------------------------------------------------------------ payloads
    def completion(self, reply: str | dict[str, Any], body: dict[str, Any], *, bad_args: bool = False) -> dict:
        spec = {"content": reply} if isinstance(reply, str) else dict(reply)
        message: dict[str, Any] = {"role": "assistant", "content": spec.get("content")}
        if spec.get("reasoning_content"):
            message["reasoning_content"] = spec["reasoning_content"]
        calls = []
        for call in spec.get("tool_calls") or []:
            args = call.get("arguments", {})
            args = args if isinstance(args, str) else json.dumps(args)
            if bad_args:
                args = args[: max(1, len(args) // 2)]  # cut mid-object: invalid JSON
            calls.append({"id": call.get("id") or f"call_{next(self._ids)}", "type": "function",
                          "function": {"name": call["name"], "arguments": args}})
        if calls:
            message["tool_calls"] = calls
        usage = spec.get("usage") or {}
        prompt_tokens = usage.get("prompt_tokens")
        if prompt_tokens is None:  # a rough count: a quarter of the characters
            prompt_tokens = sum(len(str(m.get("content") or "")) // 4 + 1 for m in body.get("messages", []))
        completion_tokens = usage.get("completion_tokens")
        if completion_tokens is None:
            completion_tokens = len(json.dumps(message)) // 4 + 1
        return {
            "id": f"chatcmpl-{next(self._ids)}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", self.model),
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": spec.get("finish_reason") or ("tool_calls" if calls else "stop")}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }

    def stream_chunks(self, completion: dict[str, Any]) -> Iterator[dict[str, Any]]:
        base = {k: completion[k] for k in ("id", "created", "model")} | {"object": "chat.completion.chunk"}
        msg = completion["choices"][0]["message"]
        yield base | {"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
        if msg.get("reasoning_content"):
            yield base | {"choices": [{"index": 0, "delta": {"reasoning_content": msg["reasoning_content"]},
                                       "finish_reason": None}]}
        text = msg.get("content") or ""
        for i in range(0, len(text), 8):
            yield base | {"choices": [{"index": 0, "delta": {"content": text[i:i + 8]}, "finish_reason": None}]}
        for idx, call in enumerate(msg.get("tool_calls") or []):
            args = call["function"]["arguments"]
            head = {"index": idx, "id": call["id"], "type": "function",
                    "function": {"name": call["function"]["name"], "arguments": ""}}
            yield base | {"choices": [{"index": 0, "delta": {"tool_calls": [head]}, "finish_reason": None}]}
            for j in range(0, len(args), 5):
                part = {"index": idx, "function": {"arguments": args[j:j + 5]}}
                yield base | {"choices": [{"index": 0, "delta": {"tool_calls": [part]}, "finish_reason": None}]}
        yield base | {"choices": [{"index": 0, "delta": {}, "finish_reason": completion["choices"][0]["finish_reason"]}]}
        yield base | {"choices": [], "usage": completion["usage"]}


def _handler_for(server: OpenAITestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # As production servers do: headers and body leave in one buffered write, flushed at the end of each
        # request (streams flush per chunk), with Nagle off (TCP_NODELAY, as uvicorn under vLLM sets it).
        wbufsize = 1 << 16
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None,
                  content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
            body = json.dumps({"error": {"message": message, "type": "test_fault", "code": status}}).encode()
            self._send(status, body, headers)

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                data = {"object": "list", "data": [{"id": server.model, "object": "model", "owned_by": "test"}]}
                self._send(200, json.dumps(data).encode())
            else:
                self._error(404, f"no route {self.path}")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if not self.path.rstrip("/").endswith("/chat/completions"):
                return self._error(404, f"no route {self.path}")
            with server._lock:
                server.active += 1
                server.max_active = max(server.max_active, server.active)
            try:
                if server.latency_s:
                    time.sleep(server.latency_s)
                self._reply(body, server._next(body))
            finally:
                with server._lock:
                    server.active -= 1

        def _reply(self, body: dict[str, Any], reply: ScriptReply) -> None:
            bad_args = False
            if isinstance(reply, Fault):
                if reply.kind == "rate_limit":
                    headers = {"Retry-After": str(reply.retry_after)} if reply.retry_after is not None else {}
                    return self._error(429, "rate limited", headers)
                if reply.kind == "server_error":
                    return self._error(500, "internal error")
                if reply.kind == "bad_request":
                    return self._error(400, "bad request: no scripted reply left")
                if reply.kind == "not_found":
                    return self._error(404, f"The model `{body.get('model')}` does not exist.")
                if reply.kind == "hang":
                    time.sleep(reply.seconds)
                    return self._error(504, "hung")
                if reply.kind == "truncated":
                    full = json.dumps(server.completion("truncated reply", body)).encode()
                    return self._send(200, full[: len(full) // 2])
                if reply.kind == "cut_stream":
                    return self._cut_stream(body)
                if reply.kind == "bad_arguments":
                    reply, bad_args = {"tool_calls": [{"name": "search", "arguments": {"query": "x" * 20}}]}, True
                else:
                    raise ValueError(f"unknown fault {reply.kind}")
            completion = server.completion(reply, body, bad_args=bad_args)
            if not body.get("stream"):
                return self._send(200, json.dumps(completion).encode())
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            for chunk in server.stream_chunks(completion):
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

        def _cut_stream(self, body: dict[str, Any]) -> None:
            """Half of a streamed reply, then the connection closes: no finish_reason, no [DONE]."""
            completion = server.completion("this reply is cut off before its end", body)
            chunks = list(server.stream_chunks(completion))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            for chunk in chunks[: len(chunks) // 2]:
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            self.close_connection = True

    return Handler


def local_model_reply(model_dir: str, **defaults: Any) -> Callable[[dict[str, Any]], ScriptReply]:
    """A reply function backed by a local transformers model (e.g. the tiny offline Qwen3).

    Each request is rendered with the model's chat template (with the request's `tools`), generated
    under the request's `max_tokens`, `temperature`, `top_p`, `seed` and `stop` (else `defaults`), and
    parsed into content, reasoning and tool calls; usage counts real tokens. Requests are served one at
    a time by the model (it is locked), however many arrive together.
    """
    from sciresearcher.llm.config import LLMConfig
    from sciresearcher.llm.local_backend import LocalClient, parse_qwen_reply
    from sciresearcher.records import Message

    client = LocalClient(LLMConfig(backend="local", model=str(model_dir)))

    def reply(body: dict[str, Any]) -> ScriptReply:
        messages = [Message.from_openai(m) for m in body.get("messages", [])]
        prompt = client.render(messages, body.get("tools"))
        params = {**defaults, **{k: body[k] for k in ("max_tokens", "temperature", "top_p", "seed", "stop")
                                 if body.get(k) is not None}}
        text, n_prompt, n_new, finish = client.generate_text(prompt, params)
        msg = parse_qwen_reply(text)
        calls = [{"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
                 for c in msg.tool_calls or []]
        return {"content": msg.content, "reasoning_content": msg.reasoning_content, "tool_calls": calls,
                "finish_reason": "tool_calls" if calls and finish == "stop" else finish,
                "usage": {"prompt_tokens": n_prompt, "completion_tokens": n_new}}

    return reply


def scripted_agent_reply(tool_turns: int, tool: str = "echo_tool") -> Callable[[dict[str, Any]], ScriptReply]:
    """A reply function for load tests: `tool_turns` tool-call turns, then an HLE-format final answer."""

    def reply(body: dict[str, Any]) -> ScriptReply:
        done = sum(1 for m in body.get("messages", []) if m.get("role") == "tool")
        if done < tool_turns:
            return {"tool_calls": [{"name": tool, "arguments": {"text": f"step {done}"}}]}
        return "Explanation: scripted.\nAnswer: 42\nConfidence: 90%"

    return reply


def main() -> None:
    """`python -m sciresearcher.llm.testserver [--port P] [--latency S] [--tool-turns N | --model-dir DIR]`.

    Prints the base URL on its first line, then serves until killed.
    """
    import argparse

    parser = argparse.ArgumentParser(description="OpenAI-compatible scripted test server on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--tool-turns", type=int, default=3)
    parser.add_argument("--model-dir", default=None, help="answer with this local model instead of a script")
    args = parser.parse_args()
    replies = local_model_reply(args.model_dir) if args.model_dir else scripted_agent_reply(args.tool_turns)
    server = OpenAITestServer(replies, latency_s=args.latency)
    server._httpd = _Server(("127.0.0.1", args.port), _handler_for(server))
    print(server.base_url, flush=True)
    server._httpd.serve_forever(poll_interval=0.05)


if __name__ == "__main__":
    main()
