"""GRPO with its positive and negative advantages weighted apart (train/advantage_weights.py), on the tiny model:
a guided group (the teacher's right trajectory beside a failed sample) gives one advantage of each sign."""

from __future__ import annotations

import json

import pytest
import torch
from train_helpers import PYTHON_TASK, python_gold_row
from trl import GRPOTrainer

from sciresearcher.train.advantage_weights import weigh_advantages
from sciresearcher.train.grpo import GRPORunConfig, build_grpo_trainer
from sciresearcher.train.guidance import GuidanceConfig


def _config(model, out, tmp_path, **kw) -> GRPORunConfig:
    guide = tmp_path / "guide.jsonl"
    guide.write_text(json.dumps(python_gold_row()) + "\n")
    settings = {"model": str(model), "dataset": "unused.jsonl", "output_dir": str(out), "tools": {"enabled": ["python"]},
                "system_prompt": "", "num_generations": 2, "per_device_train_batch_size": 2,
                "max_completion_length": 300, "max_tool_calling_iterations": 1, "max_steps": 1, "learning_rate": 1e-4,
                "temperature": 1.0, "save_steps": 100, "use_cpu": True,
                "guidance": GuidanceConfig(trajectories=str(guide))}
    return GRPORunConfig(**{**settings, **kw})


def test_weights_scale_each_sign_of_advantage():
    adv = torch.tensor([1.5, -0.5, 0.0, -2.0])
    assert weigh_advantages(adv, 0.1, 1.0).tolist() == pytest.approx([0.15, -0.5, 0.0, -2.0])
    assert weigh_advantages(adv, 1.0, 0.0).tolist() == pytest.approx([1.5, 0.0, 0.0, 0.0])


def test_the_loss_sees_the_weighted_advantages_and_the_log_keeps_trls(tiny_model_dir, tmp_path):
    trainer = build_grpo_trainer(_config(tiny_model_dir, tmp_path / "run", tmp_path, negative_advantage_weight=0.25),
                                 tasks=[PYTHON_TASK])
    seen = []
    compute_loss = trainer.compute_loss

    def recording(model, inputs, *args, **kwargs):
        seen.append(inputs["advantages"].detach().clone())
        return compute_loss(model, inputs, *args, **kwargs)

    trainer.compute_loss = recording
    trainer.train()
    raw = sorted(trainer._logs["advantages"])  # TRL's: the teacher's sample above the mean, the failed one below
    assert raw[0] < 0 < raw[1]
    assert sorted(seen[0].tolist()) == pytest.approx([raw[0] * 0.25, raw[1]])


def test_weights_of_one_are_trls_trainer(tiny_model_dir, tmp_path):
    plain = build_grpo_trainer(_config(tiny_model_dir, tmp_path / "a", tmp_path, guidance=None), tasks=[PYTHON_TASK])
    assert type(plain) is GRPOTrainer
    weighted = build_grpo_trainer(_config(tiny_model_dir, tmp_path / "b", tmp_path, positive_advantage_weight=0.1),
                                  tasks=[PYTHON_TASK])
    assert isinstance(weighted, GRPOTrainer) and type(weighted).__name__.startswith("WeightedAdvantages")
