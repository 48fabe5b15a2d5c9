"""Prompt caching and its accounting: Anthropic breakpoints in the request bodies, cache reads and writes read
from the usage the (simulated) provider computes from them, OpenAI's `prompt_tokens_details.cached_tokens`,
and the price table (shipped YAML, a user's file over it, unknown models counted as unpriced)."""

from __future__ import annotations

import asyncio
import copy

import pytest

from sciresearcher.errors import ConfigError
from sciresearcher.llm import LLMConfig, make_client
from sciresearcher.llm.accounting import cost_split, describe_cost
from sciresearcher.llm.caching import add_breakpoints, count_breakpoints
from sciresearcher.llm.config import Price
from sciresearcher.llm.prices import estimate_usd, price_for, price_table, price_usage
from sciresearcher.llm.provider_server import ProviderServer
from sciresearcher.records import Message, ToolCall, Usage

SYSTEM = "You are a research agent for biology and chemistry. " * 120  # ~1,600 tokens: above the minimum
SEARCH = {"type": "function", "function": {"name": "search", "description": "Search the literature.",
                                           "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}
EPHEMERAL = {"type": "ephemeral"}


def turn_reply(provider, body):
    n = sum(1 for m in body["messages"] if m["role"] == "assistant")
    if n < 2:
        return {"content": f"step {n}", "tool_calls": [{"name": "search", "arguments": {"q": f"query {n}"}}],
                "output_tokens": 50}
    return {"content": "Explanation: ...\nAnswer: 0.03 mM\nConfidence: 80%", "output_tokens": 40}


def run_trajectory(client):
    """Three turns, each sending the whole history, with a ~400-token tool result between turns."""
    history = [Message.system(SYSTEM), Message.user("What is the Km of hexokinase I for glucose?")]
    results = []

    async def go():
        for i in range(3):
            result = await client.chat(list(history), tools=[SEARCH])
            results.append(result)
            history.append(result.message)
            for call in result.message.tool_calls or []:
                history.append(Message.tool(f"hit {i}: " + "Hexokinase I kinetics, PMID 1234. " * 50, call.id,
                                            "search"))
    asyncio.run(go())
    return results


def test_breakpoints_rules():
    request = {"tools": [{"name": "a"}, {"name": "b"}], "system": "sys",
               "messages": [{"role": "user", "content": [{"type": "text", "text": "q"}]},
                            {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": "s"},
                                                              {"type": "tool_use", "id": "1", "name": "a", "input": {}}]},
                            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "1", "content": "r"}]}]}
    before = copy.deepcopy(request)
    out = add_breakpoints(request)
    assert request == before  # the caller's request is not changed
    assert count_breakpoints(out) == 4
    assert out["messages"][2]["content"][0]["cache_control"] == EPHEMERAL  # rolling
    assert out["messages"][0]["content"][0]["cache_control"] == EPHEMERAL  # where the last request's sat
    assert "cache_control" not in out["messages"][1]["content"][0]  # never on thinking
    assert out["system"] == [{"type": "text", "text": "sys", "cache_control": EPHEMERAL}]
    assert out["tools"][1]["cache_control"] == EPHEMERAL and "cache_control" not in out["tools"][0]
    # marks the caller set count against Anthropic's 4
    marked = copy.deepcopy(request)
    marked["tools"][0]["cache_control"] = EPHEMERAL
    marked["messages"][1]["content"][1]["cache_control"] = EPHEMERAL
    out = add_breakpoints(marked, ttl="1h")
    assert count_breakpoints(out) == 4 and out["system"] == "sys"  # budget spent on the conversation first
    assert out["messages"][2]["content"][0]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert count_breakpoints(add_breakpoints(add_breakpoints(request))) == 4
    # a one-shot request (no tools, no assistant turn: a writer, a judge) keeps its prompt out of the cache
    one_shot = add_breakpoints({"system": "sys", "messages": [{"role": "user", "content": "write a problem"}]})
    assert one_shot["messages"][0]["content"] == "write a problem" and count_breakpoints(one_shot) == 1


def test_anthropic_turns_read_the_previous_turns_from_cache():
    with ProviderServer(turn_reply) as srv:
        cached = run_trajectory(make_client(LLMConfig(backend="anthropic", model="claude-sonnet-4-5",
                                                      base_url=srv.base_url)))
        sent = [body for method, path, body in srv.requests if path == "/v1/messages"]
        assert all(count_breakpoints(b) <= 4 for b in sent)
        assert sent[0]["system"][0]["cache_control"] == EPHEMERAL and sent[0]["tools"][-1]["cache_control"]
        plain = run_trajectory(make_client(LLMConfig(backend="anthropic", model="claude-sonnet-4-5",
                                                     base_url=srv.base_url, prompt_cache=False)))
    first, second, third = (r.usage for r in cached)
    assert first.cached_tokens == 0 and first.cache_write_tokens == first.prompt_tokens  # up to the rolling mark
    assert second.cached_tokens == first.cache_write_tokens  # turn 2 reads turn 1's whole prompt
    assert second.cache_write_tokens == second.prompt_tokens - second.cached_tokens
    assert third.cached_tokens == second.cached_tokens + second.cache_write_tokens
    # prices: writes 1.25x, reads 0.1x input; list price counts every input token at 1x
    expected = (third.cached_tokens * 0.30 + third.cache_write_tokens * 3.75 + 40 * 15.0) / 1e6
    assert third.cost_usd == pytest.approx(expected) and third.list_cost_usd > 2 * third.cost_usd
    assert [u.usage.prompt_tokens for u in plain] == [u.prompt_tokens for u in (first, second, third)]
    assert all(r.usage.cached_tokens == r.usage.cache_write_tokens == 0 for r in plain)
    assert all(r.usage.cost_usd == pytest.approx(r.usage.list_cost_usd) for r in plain)
    split = cost_split(r.usage for r in cached)
    assert split["cache_saved_usd"] > 0 and split["batch_saved_usd"] == 0 and 0.4 < split["cache_hit_share"] < 1


