"""The local transformers backend: the Qwen3 reply parser on crafted strings, generation on the tiny model."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import pytest

from sciresearcher.llm import LLMConfig, make_client
from sciresearcher.llm.local_backend import parse_qwen_reply
from sciresearcher.records import Message, ToolCall


def test_parse_think_and_tool_calls():
    text = ('<think>\nI should search.\n</think>\n\n<tool_call>\n{"name": "search", "arguments": {"query": "p53"}}\n'
            '</tool_call>\n<tool_call>\n{"name": "python", "arguments": {"code": "print(2)"}}\n</tool_call>')
    msg = parse_qwen_reply(text)
    assert msg.reasoning_content == "I should search." and msg.content is None
    assert [c.function.name for c in msg.tool_calls] == ["search", "python"]
    assert json.loads(msg.tool_calls[0].function.arguments) == {"query": "p53"}


def test_parse_plain_answer_and_prompt_opened_think():
    assert parse_qwen_reply("Answer: B").content == "Answer: B"
    msg = parse_qwen_reply("thinking here</think>\n\nAnswer: C")
    assert msg.reasoning_content == "thinking here" and msg.content == "Answer: C"


def test_parse_malformed_tool_call_kept_raw():
    msg = parse_qwen_reply('<tool_call>\n{"name": "search", "arguments": {"query": "x"\n</tool_call>')
    call = msg.tool_calls[0]
    assert call.function.name == "search"
    with pytest.raises(ValueError):
        call.function.parsed_arguments()


def test_parse_cut_off_while_thinking():
    msg = parse_qwen_reply("<think>\nstill going")
    assert msg.content is None and msg.tool_calls is None and msg.reasoning_content == "still going"


def test_generation_on_tiny_model(tiny_model_dir):
    client = make_client(LLMConfig(backend="local", model=str(tiny_model_dir)))
    history = [Message.system("s"), Message.user("What is Km?"),
               Message(role="assistant", tool_calls=[ToolCall.make("c1", "search", {"query": "Km"})]),
               Message.tool("2.5 mM", "c1", "search")]
    tools = [{"type": "function", "function": {"name": "search", "description": "d",
                                               "parameters": {"type": "object", "properties": {}}}}]
    prompt = client.render(history, tools)
    assert "<tool_response>\n2.5 mM\n</tool_response>" in prompt and '"arguments": {"query": "Km"}' in prompt

    async def go():
        return await asyncio.gather(*(client.chat(history, tools=tools, max_tokens=8, seed=i) for i in range(3)))

    results = asyncio.run(go())
    for r in results:
        assert r.usage.prompt_tokens > 50 and 0 < r.usage.completion_tokens <= 8
        assert r.finish_reason in {"stop", "length", "tool_calls"} and r.message.role == "assistant"


def test_parse_hermes_parameters_and_cut_off_call():
    msg = parse_qwen_reply('Let me check.\n<tool_call>\n{"name": "python", "parameters": {"code": "1"}}\n'
                           '</tool_call>\n<tool_call>\n{"name": "search", "arguments": {"query": "cut')
    assert msg.content == "Let me check."
    assert msg.tool_calls[0].function.parsed_arguments() == {"code": "1"}
    assert msg.tool_calls[1].function.name == "search" and msg.tool_calls[1].function.arguments.endswith('"cut')


def test_missing_model_directory_says_how_to_fix(tmp_path):
    from sciresearcher.errors import ConfigError
    from sciresearcher.llm.local_backend import LocalClient

    with pytest.raises(ConfigError, match="OpenAI-compatible endpoint"):
        LocalClient(LLMConfig(backend="local", model=str(tmp_path / "nothing-here")))
    with pytest.raises(ConfigError, match="has no config.json"):
        make_client(LLMConfig(backend="local", model=str(tmp_path)))


def test_thinking_switch_stop_strings_and_free_event_loop(tiny_model_dir):
    client = make_client(LLMConfig(backend="local", model=str(tiny_model_dir), enable_thinking=False))
    q = [Message.user("hi")]
    assert client.render(q, None).endswith("<think>\n\n</think>\n\n")
    assert not client.render(q, None, enable_thinking=True).endswith("</think>\n\n")
    gen = client._generation_kwargs({"stop": "Answer:", "temperature": 0})
    assert gen["stop_strings"] == ["Answer:"] and gen["do_sample"] is False

    async def go():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        task = asyncio.create_task(ticker())
        results = await asyncio.gather(*(client.chat(q, max_tokens=24, seed=i, temperature=1.0) for i in range(4)))
        task.cancel()
        return results, ticks

    results, ticks = asyncio.run(go())
    assert ticks > 3  # the loop kept running while the model generated in a worker thread
    assert client.ledger.calls == 4 and client.ledger.usage.completion_tokens == sum(
        r.usage.completion_tokens for r in results)


def test_batched_local_client_generates_concurrent_requests_together(tiny_model_dir):
    """Concurrent requests go out in one padded batch; each reply equals what the model gives alone (greedy)."""
    from sciresearcher.llm.batched_local import BatchedLocalClient

    client = make_client(LLMConfig(backend="local", model=str(tiny_model_dir), local_batch=8, max_concurrency=8))
    assert isinstance(client, BatchedLocalClient)
    questions = ["What is 2+2?", "Name a kinase.", "Which element has atomic number 26 and what is its mass?"]
    sampling = {"temperature": 0, "max_tokens": 12}

    async def many():
        return await asyncio.gather(*(client.chat([Message.user(q)], **sampling) for q in questions))

    together = asyncio.run(many())
    assert client.batches == [3]
    alone = [asyncio.run(client.chat([Message.user(q)], **sampling)) for q in questions]
    assert [r.message.content for r in together] == [r.message.content for r in alone]
    assert all(r.usage.completion_tokens > 0 and r.finish_reason in ("stop", "length") for r in together)
    # the training template: earlier assistant turns keep their <think> block, as SFT and GRPO rendered them
    prompt = client.render([Message.user("q"), Message(role="assistant", content="a"), Message.user("r")], None)
    assert "<think>\n\n</think>\n\na<|im_end|>" in prompt


def test_open_conversations_share_a_batch_however_far_apart_their_turns_come(tiny_model_dir):
    """Three conversations whose requests come 0.4 s apart (tool calls ending at different times): unmarked, each
    goes alone after the quiet spell; marked open (llm.base.conversation), they wait for each other and go as one
    batch, as soon as the last one asks. The replies are the same either way."""
    from sciresearcher.llm.base import conversation

    questions = ["What is 2+2?", "Name a kinase.", "Which element has atomic number 26?"]
    sampling = {"temperature": 0, "max_tokens": 6}

    async def staggered(client, mark: bool):
        async def one(i: int, q: str):
            with conversation(client) if mark else contextlib.nullcontext():
                await asyncio.sleep(0.4 * i)  # its tool call before this turn
                return await client.chat([Message.user(q)], **sampling)

        started = time.monotonic()
        replies = await asyncio.gather(*(one(i, q) for i, q in enumerate(questions)))
        return replies, time.monotonic() - started

    apart = make_client(LLMConfig(backend="local", model=str(tiny_model_dir), local_batch=8, max_concurrency=8))
    apart.batch_wait_s = 0.1
    replies_apart, _ = asyncio.run(staggered(apart, mark=False))
    assert apart.batches == [1, 1, 1]
    together = make_client(LLMConfig(backend="local", model=str(tiny_model_dir), local_batch=8, max_concurrency=8))
    replies_together, seconds = asyncio.run(staggered(together, mark=True))
    assert together.batches == [3] and seconds < together.open_wait_max_s
    assert [r.message.content for r in replies_together] == [r.message.content for r in replies_apart]
    assert together._open == 0  # every conversation closed



def test_static_kv_cache_gives_the_tokens_of_the_dynamic_one(tiny_model_dir):
    """`kv_cache: static` (allocated once at prompt + max_tokens) only changes how fast a padded batch decodes:
    greedy replies of prompts of different lengths, with a loop cut, are the same token for token."""
    prompts = ["<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
               ("<|im_start|>user\nWhich element has atomic number 26, and what is its molar mass in g/mol? Say "
                "it in a sentence.<|im_end|>\n<|im_start|>assistant\n"),
               "<|im_start|>user\nName a kinase.<|im_end|>\n<|im_start|>assistant\n"]
    sampling = {"temperature": 0, "max_tokens": 96}
    replies = {cache: make_client(LLMConfig(backend="local", model=str(tiny_model_dir), local_batch=4, loop_stop=24,
                                            kv_cache=cache)).generate_batch(prompts, sampling)
               for cache in ("dynamic", "static")}
    assert replies["static"] == replies["dynamic"]
    assert {r[2] for r in replies["static"]} != {96}  # some row was cut as a loop before the budget
    with pytest.raises(ValueError, match="kv_cache"):
        LLMConfig(backend="local", model=str(tiny_model_dir), kv_cache="paged")
