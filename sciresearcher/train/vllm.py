"""vLLM generation for GRPO on TRL, as first-class config: `VLLMSettings` and the server launch.

Two modes, as TRL defines them:
- `colocate`: vLLM runs inside every training process and shares its GPUs (`gpu_memory_utilization` of each
  GPU for vLLM's KV cache; `tensor_parallel_size` GPUs per vLLM instance; `enable_sleep_mode` frees that memory
  while the optimizer steps). One command: `accelerate launch ... train grpo grpo.yaml`.
- `server`: vLLM runs on GPUs of its own (`train vllm-serve grpo.yaml` starts it with TRL's own server command),
  and the trainer on the others connects to `server_base_url` (or `server_host:server_port`) to generate and
  to push weights after each step. Start the server first, then `CUDA_VISIBLE_DEVICES=<the other GPUs>
  accelerate launch ... train grpo grpo.yaml`.

`grpo_vllm_args(settings)` are the GRPOConfig arguments; `serve_command(model, settings)` the server's argv and
environment, built by TRL (`trl.scripts.vllm_serve.build_command`, which `trl vllm-serve` runs), so flags follow
the installed TRL/vLLM. Our multi-turn environments (one sandbox per rollout) work the same with either mode:
tools run in the training processes, only token generation moves to vLLM. Nothing here imports vLLM.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class VLLMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="generate rollouts with vLLM instead of transformers.generate")
    mode: Literal["colocate", "server"] = Field("colocate", description="vLLM in the training processes, or a server")
    gpu_memory_utilization: float = Field(0.3, gt=0, le=1, description="colocate: share of each GPU for vLLM")
    tensor_parallel_size: int = Field(1, ge=1, description="GPUs per vLLM instance")
    enable_sleep_mode: bool = Field(False, description="colocate: offload vLLM's memory during optimizer steps")
    max_model_length: int | None = Field(None, ge=256, description="vLLM context; default the model's")
    server_base_url: str | None = Field(None, description="server mode: e.g. http://10.0.0.2:8000 (else host:port)")
    server_host: str = Field("0.0.0.0", description="server mode: where `train vllm-serve` listens / we connect")
    server_port: int = Field(8000, ge=1, le=65535)
    server_timeout: float = Field(240.0, gt=0, description="server mode: seconds to wait for the server at start")
    data_parallel_size: int = Field(1, ge=1, description="server mode: vLLM data-parallel replicas")
    server_gpu_memory_utilization: float = Field(0.9, gt=0, le=1, description="server mode: the server's GPUs")


def grpo_vllm_args(settings: VLLMSettings) -> dict[str, Any]:
    """GRPOConfig keyword arguments for these settings (empty when vLLM is off)."""
    if not settings.enabled:
        return {}
    args: dict[str, Any] = {"use_vllm": True, "vllm_mode": settings.mode,
                            "vllm_tensor_parallel_size": settings.tensor_parallel_size}
    if settings.mode == "colocate":
        args.update(vllm_gpu_memory_utilization=settings.gpu_memory_utilization,
                    vllm_enable_sleep_mode=settings.enable_sleep_mode)
        if settings.max_model_length is not None:
            args["vllm_max_model_length"] = settings.max_model_length
    else:
        args.update(vllm_server_host=settings.server_host, vllm_server_port=settings.server_port,
                    vllm_server_timeout=settings.server_timeout)
        if settings.server_base_url:
            args["vllm_server_base_url"] = settings.server_base_url
    return args


def serve_command(model: str, settings: VLLMSettings) -> tuple[list[str], dict[str, str]]:
    """(argv, extra environment) of the vLLM server TRL's trainers connect to in server mode."""
    from trl.scripts.vllm_serve import ScriptArguments, build_command

    script = ScriptArguments(model=model, host=settings.server_host, port=settings.server_port,
                             tensor_parallel_size=settings.tensor_parallel_size,
                             data_parallel_size=settings.data_parallel_size,
                             gpu_memory_utilization=settings.server_gpu_memory_utilization,
                             max_model_len=settings.max_model_length)
    # the weight-transfer and prefix-cache endpoints trainers use live behind vLLM's dev mode (as TRL sets it)
    return build_command(script), {"VLLM_SERVER_DEV_MODE": "1"}
