"""Separate weights for GRPO's positive and negative advantages (positive / negative sample reinforcement).

A group-normalised advantage is positive for a sample that beat its group's mean reward and negative for one
below it. Zhu et al. 2025 ("The Surprising Effectiveness of Negative Reinforcement in LLM Reasoning") split the
policy gradient into the two: positive sample reinforcement (PSR) raises the likelihood of the right samples and
sharpens the policy (entropy falls); negative sample reinforcement (NSR) lowers the wrong ones' and spreads their
mass over the rest (entropy rises); their W-REINFORCE weighs the positive part by 0.1. `weighted_advantages_trainer`
returns a subclass of a `GRPOTrainer` class that scales each sample's advantage after TRL computes it (the logged
advantages stay TRL's), so any loss type, the entropy mask and guidance see the weighted ones. Weights of 1 and 1
are TRL's GRPO. Not here: the reward, the grouping and the normalisation (TRL's `scale_rewards`).
"""

from __future__ import annotations

from typing import Any


def weigh_advantages(advantages: Any, positive: float, negative: float) -> Any:
    """`advantages` (a tensor) with its positive entries times `positive` and its negative ones times `negative`."""
    import torch

    return torch.where(advantages < 0, advantages * negative, advantages * positive)


def weighted_advantages_trainer(base: type, positive: float, negative: float) -> type:
    """A subclass of the trainer class `base` whose batches carry advantages weighted by sign."""

    class WeightedAdvantagesTrainer(base):  # type: ignore[misc, valid-type]
        def _generate_and_score_completions(self, inputs: Any) -> Any:
            output = super()._generate_and_score_completions(inputs)
            output["advantages"] = weigh_advantages(output["advantages"], positive, negative)
            return output

    WeightedAdvantagesTrainer.__name__ = f"WeightedAdvantages{base.__name__}"
    return WeightedAdvantagesTrainer
