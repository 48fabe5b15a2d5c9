"""Key-value states carried from one turn of a conversation to the next, for the batched local backend.

An agent sends its whole conversation every turn, so a batch of 100 trajectories at turn 4 re-encodes ~900 tokens
a row that the model encoded (or wrote) one turn before: on the demo's evaluation most of a turn's generation time
is that prefill. `PrefixStore` keeps, after each batch, every row's tokens (its prompt and the reply it wrote) with
their key-value states, up to `budget_mb`; `lookup(ids)` gives the longest stored prefix of a new prompt.
`prefilled_batch` lays a batch out so the cached tokens need no forward pass: each row is left-padded to the
batch's cache width, its cached tokens, padding, then its new tokens,

    row 0:  [pad pad c c c c] [pad pad n n]
    row 1:  [c c c c c c c c] [n n n n n n]

with the attention mask zero on every pad, so positions (from the mask) and attention are those of the unpadded
row, and a static cache holds the cached part before `generate` runs. The cache width is the one that saves the
most prefill without widening the batch past 1.1x its plain width (a row with no stored prefix keeps it narrow).
`row_states(cache, ...)` takes each row's states back out after generation.

The replies are the model's replies either way; only the prefill differs in float order, and on the demo's 100
test tasks every turn of every trajectory came out token for token the same (docs/training.md, twenty-sixth
round). Not here: batching and decoding (batched_local.py); a paged or cross-process cache (that is vLLM's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WIDEN_AT_MOST = 1.1  # a layout may make the batch this much wider than left padding alone


@dataclass
class Entry:
    ids: Any  # numpy int array: the row's tokens
    states: list[tuple[Any, Any]]  # per layer: keys, values [kv_heads, tokens, head_dim]
    nbytes: int


class PrefixStore:
    """Rows' tokens and key-value states, newest first, within `budget_mb`."""

    def __init__(self, budget_mb: int) -> None:
        self.budget = budget_mb << 20
        self.entries: list[Entry] = []
        self.hit_tokens = 0  # prompt tokens served from the store (for measurements)
        self.prompt_tokens = 0

    @property
    def nbytes(self) -> int:
        return sum(e.nbytes for e in self.entries)

    def lookup(self, ids: list[int]) -> tuple[int, list[tuple[Any, Any]] | None]:
        """(n, states of the first n tokens) of the entry sharing the longest prefix with `ids`, short of its last
        token (a forward pass needs one new token); (0, None) when none does."""
        import numpy as np

        new = np.asarray(ids)
        best, found = 0, None
        for entry in self.entries:
            m = min(len(entry.ids), len(new) - 1)
            if m <= best:
                continue
            differ = np.flatnonzero(entry.ids[:m] != new[:m])
            n = int(differ[0]) if differ.size else m
            if n > best:
                best, found = n, entry
        self.prompt_tokens += len(ids)
        if found is None:
            return 0, None
        self.hit_tokens += best
        return best, [(k[:, :best], v[:, :best]) for k, v in found.states]

    def add(self, rows: list[tuple[list[int], list[tuple[Any, Any]]]]) -> None:
        """Store each (tokens, states) row in front; the oldest go past the budget."""
        import numpy as np

        fresh = [Entry(np.asarray(ids), states, sum(k.nbytes + v.nbytes for k, v in states)) for ids, states in rows]
        kept, total = [], 0
        for entry in fresh + self.entries:
            if total + entry.nbytes > self.budget:
                continue
            kept.append(entry)
            total += entry.nbytes
        self.entries = kept


def cache_width(lengths: list[int], cached: list[int]) -> int:
    """The cache width of a batch: rows with more cached tokens use only this many. The width with the fewest new
    tokens to encode among those that keep the batch within `WIDEN_AT_MOST` of its plain width (0: none)."""
    plain = max(lengths)

    def new_tokens(width: int) -> int:
        return max(n - min(c, width) for n, c in zip(lengths, cached, strict=True))

    fits = [w for w in {0, *cached} if w + new_tokens(w) <= WIDEN_AT_MOST * plain]
    return min(fits, key=lambda w: (new_tokens(w), w))


def prefilled_batch(model: Any, ids: list[list[int]], hits: list[tuple[int, Any]], pad_id: int,
                    max_new_tokens: int) -> tuple[Any, Any, Any]:
    """(input_ids, attention_mask, static cache holding the cached tokens' states) for `generate`."""
    import torch
    from transformers import StaticCache

    width = cache_width([len(x) for x in ids], [c for c, _ in hits])
    hits = [(min(c, width), [(k[:, :width], v[:, :width]) for k, v in s]) if c else (0, None) for c, s in hits]
    c_max = max(c for c, _ in hits)
    n_max = max(len(x) - c for x, (c, _) in zip(ids, hits, strict=True))
    rows, total = len(ids), c_max + n_max
    input_ids = torch.full((rows, total), pad_id, dtype=torch.long)
    mask = torch.zeros((rows, total), dtype=torch.long)
    for i, (x, (c, _)) in enumerate(zip(ids, hits, strict=True)):
        if c:
            input_ids[i, c_max - c:c_max] = torch.tensor(x[:c])
            mask[i, c_max - c:c_max] = 1
        input_ids[i, total - (len(x) - c):] = torch.tensor(x[c:])
        mask[i, total - (len(x) - c):] = 1
    cache = StaticCache(config=model.config, max_cache_len=total + max_new_tokens)
    if c_max:
        first = next(s for c, s in hits if c)
        for layer, (k0, v0) in enumerate(first):
            keys = torch.zeros((rows, k0.shape[0], c_max, k0.shape[2]), dtype=k0.dtype, device=k0.device)
            values = torch.zeros_like(keys)
            for i, (c, states) in enumerate(hits):
                if c:
                    keys[i, :, c_max - c:] = states[layer][0]
                    values[i, :, c_max - c:] = states[layer][1]
            cache.layers[layer].update(keys, values)
    return input_ids, mask, cache


def row_states(cache: Any, mask: Any, row: int, width: int, generated: int) -> list[tuple[Any, Any]]:
    """Row `row`'s states after generation: its prompt tokens (where `mask` is 1 in the first `width` columns) and
    its first `generated` new tokens (the cache has no state for the last token a batch wrote)."""
    import torch

    positions = torch.cat([torch.nonzero(mask[row, :width]).flatten(), torch.arange(width, width + generated)])
    return [(layer.keys[row][:, positions].clone(), layer.values[row][:, positions].clone()) for layer in cache.layers]
