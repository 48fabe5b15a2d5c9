"""vLLM generation for GRPO: TRL's GRPOConfig takes our settings in both modes, and `train vllm-serve` prints the
server command TRL itself builds. Generating with vLLM needs a GPU (scripts/gpu_check.sh runs it)."""

from __future__ import annotations

import yaml
from typer.testing import CliRunner

from sciresearcher.cli import app
from sciresearcher.train.vllm import VLLMSettings, grpo_vllm_args


def _grpo_config(**vllm_args):
    from trl import GRPOConfig

    return GRPOConfig(output_dir="/tmp/unused", use_cpu=True, bf16=False, per_device_train_batch_size=8,
                      num_generations=8, report_to=[], **vllm_args)


def test_colocate_settings_reach_trls_config():
    args = grpo_vllm_args(VLLMSettings(enabled=True, mode="colocate", gpu_memory_utilization=0.45,
                                       tensor_parallel_size=2, enable_sleep_mode=True, max_model_length=16384))
    config = _grpo_config(**args)
    assert config.use_vllm and config.vllm_mode == "colocate"
    assert config.vllm_gpu_memory_utilization == 0.45 and config.vllm_tensor_parallel_size == 2
    assert config.vllm_enable_sleep_mode and config.vllm_max_model_length == 16384


def test_server_settings_reach_trls_config():
    config = _grpo_config(**grpo_vllm_args(VLLMSettings(enabled=True, mode="server",
                                                         server_base_url="http://10.0.0.2:8000")))
    assert config.use_vllm and config.vllm_mode == "server" and config.vllm_server_base_url == "http://10.0.0.2:8000"
    assert grpo_vllm_args(VLLMSettings()) == {}  # off: transformers generation, nothing passed


def test_vllm_serve_dry_run_prints_trls_server_command(tmp_path, tiny_model_dir):
    config = tmp_path / "grpo.yaml"
    config.write_text(yaml.safe_dump({"model": str(tiny_model_dir), "dataset": "tasks.jsonl",
                                      "vllm": {"enabled": True, "mode": "server", "tensor_parallel_size": 2,
                                               "server_port": 8123, "max_model_length": 8192}}))
    result = CliRunner().invoke(app, ["train", "vllm-serve", str(config), "--dry-run"])
    assert result.exit_code == 0, result.output
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("VLLM_SERVER_DEV_MODE=1 ") and " serve " in line and str(tiny_model_dir) in line
    assert "--tensor-parallel-size 2" in line and "--port 8123" in line and "--max-model-len 8192" in line
