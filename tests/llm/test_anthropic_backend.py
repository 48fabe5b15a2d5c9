"""The anthropic backend over real HTTP against recorded Messages API responses (no live calls).

Covers the request mapping (system, tools, tool_use/tool_result, signed thinking sent back on the next
turn), the response mapping (thinking -> reasoning_content, tool_use -> ToolCalls, cache-aware usage and
cost), streaming assembly, and the retry policy on 429/529 vs a 400.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from sciresearcher.errors import ConfigError, ProviderError
from sciresearcher.llm import LLMConfig, make_client
from sciresearcher.llm.anthropic_format import anthropic_tool, to_anthropic
from sciresearcher.llm.caching import count_breakpoints
from sciresearcher.records import Message, ToolCall

# The paper's teacher; newer SDKs warn that it is deprecated, which is beside the point here.
pytestmark = pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")

SEARCH = {"type": "function", "function": {
    "name": "search", "description": "Search the literature.",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}}
QUESTION = [Message.system("You are a research agent."), Message.user("What is the Km of hexokinase I?")]
EPHEMERAL = {"type": "ephemeral"}


def client_for(server, **kw):
    cfg = {"backend": "anthropic", "model": "claude-sonnet-4-5", "base_url": server.base_url,
           "backoff_base_s": 0.01, "max_retries": 3, "timeout_s": 5.0, "thinking_budget": 2048}
    return make_client(LLMConfig(**{**cfg, **kw}))


def chat(client, messages=QUESTION, tools=(SEARCH,), **sampling):
    return asyncio.run(client.chat(list(messages), tools=list(tools) or None, **sampling))


@pytest.mark.parametrize("recording,stream", [("thinking_tool_use.json", False), ("thinking_tool_use.sse", True)])
def test_thinking_and_tool_use_round_trip(replay_server, recording, stream):
    replay_server.queue(recording, "final_answer.json")
    client = client_for(replay_server, stream=stream)
    first = chat(client, max_tokens=1024, temperature=0.7, seed=3)

    msg = first.message
    assert msg.content == "I'll look up the kinetic constants."
    assert msg.reasoning_content.startswith("The question asks for the Km")
    assert msg.tool_calls[0].id == "toolu_01A09q90qw90lq917835lq9"
    assert msg.tool_calls[0].function.parsed_arguments() == {"query": "hexokinase I Km glucose human", "limit": 5}
    blocks = msg.provider_data["anthropic"]["thinking"]
    assert [b["type"] for b in blocks] == ["thinking", "redacted_thinking"] and blocks[0]["signature"]
    assert first.finish_reason == "tool_calls" and first.usage.prompt_tokens == 512
    assert first.usage.completion_tokens == 96

    path, headers, sent = replay_server.requests[0]
    assert path == "/v1/messages" and "EMPTY" in (headers.get("x-api-key") or headers.get("authorization"))
    # prompt caching (on by default): breakpoints on the tools, the system prompt and the last message
    assert sent["system"] == [{"type": "text", "text": "You are a research agent.", "cache_control": EPHEMERAL}]
    assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "cache_control": EPHEMERAL,
                                                              "text": "What is the Km of hexokinase I?"}]}]
    assert sent["tools"] == [{**anthropic_tool(SEARCH), "cache_control": EPHEMERAL}]
    assert sent["tools"][0]["input_schema"]["required"] == ["query"]
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert sent["max_tokens"] == 1024 + 2048  # raised above the budget to leave room for the answer
    assert "temperature" not in sent and "seed" not in sent  # rejected with thinking / OpenAI-only
    assert sent.get("stream", False) is stream

    # The next turn carries the signed thinking blocks first, then text and tool_use, then the result.
    history = QUESTION + [msg, Message.tool("Km = 0.03 mM (PMID 123)", msg.tool_calls[0].id, "search")]
    final = chat(client, messages=history)
    question, assistant, results = replay_server.requests[1][2]["messages"]
    assert [b["type"] for b in assistant["content"]] == ["thinking", "redacted_thinking", "text", "tool_use"]
    assert assistant["content"][0] == blocks[0]
    assert assistant["content"][3]["input"] == {"query": "hexokinase I Km glucose human", "limit": 5}
    # the rolling breakpoint moved to the new last block; the previous turn's one stays, so turn 2 reads turn 1
    assert results == {"role": "user", "content": [{"type": "tool_result", "tool_use_id": msg.tool_calls[0].id,
                                                    "content": "Km = 0.03 mM (PMID 123)", "cache_control": EPHEMERAL}]}
    assert question["content"][0]["cache_control"] == EPHEMERAL
    assert count_breakpoints(replay_server.requests[1][2]) == 4  # Anthropic's limit
    assert final.message.content.endswith("Confidence: 85%") and final.finish_reason == "stop"
    assert final.usage.prompt_tokens == 620 and final.usage.cached_tokens == 500

    expected = (512 * 3.0 + 96 * 15.0) / 1e6 + (120 * 3.0 + 500 * 0.30 + 60 * 15.0) / 1e6
    assert client.ledger.usage.cost_usd == pytest.approx(expected) and client.ledger.calls == 2

    # the whole trajectory survives JSON (signatures included) and still maps to the same request
    again = [Message.model_validate_json(m.model_dump_json()) for m in history]
    assert to_anthropic(again) == to_anthropic(history)


def test_429_retry_after_and_529_overloaded_are_retried(replay_server):
    replay_server.queue("rate_limit_429.json", "overloaded_529.json", "final_answer.json")
    client = client_for(replay_server)
    started = time.perf_counter()
    result = chat(client)
    assert time.perf_counter() - started >= 1.0  # the recorded Retry-After: 1
    assert result.message.content.startswith("Explanation:") and len(replay_server.requests) == 3
    assert client.ledger.retries == 2


def test_400_is_not_retried(replay_server):
    replay_server.queue("invalid_request_400.json", "final_answer.json")
    with pytest.raises(ProviderError) as err:
        chat(client_for(replay_server))
    assert err.value.status_code == 400 and not err.value.retryable and len(replay_server.requests) == 1
    assert "Expected `thinking`" in str(err.value)


def test_sampling_mapping_without_thinking(replay_server):
    replay_server.queue("final_answer.json")
    chat(client_for(replay_server, thinking_budget=None), tool_choice="required", stop="\nObservation:",
         temperature=0.2, top_k=40, frequency_penalty=0.5)
    sent = replay_server.requests[0][2]
    assert sent["tool_choice"] == {"type": "any"} and sent["stop_sequences"] == ["\nObservation:"]
    assert sent["temperature"] == 0.2 and sent["top_k"] == 40 and "frequency_penalty" not in sent
    assert "thinking" not in sent and sent["max_tokens"] == 4096


def test_request_mapping_edge_cases():
    calls = [ToolCall.make("a", "search", {"query": "x"}), ToolCall.make("b", "python", '{"code": "print(')]
    history = [
        Message.system("one"), Message.system("two"), Message.user("q"),
        Message(role="assistant", reasoning_content="unsigned thoughts from another model", tool_calls=calls),
        Message.tool("r1", "a", "search"), Message.tool("r2", "b", "python"), Message.user(""),
    ]
    system, chat_ = to_anthropic(history)
    assert system == "one\n\ntwo" and [m["role"] for m in chat_] == ["user", "assistant", "user"]
    assert [b["type"] for b in chat_[1]["content"]] == ["tool_use", "tool_use"]  # unsigned reasoning left out
    assert chat_[1]["content"][1]["input"] == {"_raw_arguments": '{"code": "print('}
    assert [b["type"] for b in chat_[2]["content"]] == ["tool_result", "tool_result", "text"]
    assert chat_[2]["content"][2]["text"].strip()  # never an empty text block


def test_missing_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        make_client(LLMConfig(backend="anthropic", model="claude-sonnet-4-5"))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    assert make_client(LLMConfig(backend="anthropic", model="claude-sonnet-4-5")).model == "claude-sonnet-4-5"



def test_cut_stream_is_retried(replay_server):
    status, headers, body = replay_server.load("thinking_tool_use.sse")
    replay_server.responses.append((status, headers, body[: len(body) // 2]))
    replay_server.queue("thinking_tool_use.sse")
    client = client_for(replay_server, stream=True)
    result = chat(client)
    assert result.message.tool_calls and client.ledger.retries == 1 and len(replay_server.requests) == 2


def test_thinking_drops_forced_tool_choice_and_per_call_switch(replay_server):
    replay_server.queue("final_answer.json", "final_answer.json")
    client = client_for(replay_server)
    chat(client, tool_choice="required", top_k=5, top_p=0.95)
    chat(client, enable_thinking=False, tool_choice="required")
    with_thinking, without = (r[2] for r in replay_server.requests)
    assert "tool_choice" not in with_thinking and "top_k" not in with_thinking and with_thinking["top_p"] == 0.95
    assert "thinking" not in without and without["tool_choice"] == {"type": "any"}


def test_each_loops_sdk_client_is_closed_when_its_loop_ends(replay_server):
    """One loop per call (a sync caller): every loop's SDK client closes with it, nothing is left to a finalizer."""
    import gc
    import sys

    replay_server.queue("final_answer.json", "final_answer.json", "final_answer.json")
    client = client_for(replay_server)
    leaks: list[str] = []
    old_hook = sys.unraisablehook
    sys.unraisablehook = lambda u: leaks.append(f"{u.exc_value!r}")
    sdk_clients = []
    try:
        async def call():
            sdk_clients.append(client._client)
            return await client.chat(list(QUESTION))

        for _ in range(3):
            assert asyncio.run(call()).message.content
        assert len({id(c) for c in sdk_clients}) == 3 and all(c.is_closed() for c in sdk_clients)
        sdk_clients.clear()
        client = None
        gc.collect()
    finally:
        sys.unraisablehook = old_hook
    assert not leaks, leaks


def test_refused_connection_says_so():
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(LLMConfig(backend="anthropic", model="claude-sonnet-4-5", max_retries=0,
                                   base_url=f"http://127.0.0.1:{port}"))
    with pytest.raises(ProviderError, match=f"cannot connect to http://127.0.0.1:{port}: connection refused"):
        chat(client)
