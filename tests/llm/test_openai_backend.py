"""The openai backend over real HTTP against the 127.0.0.1 test server: replies, tools, streaming, faults."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC

import pytest

from sciresearcher.errors import ConfigError, ProviderError
from sciresearcher.llm import LLMConfig, make_client
from sciresearcher.llm.testserver import Fault, OpenAITestServer
from sciresearcher.records import Message, ToolCall

USER = [Message.system("sys"), Message.user("hello")]
HTTP_CLIENT = {"name": "auto"}


@pytest.fixture(autouse=True, params=["aiohttp", "httpx"])
def http_client(request):
    """Every test here runs over both of the SDK's transports (aiohttp is the default where installed)."""
    HTTP_CLIENT["name"] = request.param
    yield request.param
    HTTP_CLIENT["name"] = "auto"


def client_for(server: OpenAITestServer, **kw):
    cfg = {"backend": "openai", "model": "test-model", "base_url": server.base_url, "backoff_base_s": 0.01,
           "max_retries": 3, "timeout_s": 5.0, "http_client": HTTP_CLIENT["name"]}
    return make_client(LLMConfig(**{**cfg, **kw}))


def chat(client, messages=USER, tools=None, **sampling):
    return asyncio.run(client.chat(messages, tools=tools, **sampling))


@pytest.mark.parametrize("stream", [False, True])
def test_plain_reply_and_usage(stream):
    with OpenAITestServer([{"content": "hi there, friend", "reasoning_content": "thinking..."}]) as srv:
        client = client_for(srv, stream=stream)
        result = chat(client, temperature=0.3)
    assert result.message.content == "hi there, friend"
    assert result.message.reasoning_content == "thinking..."
    assert result.finish_reason == "stop" and result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0
    assert srv.requests[0]["temperature"] == 0.3 and srv.requests[0]["messages"][1] == {"role": "user",
                                                                                       "content": "hello"}
    assert client.ledger.calls == 1 and client.ledger.usage.total_tokens == result.usage.total_tokens


