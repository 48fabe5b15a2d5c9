"""Seeded sampling per row of a batched `generate`: a request's sample does not depend on what it was batched with.

`transformers.generate` samples every row of a batch from the one global random stream, so a sampled request's
reply depends on which other requests share its batch and in what order: a seeded evaluation (pass@k at
temperature > 0) or a GRPO prompt filter cannot be replayed, and a resumed run draws other samples. `RowSampler` is
a logits processor that does the sampling itself: it applies the request's temperature, top-k, top-p and min-p
with transformers' own warpers, draws each row's token from that row's own `torch.Generator`, and leaves only that
token possible, so `generate` runs greedy over it. Each row's generator is seeded from the request's seed and its
prompt (`row_seed`), so the same request gives the same reply alone or in any batch (up to the float noise of
padding, which greedy decoding has too), and the turns of one trajectory, which share a seed, draw different
streams. A request without a seed draws a seed from torch's global generator.

Not here: batching requests (batched_local.py) or the single-request path (local_backend.py).
"""

from __future__ import annotations

import hashlib
from typing import Any

SAMPLING_KEYS = ("temperature", "top_p", "top_k", "min_p")


def row_seed(seed: int | None, prompt: str) -> int | None:
    """A 63-bit seed for one request: its own seed and its prompt, hashed (None without a seed)."""
    if seed is None:
        return None
    digest = hashlib.sha256(f"{int(seed)}\0{prompt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class RowSampler:
    """A transformers logits processor that samples each row with its own seeded generator."""

    def __init__(self, seeds: list[int | None], *, temperature: float, top_p: float = 1.0, top_k: int | None = None,
                 min_p: float | None = None) -> None:
        from transformers import MinPLogitsWarper, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

        if temperature <= 0:
            raise ValueError(f"RowSampler samples: temperature must be > 0, got {temperature}")
        self.seeds = list(seeds)
        self.warpers: list[Any] = [TemperatureLogitsWarper(temperature)]
        if top_k:
            self.warpers.append(TopKLogitsWarper(int(top_k)))
        if top_p < 1.0:
            self.warpers.append(TopPLogitsWarper(float(top_p)))
        if min_p:
            self.warpers.append(MinPLogitsWarper(float(min_p)))
        self.generators: list[Any] | None = None

    def _make_generators(self, device: Any) -> list[Any]:
        import torch

        generators = []
        for seed in self.seeds:
            if seed is None:
                seed = int(torch.randint(0, 2**62, (1,)).item())
            generators.append(torch.Generator(device=device).manual_seed(seed))
        return generators

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if scores.shape[0] != len(self.seeds):
            raise ValueError(f"RowSampler has {len(self.seeds)} seeds for a batch of {scores.shape[0]} rows")
        if self.generators is None:
            self.generators = self._make_generators(scores.device)
        for warper in self.warpers:
            scores = warper(input_ids, scores)
        probs = torch.softmax(scores.float(), dim=-1)
        picks = torch.stack([torch.multinomial(p, 1, generator=g) for p, g in zip(probs, self.generators,
                                                                                 strict=True)])
        out = torch.full_like(scores, float("-inf"))
        return out.scatter_(1, picks, 0.0)


def with_row_sampling(gen: dict[str, Any], seeds: list[int | None]) -> dict[str, Any]:
    """`generate` kwargs that sample each row with its own generator (unchanged when they decode greedily)."""
    if not gen.get("do_sample"):
        return gen
    out = {k: v for k, v in gen.items() if k not in SAMPLING_KEYS}
    sampler = RowSampler(seeds, temperature=float(gen["temperature"]), top_p=float(gen.get("top_p", 1.0)),
                         top_k=gen.get("top_k"), min_p=gen.get("min_p"))
    out.update(do_sample=False, logits_processor=[*gen.get("logits_processor", []), sampler])
    return out