def test_openai_reads_cached_tokens_from_prompt_tokens_details():
    with ProviderServer(turn_reply) as srv:
        client = make_client(LLMConfig(backend="openai", model="gpt-4.1", base_url=srv.openai_base_url))
        first, second, _ = run_trajectory(client)
    assert first.usage.cached_tokens == 0 and second.usage.cached_tokens > 1024
    assert second.usage.cached_tokens % 128 == 0
    fresh = second.usage.prompt_tokens - second.usage.cached_tokens
    assert second.usage.cost_usd == pytest.approx((fresh * 2.0 + second.usage.cached_tokens * 0.5 + 50 * 8.0) / 1e6)


def test_price_table_lookup_user_file_and_unknown_models(tmp_path, caplog):
    assert price_for("claude-sonnet-4-5-20250929").cache_write == 3.75
    assert price_for("o3-mini-2025-01-31").input == 1.10 and price_for("claude-opus-4-20250514").input == 15.0
    assert price_for("gpt-5-pro") is None  # no fuzzy prefix: a new model does not get gpt-5's price
    prices = tmp_path / "prices.yaml"
    prices.write_text("qwen3-8b: {input: 0.05, output: 0.10}\nclaude-sonnet-4-5: {input: 2.0, output: 10.0}\n")
    table = price_table(str(prices))
    assert table["qwen3-8b"].output == 0.10 and table["claude-sonnet-4-5"].input == 2.0 and "gpt-4.1" in table
    with ProviderServer() as srv:
        unknown = make_client(LLMConfig(backend="openai", model="my-finetune", base_url=srv.openai_base_url))
        result = asyncio.run(unknown.chat([Message.user("hi")]))
        priced = make_client(LLMConfig(backend="openai", model="qwen3-8b", base_url=srv.openai_base_url,
                                       prices=str(prices)))
        assert asyncio.run(priced.chat([Message.user("hi")])).usage.cost_usd > 0
    assert "no price for model 'my-finetune'" in caplog.text
    assert result.usage.unpriced_calls == 1 and result.usage.cost_usd == 0
    split = cost_split([result.usage, Usage(prompt_tokens=10, cost_usd=1.0, list_cost_usd=1.0)])
    assert not split["complete"] and "unknown: 1 calls" in describe_cost(split)
    bad = tmp_path / "bad.yaml"
    bad.write_text("gpt-4.1: {input: cheap}\n")
    with pytest.raises(ConfigError, match="bad price for 'gpt-4.1'"):
        price_table(str(bad))
    with pytest.raises(ConfigError, match="does not exist"):
        price_table(str(tmp_path / "missing.yaml"))


def test_price_usage_batch_and_cache_multipliers_stack():
    price = Price(input=3.0, output=15.0, cached_input=0.3, cache_write=3.75, cache_write_1h=6.0, batch=0.5)
    usage = Usage(prompt_tokens=10_000, cached_tokens=6_000, cache_write_tokens=3_000, completion_tokens=1_000)
    online = (1_000 * 3.0 + 6_000 * 0.3 + 3_000 * 3.75 + 1_000 * 15.0) / 1e6
    assert price_usage(usage, price).cost_usd == pytest.approx(online)
    batched = price_usage(usage, price, batched=True)
    assert batched.cost_usd == pytest.approx(online / 2) and batched.batch_saved_usd == pytest.approx(online / 2)
    assert batched.list_cost_usd == pytest.approx((10_000 * 3.0 + 1_000 * 15.0) / 1e6)
    assert price_usage(usage, price, ttl="1h").cost_usd == pytest.approx(online + 3_000 * (6.0 - 3.75) / 1e6)


def test_tool_call_history_keeps_marks_under_four_with_many_turns():
    history = [Message.system("s"), Message.user("q")]
    for i in range(6):
        call = ToolCall.make(f"c{i}", "search", {"q": i})
        history += [Message(role="assistant", tool_calls=[call]), Message.tool("r", f"c{i}")]
    client = make_client(LLMConfig(backend="anthropic", model="claude-sonnet-4-5", base_url="http://127.0.0.1:9"))
    request = client.build_request(history, [SEARCH], {})
    assert count_breakpoints(request) == 4


def test_estimate_a_planned_workload():
    list_price = estimate_usd("claude-sonnet-4-5", input_tokens=110_000, output_tokens=2_300)
    assert list_price == pytest.approx((110_000 * 3.0 + 2_300 * 15.0) / 1e6)
    cached = estimate_usd("claude-sonnet-4-5", input_tokens=110_000, output_tokens=2_300, cache_read_share=0.83,
                          cache_write_share=0.17)
    assert list_price / cached > 2.5
    assert estimate_usd("claude-sonnet-4-5", input_tokens=1e6, output_tokens=0, batched=True) == pytest.approx(1.5)
    assert estimate_usd("my-finetune", input_tokens=1, output_tokens=1) is None