@pytest.mark.parametrize("stream", [False, True])
def test_tool_calls_parsed_into_records(stream):
    reply = {"tool_calls": [{"id": "c1", "name": "search", "arguments": {"query": "p53 apoptosis"}},
                            {"id": "c2", "name": "python", "arguments": {"code": "print(1+1)"}}]}
    tools = [{"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}]
    with OpenAITestServer([reply]) as srv:
        result = chat(client_for(srv, stream=stream), tools=tools)
    calls = result.message.tool_calls
    assert [c.function.name for c in calls] == ["search", "python"]
    assert calls[0].function.parsed_arguments() == {"query": "p53 apoptosis"}
    assert result.finish_reason == "tool_calls" and srv.requests[0]["tools"] == tools


def test_multi_turn_sends_tool_calls_and_results_back():
    history = USER + [
        Message(role="assistant", reasoning_content="r", tool_calls=[ToolCall.make("c1", "search", {"q": 1})]),
        Message.tool("result text", "c1", "search"),
    ]
    with OpenAITestServer(["done"]) as srv:
        chat(client_for(srv), messages=history)
    sent = srv.requests[0]["messages"]
    assert sent[2]["tool_calls"][0]["function"] == {"name": "search", "arguments": '{"q": 1}'}
    assert sent[3] == {"role": "tool", "content": "result text", "tool_call_id": "c1", "name": "search"}


def test_a_turns_training_weight_is_not_sent_to_the_api():
    history = USER + [
        Message(role="assistant", tool_calls=[ToolCall.make("c1", "python", {"code": "print(6 *"})], weight=0),
        Message.tool("SyntaxError: '(' was never closed", "c1", "python"),
    ]
    with OpenAITestServer(["done"]) as srv:
        chat(client_for(srv), messages=history)
    sent = srv.requests[0]["messages"]
    assert history[2].to_openai()["weight"] == 0 and all("weight" not in m for m in sent)
    assert sent[2]["tool_calls"][0]["function"]["arguments"] == '{"code": "print(6 *"}'


def test_429_retry_after_is_honoured():
    with OpenAITestServer(["ok"]) as srv:
        srv.inject(Fault("rate_limit", retry_after=0.5))
        started = time.perf_counter()
        client = client_for(srv)
        result = chat(client)
    assert result.message.content == "ok" and len(srv.requests) == 2
    assert time.perf_counter() - started >= 0.5 and client.ledger.retries == 1


def test_500_retried_then_succeeds_and_gives_up_after_max():
    with OpenAITestServer(["ok"]) as srv:
        srv.inject(Fault("server_error"), Fault("server_error"))
        assert chat(client_for(srv)).message.content == "ok"
    with OpenAITestServer(["ok"]) as srv:
        srv.inject(*[Fault("server_error")] * 5)
        with pytest.raises(ProviderError, match="gave up after 3 attempts"):
            chat(client_for(srv, max_retries=2))
        assert len(srv.requests) == 3


def test_4xx_not_retried():
    with OpenAITestServer(["ok"]) as srv:
        srv.inject(Fault("not_found"))
        with pytest.raises(ProviderError) as err:
            chat(client_for(srv))
    assert err.value.status_code == 404 and not err.value.retryable and len(srv.requests) == 1
    assert "--llm.model" in str(err.value)


def test_timeout_retried_then_provider_error():
    with OpenAITestServer(["ok"]) as srv:
        srv.inject(Fault("hang", seconds=3), Fault("hang", seconds=3))
        with pytest.raises(ProviderError, match="timed out"):
            chat(client_for(srv, timeout_s=0.3, max_retries=1))
        assert len(srv.requests) == 2


def test_truncated_json_is_retryable():
    with OpenAITestServer(["recovered"]) as srv:
        srv.inject(Fault("truncated"))
        client = client_for(srv)
        assert chat(client).message.content == "recovered"
        assert client.ledger.retries == 1


def test_malformed_tool_arguments_kept_raw():
    with OpenAITestServer(["unused"]) as srv:
        srv.inject(Fault("bad_arguments"))
        result = chat(client_for(srv))
    raw = result.message.tool_calls[0].function.arguments
    with pytest.raises(ValueError):
        result.message.tool_calls[0].function.parsed_arguments()
    assert raw.startswith('{"query"')


def test_response_cache_hit_skips_the_server(tmp_path):
    with OpenAITestServer(["first", "second", "third"]) as srv:
        client = client_for(srv, cache_dir=str(tmp_path / "cache"))
        a, b = chat(client), chat(client)
        c = chat(client, temperature=0.9)  # a different request
        d = chat(client, cache_salt="sample-1")  # same request, another sample: its own entry
        fresh = client_for(srv, cache_dir=str(tmp_path / "cache"))  # a new process would see the same files
        e = chat(fresh, cache_salt="sample-1")
    assert a.message.content == b.message.content == "first" and b.cached and not a.cached
    assert c.message.content == "second" and d.message.content == e.message.content == "third" and e.cached
    assert len(srv.requests) == 3 and client.ledger.cache_hits == 1 and "cache_salt" not in srv.requests[2]


def test_concurrency_is_bounded():
    with OpenAITestServer(lambda body: "ok", latency_s=0.1) as srv:
        client = client_for(srv, max_concurrency=3)

        async def many():
            return await asyncio.gather(*(client.chat(USER) for _ in range(12)))

        asyncio.run(many())
    assert srv.max_active == 3


def test_cost_accounting_uses_price_table():
    with OpenAITestServer(["ok"]) as srv:
        client = client_for(srv, model="gpt-4o-mini-2024-07-18")
        result = chat(client)
    expected = (result.usage.prompt_tokens * 0.15 + result.usage.completion_tokens * 0.60) / 1e6
    assert result.usage.cost_usd == pytest.approx(expected) and client.ledger.usage.cost_usd == pytest.approx(expected)


def test_missing_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(ConfigError, match="MY_KEY"):
        make_client(LLMConfig(backend="openai", model="m", base_url="https://api.example.com/v1",
                              api_key_env="MY_KEY"))


def test_bad_config_errors():
    with pytest.raises(ConfigError, match="no model is configured"):
        make_client(LLMConfig(backend="openai"))
    with pytest.raises(ConfigError, match="does not exist"):
        make_client(LLMConfig(backend="local", model="/no/such/dir"))


def test_cut_stream_is_retryable():
    with OpenAITestServer(["whole reply"]) as srv:
        srv.inject(Fault("cut_stream"))
        client = client_for(srv, stream=True)
        assert chat(client).message.content == "whole reply"
    assert client.ledger.retries == 1 and len(srv.requests) == 2


def test_server_runs_32_requests_at_once_and_lists_models():
    with OpenAITestServer(lambda body: "ok", latency_s=0.3) as srv:
        client = client_for(srv, max_concurrency=32)

        async def many():
            return await asyncio.gather(*(client.chat(USER) for _ in range(32)))

        assert all(r.message.content == "ok" for r in asyncio.run(many()))
        assert srv.max_active == 32  # all 32 were inside the server together: nothing serialised them

        async def models():
            return [m.id async for m in client._client.models.list()]

        assert asyncio.run(models()) == ["test-model"]


def test_retry_after_forms():
    import random
    from datetime import datetime, timedelta
    from email.utils import format_datetime

    from sciresearcher.llm.retry import backoff_delay, parse_retry_after

    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 < parse_retry_after({"retry-after": later}) <= 30
    assert parse_retry_after({"retry-after": "soon"}) is None and parse_retry_after({}) is None
    rng = random.Random(0)
    delays = [backoff_delay(a, 1.0, 8.0, None, rng) for a in range(8) for _ in range(50)]
    assert max(delays) <= 8.0 and len(set(delays)) > 100  # capped, jittered
    assert backoff_delay(0, 1.0, 8.0, 5.0, rng) >= 5.0  # never shorter than Retry-After
    assert backoff_delay(0, 1.0, 8.0, 3600.0, rng, max_retry_after=30.0) <= 30.0  # sources cap what they wait


def test_tiny_model_behind_the_server(tiny_model_dir):
    from sciresearcher.llm.testserver import local_model_reply

    tools = [{"type": "function", "function": {"name": "search", "description": "d",
                                               "parameters": {"type": "object", "properties": {}}}}]
    with OpenAITestServer(local_model_reply(str(tiny_model_dir))) as srv:
        for stream in (False, True):
            result = chat(client_for(srv, stream=stream), tools=tools, max_tokens=6, seed=1, temperature=1.0)
            assert result.message.role == "assistant" and result.finish_reason in {"stop", "length", "tool_calls"}
            assert result.usage.prompt_tokens > 20 and 0 < result.usage.completion_tokens <= 6
    assert srv.requests[0]["tools"] == tools and srv.requests[1]["stream"] is True


def test_unknown_backend_lists_the_valid_ones():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="'openai', 'anthropic' or 'local'"):
        LLMConfig(backend="vertex", model="m")
    with pytest.raises(ConfigError, match="valid backends: openai, anthropic, local"):
        make_client(LLMConfig.model_construct(backend="vertex", model="m"))


def test_thinking_switch_and_reasoning_policy():
    history = USER + [Message(role="assistant", content="a", reasoning_content="r"), Message.user("more")]
    with OpenAITestServer(["x", "y", "z"]) as srv:
        chat(client_for(srv, enable_thinking=False, extra_body={"chat_template_kwargs": {"k": 1}}), messages=history)
        chat(client_for(srv, send_reasoning=False), messages=history, enable_thinking=True)
        chat(client_for(srv), messages=history)
    first, second, third = srv.requests
    assert first["chat_template_kwargs"] == {"k": 1, "enable_thinking": False}
    assert first["messages"][2]["reasoning_content"] == "r" and "enable_thinking" not in first
    assert second["chat_template_kwargs"] == {"enable_thinking": True}
    assert "reasoning_content" not in second["messages"][2] and "chat_template_kwargs" not in third


def test_one_client_across_event_loops_and_threads(caplog):
    import threading

    with OpenAITestServer(lambda body: "ok", latency_s=0.02) as srv:
        client = client_for(srv, max_concurrency=4)
        for _ in range(5):  # a sync caller running asyncio.run per call: no state piles up, no noise
            assert chat(client).message.content == "ok"
        assert len(client._loops) == 1

        counts: list[int] = []

        def worker() -> None:
            async def go():
                return await asyncio.gather(*(client.chat(USER) for _ in range(8)))

            counts.append(len(asyncio.run(go())))

        threads = [threading.Thread(target=worker) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert counts == [8, 8, 8] and "Event loop is closed" not in caplog.text


def test_each_loops_sdk_client_is_closed_when_its_loop_ends(http_client):
    """Sync callers run one loop per call: each loop's HTTP client and sockets close with the loop."""
    import gc
    import sys

    leaks: list[str] = []
    old_hook = sys.unraisablehook
    sys.unraisablehook = lambda u: leaks.append(f"{u.exc_value!r}")
    try:
        with OpenAITestServer(lambda body: "ok") as srv:
            client = client_for(srv)
            sdk_clients = []

            async def call():
                sdk_clients.append(client._client)
                return (await client.chat(USER)).message.content

            assert [asyncio.run(call()) for _ in range(3)] == ["ok"] * 3
            assert len({id(c) for c in sdk_clients}) == 3 and all(c.is_closed() for c in sdk_clients)

            async def explicit():
                async with make_client(LLMConfig(backend="openai", model="m", base_url=srv.base_url,
                                                 http_client=http_client)) as own:
                    await own.chat(USER)
                    sdk = own._client
                assert sdk.is_closed()  # closed by `async with`, before the loop ends
                return own

            asyncio.run(explicit())
            sdk_clients.clear()
            client = None
            gc.collect()
    finally:
        sys.unraisablehook = old_hook
    assert not leaks, leaks


def test_transport_choice(monkeypatch):
    import importlib.util

    with OpenAITestServer(lambda body: "ok") as srv:
        assert client_for(srv, http_client="auto").transport == "aiohttp"  # installed with the core package
        real = importlib.util.find_spec
        monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "aiohttp" else real(name, *a))
        assert client_for(srv, http_client="auto").transport == "httpx"
        with pytest.raises(ConfigError, match="aiohttp is not installed") as err:
            client_for(srv, http_client="aiohttp")
        assert "--llm.http-client httpx" in err.value.hint


def test_refused_connection_says_so_not_timeout(http_client):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(LLMConfig(backend="openai", model="m", base_url=f"http://127.0.0.1:{port}/v1",
                                   max_retries=0, http_client=http_client))
    with pytest.raises(ProviderError) as err:
        chat(client)
    assert f"cannot connect to http://127.0.0.1:{port}/v1: connection refused" in str(err.value)
    assert err.value.__cause__.retryable and "is the server running" in str(err.value)  # retried, then given up
