"""Copy pretraining of a student built from scratch: the in-context copying every pretrained LM already has.

A research routine copies ids, names and numbers from the question and from tool outputs into its next call
(`read("record:assay:EP-0054")` after search printed it; `Km = 2002.4` after read returned it). Pretrained
language models can do that from the start (induction heads, learned from web-scale text); the tiny Qwen3 that
`train.tiny.build_tiny_model` writes has random weights and cannot, and SFT on a few hundred trajectories does
not teach it within a CPU budget: it learns the routine's shape and writes ids and numbers it memorised. So
the demo gives the tiny student that one skill first, as a stand-in for pretraining.

`pretrain_copying(model_dir, texts, config)` trains on sequences built from the given texts only (the run's
training documents: no task, question or answer): a span of a document, a filler span, the same span again,
repeated to `seq_len` tokens, with the causal LM loss on the repeats only (from each repeat's second token: its
first token has no cue). With `pseudo_words` > 0, that share of the words in each copied span is replaced by a
made-up word (the same in both copies, e.g. "the density of tobaric near room temperature"): the run's
documents recur in every batch, so their spans can be recalled rather than copied, and a name the student never
saw (a held-out element in a test question) must be copied letter by letter; a made-up word can only be copied.
A loss on every token would spend the model's capacity on predicting the documents (text it may memorise) and
reach a lower copy accuracy: on the demo's documents, 0.74 after 1,200 steps with the loss everywhere against
0.88 after 600 with the loss on the repeats. So what the model learns is to find the earlier occurrence and
continue it. It reports the copy accuracy (greedy next-token accuracy on the repeats) at the start and the end.
A real base model (Qwen3-8B) needs none of this. Not here: building the model (tiny.py), SFT and GRPO (sft.py, grpo.py).
"""

from __future__ import annotations

import logging
import math
import random
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sciresearcher.errors import TrainingError
from sciresearcher.synth.fictional import (
    made_up_word as pseudo_word,  # the same made-up words as fictional elements
)

log = logging.getLogger(__name__)


class CopyPretrainConfig(BaseModel):
    """Settings of `pretrain_copying`; `steps: 0` skips it."""

    model_config = ConfigDict(extra="forbid")

    steps: int = Field(0, ge=0, description="optimizer steps (0: no copy pretraining)")
    learning_rate: float = Field(3e-3, gt=0, description="AdamW peak learning rate (after a linear warmup)")
    warmup_steps: int = Field(30, ge=0)
    schedule: Literal["constant", "cosine"] = Field("constant", description="after the warmup: hold the peak rate, or "
                                                    "anneal it to zero by the last step (half a cosine)")
    batch_size: int = Field(16, ge=1, description="sequences per step")
    seq_len: int = Field(256, ge=32, description="tokens per sequence")
    min_span: int = Field(8, ge=1, description="shortest copied span, in tokens")
    max_span: int = Field(40, ge=1, description="longest copied span, in tokens")
    pseudo_words: float = Field(0.0, ge=0.0, le=1.0, description="share of the words (2+ letters) in each copied "
                                "span replaced by a made-up word, the same in both copies (0: none)")
    seed: int = 0
    threads: int | None = Field(None, ge=1, description="torch CPU threads (none: torch's default)")
    compile: bool = Field(False, description="torch.compile the forward and loss (every batch has the same shape: "
                          "one compilation, ~15 s, then ~25% faster steps on a CPU); eager, with a warning, if it "
                          "cannot compile (no C compiler)")


def learning_rate_at(step: int, config: CopyPretrainConfig) -> float:
    """The rate of optimizer step `step` (1-based): linear warmup, then constant or half a cosine down to zero."""
    if step <= config.warmup_steps:
        return config.learning_rate * step / max(1, config.warmup_steps)
    if config.schedule == "constant":
        return config.learning_rate
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return config.learning_rate * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


_WORD = re.compile(r"[A-Za-z]{2,}")


def with_pseudo_words(text: str, share: float, rng: random.Random) -> str:
    """`text` with each word of 2+ letters replaced by a made-up word with probability `share`."""
    return _WORD.sub(lambda m: pseudo_word(rng, m.group()) if rng.random() < share else m.group(), text)


