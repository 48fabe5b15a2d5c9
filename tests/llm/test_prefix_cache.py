"""Key-value states carried between turns (llm/prefix_cache.py): the store's lookups and budget on small tensors,
and on the tiny model, a second turn that encodes only its new tokens and writes what a fresh encoding writes."""

from __future__ import annotations

import pytest
import torch

from sciresearcher.llm import LLMConfig, make_client
from sciresearcher.llm.prefix_cache import PrefixStore, cache_width


def _states(n: int, layers: int = 2) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(torch.arange(n, dtype=torch.float32).repeat(2, 1).unsqueeze(-1).repeat(1, 1, 4),) * 2
            for _ in range(layers)]


def test_lookup_finds_the_longest_shared_prefix_short_of_the_last_token():
    store = PrefixStore(budget_mb=1)
    store.add([([1, 2, 3, 4, 5], _states(5)), ([1, 2, 9, 9], _states(4))])
    n, states = store.lookup([1, 2, 3, 4, 7, 8])
    assert n == 4 and states[0][0].shape == (2, 4, 4)
    assert store.lookup([1, 2, 3, 4, 5])[0] == 4  # the whole stored row, but one token is left to encode
    assert store.lookup([6, 1, 2])[0] == 0 and store.lookup([6, 1, 2])[1] is None
    assert store.hit_tokens == 8 and store.prompt_tokens == 6 + 5 + 3 + 3


def test_the_store_keeps_the_newest_rows_within_its_budget():
    store = PrefixStore(budget_mb=1)
    big = 1 << 20  # bytes: one row of ~0.5 MB of states
    width = big // (2 * 2 * 4 * 4 * 2)
    for start in range(3):
        store.add([([start] * width, _states(width))])
    assert store.nbytes <= 1 << 20 and [int(e.ids[0]) for e in store.entries] == [2]


def test_the_cache_width_saves_prefill_without_widening_the_batch():
    # one row with a long stored prefix, one without: using all 90 cached tokens would make the batch 190 wide
    assert cache_width([100, 100], [90, 0]) == 0
    assert cache_width([100, 98], [90, 88]) == 90  # both hit: 10 new tokens a row, 100 wide (row 1 pads 2)
    assert cache_width([100, 20], [90, 0]) == 90  # the short row pads: 90 + 20 wide, under 1.1 x 100


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_a_second_turn_encodes_only_its_new_tokens_and_writes_the_same_reply(tiny_model_dir, temperature):
    first = ["<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
             ("<|im_start|>user\nWhich element has atomic number 26, and what is its molar mass in g/mol?"
              "<|im_end|>\n<|im_start|>assistant\n")]
    sampling = {"temperature": temperature, "max_tokens": 16, "seed": 3}
    common = {"backend": "local", "model": str(tiny_model_dir), "local_batch": 4, "kv_cache": "static"}
    carried = make_client(LLMConfig(**common, prefix_cache_mb=64))
    fresh = make_client(LLMConfig(**common))
    turn1 = carried.generate_batch(first, sampling)
    assert turn1 == fresh.generate_batch(first, sampling)
    assert carried.prefixes.hit_tokens == 0 and len(carried.prefixes.entries) == 2
    second = [p + text + "<|im_end|>\n<|im_start|>user\nThe tool printed 4.0 and 55.845.<|im_end|>\n"
              "<|im_start|>assistant\n" for p, (text, *_rest) in zip(first, turn1, strict=True)]
    assert carried.generate_batch(second, sampling) == fresh.generate_batch(second, sampling)
    # the first turn's prompts at least came from the store
    assert carried.prefixes.hit_tokens >= sum(n_prompt for _t, n_prompt, *_r in turn1)


def test_close_stops_the_worker_and_a_later_request_starts_another(tiny_model_dir):
    import asyncio

    from sciresearcher.records import Message

    client = make_client(LLMConfig(backend="local", model=str(tiny_model_dir), local_batch=4, prefix_cache_mb=64))
    ask = {"temperature": 0, "max_tokens": 6}
    first = asyncio.run(client.chat([Message.user("What is 2+2?")], **ask))
    worker = client._worker
    assert worker.is_alive() and client.prefixes.entries
    client.close()
    assert not worker.is_alive() and not client.prefixes.entries
    again = asyncio.run(client.chat([Message.user("What is 2+2?")], **ask))
    assert again.message.content == first.message.content and client._worker.is_alive()
    client.close()
