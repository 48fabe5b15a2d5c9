"""LoopStop: a local reply that repeats one period three times over is ended there, as a cut turn."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from sciresearcher.errors import ConfigError
from sciresearcher.llm.config import LLMConfig
from sciresearcher.llm.loop_stop import LoopStop

END = 99


def ids(prompt: list[int], *generated: list[int]) -> torch.Tensor:
    return torch.tensor([prompt + g for g in generated])


def test_a_tail_repeating_one_period_three_times_is_stopped_and_nothing_else():
    stop = LoopStop(prompt_width=3, min_span=12, end_ids=[END])
    periodic = [1, 2, 7, 8, 9, 10] + [5, 6, 7, 8] * 3          # period 4 over the last 12 tokens
    twice = [1, 2, 3, 4, 5, 6, 7, 8] + [5, 6, 7, 8]             # the same 4 tokens twice, then other tokens
    varied = list(range(10, 28))
    ended = [5, 6, 7, 8, END] + [END] * 13                      # an ended row is padded with end ids: not a loop
    batch = ids([4, 4, 4], periodic, twice + [9] * 6, varied, ended)
    assert stop(batch).tolist() == [True, False, False, False]
    assert stop.stopped == {0: 18}


def test_the_prompt_is_not_looked_at_and_short_replies_are_never_flagged():
    stop = LoopStop(prompt_width=20, min_span=9, end_ids=[END])
    assert stop(ids([3] * 20, [3, 3, 3, 3])).tolist() == [False]   # 4 generated tokens < min_span
    assert stop(ids([3] * 20, [3] * 9)).tolist() == [True]


def test_a_span_below_three_tokens_is_refused():
    with pytest.raises(ConfigError, match="at least 3"):
        LoopStop(prompt_width=0, min_span=2, end_ids=[END])


def test_batched_generation_stops_looping_rows_at_a_prefix_of_what_they_would_have_said(tiny_model_dir):
    """Greedy replies of a random model loop; with loop_stop each is a strict prefix of the full reply, cut."""
    from sciresearcher.llm.factory import make_client

    prompts = ["<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
               "<|im_start|>user\nName a kinase.<|im_end|>\n<|im_start|>assistant\n"]
    sampling = {"temperature": 0, "max_tokens": 160}
    full = make_client(LLMConfig(backend="local", model=str(tiny_model_dir), local_batch=4)).generate_batch(
        prompts, sampling)
    cut = make_client(LLMConfig(backend="local", model=str(tiny_model_dir), local_batch=4, loop_stop=24)
                      ).generate_batch(prompts, sampling)
    assert [f[3] for f in full] == ["length", "length"]  # the random model loops to the budget
    for (text, _, n_new, finish), (full_text, _, full_new, _) in zip(cut, full, strict=True):
        assert finish == "length" and 24 <= n_new < full_new and full_text.startswith(text)
    single = make_client(LLMConfig(backend="local", model=str(tiny_model_dir), loop_stop=24))
    assert single.generate_text(prompts[0], sampling) == cut[0]
