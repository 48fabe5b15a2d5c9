"""Batch APIs through the real SDKs against a local server speaking the documented batch endpoints.

Anthropic Message Batches and OpenAI Batch (files upload + batches + output/error files): one submission
for concurrent calls, results in the same ChatResult as online with the batch discount, errored items
failing only their own calls, a killed run resuming its batch without submitting again, a run after that
answered from disk, and a batch that outlives `batch_max_wait_s` left recorded for the next run.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from sciresearcher.errors import ConfigError, ProviderError
from sciresearcher.llm import LLMConfig, make_client
from sciresearcher.llm.batch import BatchClient
from sciresearcher.llm.provider_server import ProviderServer
from sciresearcher.llm.testserver import Fault
from sciresearcher.records import Message

MODELS = {"anthropic": "claude-sonnet-4-5", "openai": "gpt-4.1"}


def _text(body):
    content = body["messages"][-1]["content"]
    return content if isinstance(content, str) else " ".join(b.get("text", "") for b in content)


def reply(provider, body):
    text = _text(body)
    if "malformed" in text:
        return Fault("bad_request")
    return {"content": f"answer: {text}", "output_tokens": 20}


def config(server, backend, tmp_path, **kw):
    url = server.base_url if backend == "anthropic" else server.openai_base_url
    base = {"backend": backend, "model": MODELS[backend], "base_url": url, "batch": True,
            "batch_dir": str(tmp_path / "batches"), "batch_window_s": 0.05, "batch_poll_s": 0.01,
            "batch_poll_max_s": 0.02, "backoff_base_s": 0.01, "max_retries": 2}
    return LLMConfig(**{**base, **kw})


def ask(client, questions):
    async def run():
        return await asyncio.gather(*(client.chat([Message.user(q)]) for q in questions), return_exceptions=True)
    return asyncio.run(run())


@pytest.mark.parametrize("backend", ["anthropic", "openai"])
def test_concurrent_calls_go_out_as_one_batch_and_errors_stay_per_call(tmp_path, backend):
    with ProviderServer(reply) as srv:
        client = make_client(config(srv, backend, tmp_path))
        assert isinstance(client, BatchClient)
        results = ask(client, ["Km of hexokinase?", "malformed request", "Vmax of GAPDH?"])
    assert len(srv.submissions) == 1 and srv.polls >= 2  # in_progress, then ended/completed
    ok, bad, ok2 = results
    assert ok.message.content == "answer: Km of hexokinase?" and ok2.message.content == "answer: Vmax of GAPDH?"
    assert isinstance(bad, ProviderError) and "invalid request" in str(bad) and not bad.retryable
    # same records as online, priced with the batch discount
    assert ok.usage.batched_calls == 1 and ok.usage.completion_tokens == 20
    assert ok.usage.cost_usd == pytest.approx(ok.usage.list_cost_usd / 2)
    assert ok.usage.batch_saved_usd == pytest.approx(ok.usage.cost_usd)
    assert client.ledger.calls == 2 and client.ledger.failures == 1 and client.ledger.usage.batched_calls == 2
    posted = [(path, body) for method, path, body in srv.requests if method == "POST"]
    if backend == "anthropic":
        (path, body), = posted
        assert path == "/v1/messages/batches" and len(body["requests"]) == 3
        first = body["requests"][0]
        assert len(first["custom_id"]) == 64 and first["params"]["model"] == "claude-sonnet-4-5"
        assert first["params"]["max_tokens"] == 4096 and "stream" not in first["params"]
        assert "cache_control" not in first["params"]["messages"][0]["content"][0]  # one-shot: never read back
    else:
        assert [p for p, _ in posted] == ["/v1/files", "/v1/batches"] and posted[0][1]["purpose"] == "batch"
        assert posted[1][1]["endpoint"] == "/v1/chat/completions" and posted[1][1]["completion_window"] == "24h"
        lines = [json.loads(x) for x in srv.files[posted[1][1]["input_file_id"]].decode().splitlines()]
        assert [x["method"] for x in lines] == ["POST"] * 3 and lines[0]["url"] == "/v1/chat/completions"
        assert lines[0]["body"] == {"model": "gpt-4.1", "messages": [{"role": "user", "content": "Km of hexokinase?"}]}
    records = [json.loads(x) for x in (tmp_path / "batches" / "batches.jsonl").read_text().splitlines()]
    assert [r["status"] for r in records] == ["submitted", "collected"] and len(records[0]["custom_ids"]) == 3


@pytest.mark.parametrize("backend", ["anthropic", "openai"])
def test_a_killed_run_resumes_polling_without_submitting_again(tmp_path, backend):
    with ProviderServer(reply, polls_to_end=5) as srv:
        cfg = config(srv, backend, tmp_path, batch_poll_s=0.05)

        async def killed_after_submit():
            client = make_client(cfg)
            task = asyncio.ensure_future(client.chat([Message.user("Km of hexokinase?")]))
            while not (tmp_path / "batches" / "batches.jsonl").exists():  # submitted and recorded
                await asyncio.sleep(0.005)
            task.cancel()  # the run dies: its loop ends, and with it the poller

        asyncio.run(killed_after_submit())
        assert len(srv.submissions) == 1 and srv.batches[srv.submissions[0]].results is None  # still running

        again = make_client(cfg)  # a new process with the same run directory
        result, = ask(again, ["Km of hexokinase?"])
        assert not isinstance(result, Exception), result
        assert result.message.content == "answer: Km of hexokinase?"
        assert len(srv.submissions) == 1  # polled the recorded batch: paid once

        n_requests = len(srv.requests)
        third, = ask(make_client(cfg), ["Km of hexokinase?"])  # the result is on disk now
        assert third.message.content == result.message.content and len(srv.requests) == n_requests

        other, = ask(make_client(cfg), ["a new question"])  # anything new is a new batch
        assert other.message.content == "answer: a new question" and len(srv.submissions) == 2


def test_identical_requests_get_their_own_items_and_seeds_differ(tmp_path):
    with ProviderServer(reply) as srv:
        client = make_client(config(srv, "anthropic", tmp_path))

        async def run():
            msgs = [Message.user("same")]
            return await asyncio.gather(client.chat(msgs), client.chat(msgs), client.chat(msgs, seed=1))
        asyncio.run(run())
    ids = [r["custom_id"] for r in srv.requests[0][2]["requests"]]
    assert len(ids) == 3 and len(set(ids)) == 3


def test_max_wait_gives_up_but_keeps_the_batch_for_the_next_run(tmp_path):
    with ProviderServer(reply, polls_to_end=10_000) as srv:
        cfg = config(srv, "openai", tmp_path, batch_max_wait_s=0.05)
        result, = ask(make_client(cfg), ["slow one"])
        assert isinstance(result, ProviderError) and "run again to resume" in str(result)
        srv.polls_to_end = 0  # the provider finishes it meanwhile
        result, = ask(make_client(cfg), ["slow one"])
    assert result.message.content == "answer: slow one" and len(srv.submissions) == 1


def test_a_failed_submission_fails_its_calls_and_config_errors(tmp_path):
    with ProviderServer(reply) as srv:
        cfg = config(srv, "anthropic", tmp_path, base_url=srv.base_url + "/nowhere", max_retries=0)
        result, = ask(make_client(cfg), ["q"])
    assert isinstance(result, ProviderError) and "submitting a batch of 1" in str(result)
    with pytest.raises(ConfigError, match="batch_dir"):
        make_client(LLMConfig(backend="openai", model="gpt-4.1", base_url="http://127.0.0.1:9/v1", batch=True))
    with pytest.raises(ConfigError, match="anthropic and openai"):
        make_client(LLMConfig(backend="local", model="some-model", batch=True, batch_dir=str(tmp_path)))
    cfg = LLMConfig(backend="openai", model="gpt-4.1", batch=True)
    assert cfg.for_run(tmp_path, "judge").batch_dir == str(tmp_path / "batches" / "judge")
    assert LLMConfig(backend="openai", model="x").for_run(tmp_path, "judge").batch_dir is None


@pytest.mark.parametrize("backend", ["anthropic", "openai"])
def test_items_with_a_server_error_go_into_the_next_batch(tmp_path, backend):
    seen: list[str] = []

    def flaky(provider, body):
        text = _text(body)
        seen.append(text)
        return Fault("server_error") if text == "flaky" and seen.count("flaky") == 1 else reply(provider, body)

    with ProviderServer(flaky) as srv:
        client = make_client(config(srv, backend, tmp_path))
        flaky_result, fine = ask(client, ["flaky", "fine"])
    assert flaky_result.message.content == "answer: flaky" and fine.message.content == "answer: fine"
    assert len(srv.submissions) == 2 and client.ledger.retries == 1 and client.ledger.failures == 0
