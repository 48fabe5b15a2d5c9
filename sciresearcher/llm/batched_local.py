"""`BatchedLocalClient`: the local transformers backend, generating concurrent requests in one padded batch.

The agent loop runs many trajectories at once (`rollout.run_rollouts` with `concurrency: N`); each asks the
client for its next turn. `LocalClient` answers them one at a time; this client queues them and a worker
thread generates every queued request with the same sampling settings in one left-padded `generate` call, so a
CPU evaluates a small model on a hundred tasks in the time of a few requests. When the callers mark their
conversations (`llm.base.conversation`, as `rollout.one` does), a batch starts as soon as every open conversation
has asked for its next turn, or `open_wait_max_s` after its first request (a conversation inside a slow tool
call); otherwise it waits while requests keep arriving, `batch_wait_s` after the last one and `batch_wait_max_s`
at most. A turn whose tool calls end far apart (a hundred sandboxed python calls take ~2.5 s) is then one batch,
not a small one and a large one that each decode to the longest reply. With `loop_stop` a reply stuck repeating itself ends
early (llm/loop_stop.py) instead of keeping the whole batch decoding to `max_tokens`. Replies are cut and parsed
as `LocalClient` cuts and parses them (`LocalClient._reply`, the one Qwen3 reply parser).

Prompts are rendered with the TRAINING chat template (`llm.chat_template.training_template`: the one SFT and GRPO
render with, where every assistant turn keeps its `<think>` block), so a model trained here sees at evaluation
the context it was trained on; Qwen3's chat template drops the empty think blocks of earlier turns. With
`prefix_cache_mb`, a row's tokens that an earlier batch encoded or wrote are not encoded again (llm/prefix_cache.py).
A sampled request draws from its own random stream, seeded by its seed and prompt (llm/row_sampling.py), so its
reply does not depend on the batch it shared; greedy requests (`temperature: 0`) are deterministic. It is for small
local models; serve big ones with vLLM.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sciresearcher.errors import ProviderError
from sciresearcher.llm.base import ChatResult
from sciresearcher.llm.config import LLMConfig
from sciresearcher.llm.local_backend import LocalClient
from sciresearcher.llm.prefix_cache import PrefixStore, prefilled_batch, row_states
from sciresearcher.llm.reply_format import parse_qwen_reply
from sciresearcher.records import Message, Usage


@dataclass
class _Request:
    prompt: str
    sampling: dict[str, Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    key: str = field(init=False)

    def __post_init__(self) -> None:
        keep = {k: self.sampling.get(k) for k in ("max_tokens", "max_new_tokens", "temperature", "top_p", "top_k",
                                                    "min_p", "repetition_penalty")}
        self.key = json.dumps(keep, sort_keys=True, default=str)


class BatchedLocalClient(LocalClient):
    """A local transformers model serving concurrent requests in batches of up to `max_batch`."""

    backend = "local"

    def __init__(self, config: LLMConfig, *, max_batch: int = 64, batch_wait_s: float = 0.1,
                 batch_wait_max_s: float = 1.0, open_wait_max_s: float = 5.0) -> None:
        super().__init__(config)
        from sciresearcher.llm.chat_template import training_template

        self.max_batch = max_batch
        self.batch_wait_s = batch_wait_s
        self.batch_wait_max_s = batch_wait_max_s
        self.open_wait_max_s = open_wait_max_s
        self._open = 0  # conversations marked open (llm.base.conversation)
        self.chat_template = training_template(self.tokenizer)  # what render() uses: the template trained on
        self._queue: list[_Request] = []
        self._cond = threading.Condition()
        self._worker: threading.Thread | None = None
        self._closing = False  # close(): the worker returns once the queue is empty
        self.batches: list[int] = []  # sizes of the batches generated (for measurements)
        self.prefixes: PrefixStore | None = PrefixStore(config.prefix_cache_mb) if config.prefix_cache_mb else None

    def _ensure_worker(self) -> None:
        with self._cond:
            if self._worker is None or not self._worker.is_alive():
                self._closing = False
                self._worker = threading.Thread(target=self._serve, name="batched-local-generate", daemon=True)
                self._worker.start()

    @contextmanager
    def open_conversation(self) -> Iterator[None]:
        """One open conversation (see llm.base.conversation): its next turn is worth waiting for."""
        with self._cond:
            self._open += 1
        try:
            yield
        finally:
            with self._cond:
                self._open -= 1
                self._cond.notify_all()

    def _next_batch(self) -> list[_Request] | None:
        with self._cond:
            while not self._queue:
                if self._closing:
                    return None
                self._cond.wait()
            # until every open conversation has asked (or open_wait_max_s), then while requests keep arriving
            # (each arrival gives the next one batch_wait_s, up to batch_wait_max_s)
            now = time.monotonic()
            deadline, cap, seen = now + self.batch_wait_s, now + self.batch_wait_max_s, len(self._queue)
            while len(self._queue) < self.max_batch:
                if self._open and len(self._queue) < self._open:
                    left = now + self.open_wait_max_s - time.monotonic()
                else:  # (conversations open at once start a few ms apart: the first must not go alone)
                    left = min(deadline, cap) - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
                if len(self._queue) > seen:
                    deadline, seen = time.monotonic() + self.batch_wait_s, len(self._queue)
            key = self._queue[0].key
            batch = [r for r in self._queue if r.key == key][: self.max_batch]
            self._queue = [r for r in self._queue if r not in batch]
            return batch

    def close(self) -> None:
        """Stops the worker thread (a later request starts another) and empties the stored prefixes. An idle
        worker left behind slows the next client's generation in the same process (its thread pool stays up): an
        evaluation of three models in one pipeline took 58 s instead of 47."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._worker is not None and self._worker is not threading.current_thread():
            self._worker.join(timeout=10)
        if self.prefixes is not None:
            self.prefixes = PrefixStore(self.config.prefix_cache_mb)

    def _serve(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:  # closed
                return
            try:
                results: list[Any] = self.generate_batch([r.prompt for r in batch], batch[0].sampling,
                                                         seeds=[r.sampling.get("seed") for r in batch])
            except Exception as exc:  # noqa: BLE001 - every waiting request learns of it, the worker goes on
                error = ProviderError(f"local batched generation failed: {type(exc).__name__}: {exc}")
                results = [error] * len(batch)
            self.batches.append(len(batch))
            for request, result in zip(batch, results, strict=True):
                request.loop.call_soon_threadsafe(_settle, request.future, result)

    def generate_batch(self, prompts: list[str], sampling: dict[str, Any], *, seeds: list[int | None] | None = None
                       ) -> list[tuple[str, int, int, str]]:
        """Blocking: (completion text, prompt tokens, new tokens, stop | length) per prompt, in one generate call;
        sampled rows draw from their own streams, seeded by `seeds` (default: `sampling["seed"]` for every row)."""
        import torch

        from sciresearcher.llm.row_sampling import row_seed, with_row_sampling

        if seeds is None:
            seeds = [sampling.get("seed")] * len(prompts)
        gen = with_row_sampling(self._generation_kwargs(sampling),
                                [row_seed(s, p) for s, p in zip(seeds, prompts, strict=True)])
        if self.prefixes is not None:
            return self._generate_from_prefixes(prompts, gen)
        tok = self.tokenizer
        side = tok.padding_side
        tok.padding_side = "left"
        try:
            inputs = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        finally:
            tok.padding_side = side
        width = inputs["input_ids"].shape[1]
        loop_stop = self._loop_stop(width, gen)
        with self._lock, torch.inference_mode():
            output = self.hf_model.generate(**inputs, **gen)
        stopped = loop_stop.stopped if loop_stop is not None else {}
        out = []
        for i, (row, mask) in enumerate(zip(output, inputs["attention_mask"], strict=True)):
            text, n_new, ended = self._reply(row[width:].tolist(), stopped.get(i))
            out.append((text, int(mask.sum()), n_new, "stop" if ended else "length"))
        return out

    def _generate_from_prefixes(self, prompts: list[str], gen: dict[str, Any]) -> list[tuple[str, int, int, str]]:
        """`generate_batch` with each row's longest stored prefix taken from `self.prefixes` (llm/prefix_cache.py)
        instead of encoded again, and every row's tokens and states stored for the next turn."""
        import torch

        assert self.prefixes is not None
        ids = self.tokenizer(prompts, add_special_tokens=False)["input_ids"]
        hits = [self.prefixes.lookup(x) for x in ids]
        gen = {k: v for k, v in gen.items() if k != "cache_implementation"}
        input_ids, mask, cache = prefilled_batch(self.hf_model, ids, hits, gen["pad_token_id"], gen["max_new_tokens"])
        input_ids, mask = input_ids.to(self.device), mask.to(self.device)
        width = input_ids.shape[1]
        loop_stop = self._loop_stop(width, gen)
        with self._lock, torch.inference_mode():
            output = self.hf_model.generate(input_ids=input_ids, attention_mask=mask, cache=cache,
                                            return_dict_in_generate=True, **gen)
        sequences, cache = output.sequences, output.past_key_values
        written = sequences.shape[1] - width
        stopped = loop_stop.stopped if loop_stop is not None else {}
        out, rows = [], []
        for i, row in enumerate(sequences):
            text, n_new, ended = self._reply(row[width:].tolist(), stopped.get(i))
            out.append((text, len(ids[i]), n_new, "stop" if ended else "length"))
            keep = min(n_new, written - 1)
            rows.append((ids[i] + row[width:width + keep].tolist(), row_states(cache, mask, i, width, keep)))
        self.prefixes.add(rows)
        return out

    async def _chat_once(self, messages: list[Message], tools: list[dict[str, Any]] | None,
                         sampling: dict[str, Any]) -> ChatResult:
        try:
            prompt = self.render(messages, tools, sampling.get("enable_thinking"))
        except Exception as exc:  # a template that cannot render is a provider failure, not a crash
            raise ProviderError(f"local rendering failed: {type(exc).__name__}: {exc}") from exc
        loop = asyncio.get_running_loop()
        request = _Request(prompt, sampling, loop, loop.create_future())
        self._ensure_worker()
        with self._cond:
            self._queue.append(request)
            self._cond.notify_all()
        result = await request.future
        if isinstance(result, BaseException):
            raise result
        text, n_prompt, n_new, finish = result
        message = parse_qwen_reply(text)
        if message.tool_calls and finish == "stop":
            finish = "tool_calls"
        return ChatResult(message=message, usage=Usage(prompt_tokens=n_prompt, completion_tokens=n_new),
                          finish_reason=finish, model=self.model)


def _settle(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)
