"""Seeded sampling per row: a sampled request's reply does not depend on the batch it was generated in.

With the tiny random-weight model at temperature 1 (every token a draw), a request generated alone, and again in a
padded batch beside other prompts and in another position, gives the same tokens; another seed gives other tokens;
greedy decoding is untouched. Until this, every row of a batch drew from one global stream, so the same seeded
request gave different replies in different batches.
"""

from __future__ import annotations

import pytest
import torch

from sciresearcher.llm import make_client
from sciresearcher.llm.config import LLMConfig
from sciresearcher.llm.row_sampling import RowSampler, row_seed, with_row_sampling

PROMPTS = ["<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
           ("<|im_start|>user\nWhich element has atomic number 26, and what is its molar mass in g/mol? Say "
            "it in a sentence.<|im_end|>\n<|im_start|>assistant\n"),
           "<|im_start|>user\nName a kinase.<|im_end|>\n<|im_start|>assistant\n"]


def test_a_sampled_request_gives_the_same_reply_in_any_batch(tiny_model_dir):
    client = make_client(LLMConfig(backend="local", model=str(tiny_model_dir), local_batch=4))
    sampling = {"temperature": 1.0, "max_tokens": 24}
    alone = client.generate_batch([PROMPTS[1]], sampling, seeds=[7])
    torch.manual_seed(123)  # the global stream must not matter
    batched = client.generate_batch(PROMPTS, sampling, seeds=[3, 7, 5])
    reordered = client.generate_batch([PROMPTS[1], PROMPTS[0]], sampling, seeds=[7, 3])
    assert batched[1] == alone[0] == reordered[0]
    assert batched[0] == reordered[1]
    other = client.generate_batch([PROMPTS[1]], sampling, seeds=[8])
    assert other[0][0] != alone[0][0]
    same_seed = client.generate_batch([PROMPTS[0], PROMPTS[0]], sampling, seeds=[7, 7])
    assert same_seed[0] == same_seed[1]  # one request, one stream


def test_greedy_decoding_is_left_as_it_is():
    gen = {"do_sample": False, "max_new_tokens": 8}
    assert with_row_sampling(gen, [1, 2]) is gen
    sampled = with_row_sampling({"do_sample": True, "temperature": 0.7, "top_p": 0.9, "max_new_tokens": 8}, [1, None])
    assert sampled["do_sample"] is False and "temperature" not in sampled and "top_p" not in sampled
    assert isinstance(sampled["logits_processor"][-1], RowSampler)


def test_each_row_draws_from_its_own_generator():
    scores = torch.log(torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]]))
    picks = RowSampler([11, 12], temperature=1.0)(torch.zeros(2, 1, dtype=torch.long), scores.clone())
    want = [torch.multinomial(torch.softmax(s, -1), 1, generator=torch.Generator().manual_seed(seed)).item()
            for s, seed in zip(scores, (11, 12), strict=True)]
    assert picks.argmax(-1).tolist() == want
    assert torch.isinf(picks).sum().item() == 6  # one token left possible per row
    assert row_seed(None, "p") is None and row_seed(1, "p") != row_seed(1, "q") != row_seed(2, "q")
    with pytest.raises(ValueError, match="seeds for a batch"):
        RowSampler([1], temperature=1.0)(torch.zeros(2, 1, dtype=torch.long), scores)