def copy_batch(token_texts: Sequence[Sequence[int]], rng: random.Random, config: CopyPretrainConfig,
               tokenizer: Any = None) -> tuple[list[list[int]], list[list[int]]]:
    """`batch_size` sequences of `seq_len` tokens made of (span, filler, the same span) triples, and for each a
    mask marking the predictable tokens of the repeats (1: every token of a repeat but its first) against the
    rest (0). With `config.pseudo_words`, `tokenizer` (the model's) re-tokenizes each copied span after the
    made-up words go in."""
    if config.pseudo_words and tokenizer is None:
        raise TrainingError("copy pretraining with pseudo_words needs the model's tokenizer")

    def span(lo: int, hi: int) -> list[int]:
        text = rng.choice(token_texts)
        n = rng.randint(lo, hi)
        start = rng.randrange(0, max(1, len(text) - n))
        return list(text[start:start + n])

    def copied_span() -> list[int]:
        ids = span(config.min_span, config.max_span)
        if not config.pseudo_words:
            return ids
        text = with_pseudo_words(tokenizer.decode(ids), config.pseudo_words, rng)
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    seqs, masks = [], []
    for _ in range(config.batch_size):
        seq: list[int] = []
        mask: list[int] = []
        while len(seq) < config.seq_len:
            copied = copied_span()
            filler = span(config.min_span // 2 or 1, config.max_span)
            seq += copied + filler + copied
            mask += [0] * (len(copied) + len(filler) + 1) + [1] * (len(copied) - 1)
        seqs.append(seq[:config.seq_len])
        masks.append(mask[:config.seq_len])
    return seqs, masks


def pretrain_copying(model_dir: str | Path, texts: Sequence[str], config: CopyPretrainConfig,
                     on_step: Callable[[int, float], None] | None = None) -> dict[str, Any]:
    """Trains the model in `model_dir` to copy from its context and saves it there; returns the figures
    (`steps`, `copy_accuracy_first`, `copy_accuracy_last`, `seconds`). `on_step(step, copy_accuracy)` follows
    progress."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if config.steps == 0:
        return {"steps": 0}
    if config.min_span > config.max_span:
        raise TrainingError(f"copy pretraining: min_span {config.min_span} > max_span {config.max_span}")
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    token_texts = [ids for ids in (tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts)
                   if len(ids) > config.max_span]
    if not token_texts:
        raise TrainingError(f"copy pretraining needs texts longer than max_span={config.max_span} tokens; got "
                            f"{len(texts)} shorter ones", hint="give it the run's documents, or lower max_span")
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    model = AutoModelForCausalLM.from_pretrained(str(model_dir))
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.0)
    accuracies: list[float] = []

    def masked_loss(ids: Any, mask: Any) -> tuple[Any, Any]:
        logits = model(ids).logits[:, :-1]
        losses = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1),
                                                   reduction="none")
        return (losses * mask.reshape(-1)).sum() / mask.sum(), logits

    loss_fn: Callable[[Any, Any], tuple[Any, Any]] = torch.compile(masked_loss) if config.compile else masked_loss
    compiled = config.compile
    started = time.time()
    for step in range(1, config.steps + 1):
        seqs, masks = copy_batch(token_texts, rng, config, tokenizer)
        ids, mask = torch.tensor(seqs), torch.tensor(masks)[:, 1:].float()
        try:
            loss, logits = loss_fn(ids, mask)
        except Exception as exc:  # only the first step compiles; eager computes the same loss
            if not (compiled and step == 1):
                raise
            log.warning("copy pretraining: torch.compile failed (%s: %s); training eagerly", type(exc).__name__,
                        str(exc).splitlines()[0] if str(exc) else "")
            loss_fn, compiled = masked_loss, False
            loss, logits = loss_fn(ids, mask)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(step, config)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        with torch.no_grad():
            hits = (logits.argmax(-1) == ids[:, 1:]).float()
            accuracies.append(float((hits * mask).sum() / mask.sum()))
        if on_step is not None:
            on_step(step, accuracies[-1])
    model.save_pretrained(str(model_dir))
    window = max(1, min(10, len(accuracies) // 4))
    figures = {"steps": config.steps, "copy_accuracy_first": sum(accuracies[:window]) / window,
               "copy_accuracy_last": sum(accuracies[-window:]) / window, "seconds": time.time() - started,
               "compiled": compiled}
    log.info("copy pretraining: %d steps, copy accuracy %.3f -> %.3f in %.0fs", config.steps,
             figures["copy_accuracy_first"], figures["copy_accuracy_last"], figures["seconds"])
    return figures
