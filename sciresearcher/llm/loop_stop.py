"""`LoopStop`: ends a local generation that has fallen into a loop, as if it had reached `max_tokens`.

A small model decoding greedily can repeat one phrase until its token budget runs out
(`", "goal": "density of", "goal": "density of", ...`). In a padded batch that one reply keeps every other row of
the batch decoding to the budget, and the garbage it leaves in the conversation widens every later prompt of the
batch. Such a reply is cut at `max_tokens` anyway (and scored as a cut turn), so stopping it once the loop is
plain changes what it says only in how much garbage it leaves.

A reply counts as looping when its last `min_span` or more generated tokens repeat one period of at most
`min_span // 3` tokens at least three times over (the prompt is never looked at). Real replies do not: a
tool call that reads the same document twice repeats ~30 tokens once, with other tokens in between. Rows that
already ended (an end-of-turn token) are never flagged. `stopped` holds the rows it stopped and the generated
length at which it did. It is for the local transformers backends; vLLM and APIs have no such switch.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sciresearcher.errors import ConfigError


def end_ids(generation_config: Any) -> set[int]:
    """The token ids that end a reply: a generation config's `eos_token_id` (one id, a list, or none)."""
    eos = getattr(generation_config, "eos_token_id", None)
    return set() if eos is None else {eos} if isinstance(eos, int) else set(eos)


def _criterion_base() -> type:
    from transformers import StoppingCriteria

    return StoppingCriteria


class LoopStop(_criterion_base()):  # type: ignore[misc]
    """A transformers StoppingCriteria flagging rows whose generated tail is one period repeated >= 3 times."""

    def __init__(self, prompt_width: int, min_span: int, end_ids: Iterable[int]) -> None:
        if min_span < 3:
            raise ConfigError(f"loop_stop must be 0 (off) or at least 3 tokens; got {min_span}")
        self.prompt_width = prompt_width
        self.min_span = min_span
        self.max_period = min_span // 3
        self.end_ids = sorted(set(end_ids))
        self.stopped: dict[int, int] = {}  # row -> generated tokens when stopped
        self._ended: Any = None
        self._end_ids: Any = None

    def __call__(self, input_ids: Any, scores: Any = None, **kwargs: Any) -> Any:
        import torch

        generated = input_ids[:, self.prompt_width:]
        rows, n = generated.shape
        if self._ended is None:  # the first step: state sized to the batch, on its device
            self._ended = torch.zeros(rows, dtype=torch.bool, device=input_ids.device)
            self._end_ids = torch.tensor(self.end_ids, device=input_ids.device)
        if n:
            self._ended |= torch.isin(generated[:, -1], self._end_ids)
        looping = torch.zeros(rows, dtype=torch.bool, device=input_ids.device)
        for period in range(1, self.max_period + 1):
            span = max(3 * period, self.min_span)
            if span > n:
                break
            tail = generated[:, -span:]
            looping |= (tail[:, period:] == tail[:, :-period]).all(dim=1)
        looping &= ~self._ended
        for row in looping.nonzero().flatten().tolist():
            self.stopped.setdefault(row, n)
        self._ended |= looping
        return looping
