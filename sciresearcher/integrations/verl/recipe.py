"""`VerlRecipe`: the typed recipe of an agentic GRPO run on verl, and what it renders for verl.

- `tool_config(recipe)`: the tool config YAML verl's `initialize_tools_from_config` loads: our three tools
  (`integrations.verl.tools`), each with `type: native` and our `ToolsConfig` under `sciresearcher`;
- `overrides(recipe, tool_config_path)`: the hydra overrides of `python -m verl.trainer.main_ppo` (verl's own
  `ppo_trainer` config): GRPO advantages, the multi-turn tool agent loop with the Hermes/Qwen3 tool parser, the
  dataset written by `data export --format verl-rl`, our outcome reward (`data/verl_reward.py:compute_score`),
  FSDP2 actor, vLLM or SGLang rollouts, cluster size. Every key is one verl 0.9.1 defines; the verl-venv tests
  compose them with verl's own config to prove it.

It does not import verl (it runs in the main environment); `launch.py` writes the files and runs them.
The defaults are our choices for Qwen3-8B (the paper does not publish its RL hyperparameters); see
recipes/verl-qwen3-8b-grpo.yaml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sciresearcher.agent.toolbox import ToolsConfig

TOOL_CLASSES = {
    "search": "sciresearcher.integrations.verl.tools.SearchTool",
    "read": "sciresearcher.integrations.verl.tools.ReadTool",
    "python": "sciresearcher.integrations.verl.tools.PythonTool",
}
REWARD_FILE = Path(__file__).resolve().parents[2] / "data" / "verl_reward.py"


class RolloutSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    engine: Literal["vllm", "sglang"] = Field("vllm", description="verl's rollout engine")
    group_size: int = Field(8, ge=2, description="GRPO samples per prompt (verl rollout.n)")
    temperature: float = Field(1.0, gt=0)
    tensor_parallel: int = Field(2, ge=1, description="rollout tensor parallel size")
    gpu_memory_utilization: float = Field(0.6, gt=0, le=1)
    max_prompt_length: int = Field(4096, ge=64, description="system prompt + tools + question, in tokens")
    max_response_length: int = Field(16384, ge=64, description="every turn after the question, tool responses included")
    max_assistant_turns: int = Field(12, ge=1, description="model turns per trajectory")
    max_parallel_calls: int = Field(4, ge=1, description="tool calls run at once in one turn")
    max_tool_response_length: int = Field(6000, ge=64, description="characters of a tool response kept by verl")
    tool_parser: Literal["hermes"] = Field("hermes", description="Qwen3 writes Hermes-style <tool_call> blocks")
    agent_workers: int = Field(8, ge=1, description="verl agent-loop workers")


class TrainSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy: Literal["fsdp", "fsdp2"] = Field("fsdp2")
    learning_rate: float = Field(1e-6, gt=0)
    train_batch_size: int = Field(64, ge=1, description="prompts per step")
    ppo_mini_batch_size: int = Field(16, ge=1, description="prompts per optimizer update")
    micro_batch_size_per_gpu: int = Field(1, ge=1)
    max_token_len_per_gpu: int = Field(32768, ge=1024, description="dynamic-batch token budget per GPU")
    use_kl_loss: bool = Field(True)
    kl_loss_coef: float = Field(0.001, ge=0)
    entropy_coeff: float = Field(0.0, ge=0)
    clip_ratio_high: float = Field(0.28, gt=0, description="DAPO clip-higher")
    total_epochs: int = Field(1, ge=1)
    total_training_steps: int | None = Field(None, ge=1)
    save_freq: int = Field(20)
    test_freq: int = Field(10)
    gradient_checkpointing: bool = Field(True)


class ClusterSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nnodes: int = Field(1, ge=1)
    gpus_per_node: int = Field(8, ge=1)
    ray_address: str | None = Field(None, description="an existing Ray cluster (ray start --head ...); none = local")
    device: Literal["cuda", "npu", "cpu"] = Field("cuda")


class VerlRecipe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(..., description="the policy to train (a Hub id or a local checkpoint, e.g. the SFT output)")
    train_files: str = Field(..., description="`data export --format verl-rl` train.parquet")
    val_files: str | None = Field(None, description="its val.parquet (none = the train files)")
    tools: ToolsConfig = Field(default_factory=ToolsConfig, description="the agent's tools, as in every other stage")
    rollout: RolloutSettings = Field(default_factory=RolloutSettings)
    train: TrainSettings = Field(default_factory=TrainSettings)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    project_name: str = Field("sciresearcher")
    experiment_name: str = Field("grpo")
    checkpoint_dir: str | None = Field(None, description="default: OUT/checkpoints")
    loggers: list[str] = Field(default_factory=lambda: ["console"], description="verl trainer.logger (add wandb)")
    extra_overrides: list[str] = Field(default_factory=list, description="more hydra overrides, passed last")


def tool_config(recipe: VerlRecipe) -> dict[str, Any]:
    """The tool config verl loads (`actor_rollout_ref.rollout.multi_turn.tool_config_path`)."""
    shared = {"type": "native", "sciresearcher": recipe.tools.model_dump(mode="json"),
              "max_output_chars": recipe.rollout.max_tool_response_length}
    return {"tools": [{"class_name": TOOL_CLASSES[name], "config": dict(shared)} for name in recipe.tools.enabled]}


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, list):
        return "[" + ",".join(_value(x) for x in v) + "]"
    return str(v)


def overrides(recipe: VerlRecipe, tool_config_path: str | Path, out: str | Path) -> list[str]:
    """`key=value` overrides of verl's `ppo_trainer` config for this recipe."""
    r, t, c = recipe.rollout, recipe.train, recipe.cluster
    checkpoints = recipe.checkpoint_dir or str(Path(out) / "checkpoints")
    pairs: list[tuple[str, Any]] = [
        ("algorithm.adv_estimator", "grpo"),
        ("algorithm.use_kl_in_reward", False),
        ("data.train_files", recipe.train_files),
        ("data.val_files", recipe.val_files or recipe.train_files),
        ("data.prompt_key", "prompt"),
        ("data.return_raw_chat", True),
        ("data.train_batch_size", t.train_batch_size),
        ("data.max_prompt_length", r.max_prompt_length),
        ("data.max_response_length", r.max_response_length),
        ("data.filter_overlong_prompts", True),
        ("data.truncation", "error"),
        ("actor_rollout_ref.model.path", recipe.model),
        ("actor_rollout_ref.model.enable_gradient_checkpointing", t.gradient_checkpointing),
        ("actor_rollout_ref.model.use_remove_padding", True),
        ("actor_rollout_ref.actor.strategy", t.strategy),
        ("actor_rollout_ref.actor.optim.lr", t.learning_rate),
        ("actor_rollout_ref.actor.ppo_mini_batch_size", t.ppo_mini_batch_size),
        ("actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu", t.micro_batch_size_per_gpu),
        ("actor_rollout_ref.actor.use_dynamic_bsz", True),
        ("actor_rollout_ref.actor.ppo_max_token_len_per_gpu", t.max_token_len_per_gpu),
        ("actor_rollout_ref.actor.use_kl_loss", t.use_kl_loss),
        ("actor_rollout_ref.actor.kl_loss_coef", t.kl_loss_coef),
        ("actor_rollout_ref.actor.kl_loss_type", "low_var_kl"),
        ("actor_rollout_ref.actor.entropy_coeff", t.entropy_coeff),
        ("actor_rollout_ref.actor.clip_ratio_high", t.clip_ratio_high),
        ("actor_rollout_ref.actor.loss_agg_mode", "token-mean"),
        ("actor_rollout_ref.ref.strategy", t.strategy),
        ("actor_rollout_ref.rollout.name", r.engine),
        ("actor_rollout_ref.rollout.mode", "async"),
        ("actor_rollout_ref.rollout.n", r.group_size),
        ("actor_rollout_ref.rollout.temperature", r.temperature),
        ("actor_rollout_ref.rollout.tensor_model_parallel_size", r.tensor_parallel),
        ("actor_rollout_ref.rollout.gpu_memory_utilization", r.gpu_memory_utilization),
        ("actor_rollout_ref.rollout.multi_turn.enable", True),
        ("actor_rollout_ref.rollout.multi_turn.format", r.tool_parser),
        ("actor_rollout_ref.rollout.multi_turn.tool_config_path", str(tool_config_path)),
        ("actor_rollout_ref.rollout.multi_turn.max_assistant_turns", r.max_assistant_turns),
        ("actor_rollout_ref.rollout.multi_turn.max_parallel_calls", r.max_parallel_calls),
        ("actor_rollout_ref.rollout.multi_turn.max_tool_response_length", r.max_tool_response_length),
        ("actor_rollout_ref.rollout.agent.default_agent_loop", "tool_agent"),
        ("actor_rollout_ref.rollout.agent.num_workers", r.agent_workers),
        ("reward.custom_reward_function.path", str(REWARD_FILE)),
        ("reward.custom_reward_function.name", "compute_score"),
        ("trainer.project_name", recipe.project_name),
        ("trainer.experiment_name", recipe.experiment_name),
        ("trainer.logger", recipe.loggers),
        ("trainer.nnodes", c.nnodes),
        ("trainer.n_gpus_per_node", c.gpus_per_node),
        ("trainer.device", c.device),
        ("trainer.total_epochs", t.total_epochs),
        ("trainer.save_freq", t.save_freq),
        ("trainer.test_freq", t.test_freq),
        ("trainer.default_local_dir", checkpoints),
    ]
    if t.total_training_steps is not None:
        pairs.append(("trainer.total_training_steps", t.total_training_steps))
    return [f"{k}={_value(v)}" for k, v in pairs] + list(recipe.extra_overrides)
