"""Agentic GRPO with an outcome-only reward, on TRL's `GRPOTrainer` with `environment_factory`.

`GRPORunConfig` is the typed config; `run_grpo(config)` reads a JSONL of Task records, renders each as the
agent's prompt (the same system prompt and question rendering as the agent loop), and trains with one
environment per rollout (its own sandbox session plus the frozen search and read tools, see environment.py).
The reward is outcome-only: 1.0 when the deterministic grader (`sciresearcher.grade.graders.grade`) accepts the
final answer against the task's gold answer, else 0.0; no format or step rewards. `max_completion_length`
counts the whole multi-turn completion, tool output included. Checkpoints, resume, resolved config, reward
and loss curves and summary.json go to the run directory as for SFT.

With `judge_llm` set, the reward is the HLE judge's verdict instead (an async reward, see rewards.py). Rollouts
generate with transformers, or with vLLM (`vllm.enabled`, colocate or server mode: train/vllm.py, whose
`train vllm-serve` starts the server). With `guidance` set, a group whose samples all fail gets the task's solved
teacher trajectory in place of one sample (off-policy guidance, guidance.py); `positive_advantage_weight` and
`negative_advantage_weight` scale the two signs of advantage apart (advantage_weights.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sciresearcher.agent.toolbox import ToolsConfig
from sciresearcher.errors import TrainingError
from sciresearcher.llm.config import LLMConfig
from sciresearcher.records import Task
from sciresearcher.tasks.files import read_tasks
from sciresearcher.train.guidance import GuidanceConfig
from sciresearcher.train.rewards import (  # noqa: F401 (final_text re-exported)
    copy_reward,
    final_text,
    make_judge_reward,
    outcome_reward,
)
from sciresearcher.train.sft import (
    LoraConfig,
    attach_callbacks,
    check_model_dir,
    device_settings,
    finish_run,
    finished_summary,
    last_checkpoint,
    load_tokenizer,
    peft_config,
    schedule_args,
    step_logger,
    training_run,
)
from sciresearcher.train.templates import with_response_parser
from sciresearcher.train.vllm import VLLMSettings, grpo_vllm_args

log = logging.getLogger(__name__)


class GRPORunConfig(BaseModel):
    """One GRPO run; the generation batch (batch size x grad accumulation x processes) must hold whole groups."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(..., description="local model directory, usually the SFT run's final/")
    dataset: str = Field(..., description="JSONL of Task records (question + gold answer)")
    output_dir: str = "runs/grpo"
    tools: ToolsConfig = Field(default_factory=ToolsConfig)
    system_prompt: str | None = Field(None, description="null: the agent's own system prompt")
    lora: LoraConfig = Field(default_factory=LoraConfig)
    num_generations: int = 8
    loss_type: Literal["grpo", "dapo", "dr_grpo", "bnpo", "cispo", "sapo", "luspo", "vespo"] = "dapo"
    beta: float = 0.0
    max_completion_length: int = Field(8192, description="whole multi-turn completion, tool output included")
    max_tool_calling_iterations: int | None = 16
    mask_truncated_completions: bool = True
    temperature: float = 1.0
    num_train_epochs: float = 1.0
    max_steps: int = -1
    learning_rate: float = 1e-6
    per_device_train_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    gradient_checkpointing: bool | None = None
    bf16: bool | None = None
    logging_steps: int = 1
    save_steps: int = 100
    save_total_limit: int | None = 3
    report_to: list[str] = Field(default_factory=lambda: ["none"])
    judge_llm: LLMConfig | None = Field(None, description="reward from the HLE judge on this (frozen) model "
                                        "instead of the deterministic grader")
    log_completions: bool = False
    seed: int = 0
    use_cpu: bool | None = None
    resume: bool = True
    vllm: VLLMSettings = Field(default_factory=VLLMSettings, description="vLLM generation (colocate or server)")
    guidance: GuidanceConfig | None = Field(None, description="a teacher's solved trajectory in groups whose samples "
                                            "all fail (off-policy guidance, guidance.py)")
    copy_reward: float = Field(0.0, ge=0.0, le=1.0, description="weight of the copy reward beside the outcome "
                               "reward (rewards.copy_reward: the share of the task's values the python code assigns "
                               "right); 0: outcome only")
    top_entropy_quantile: float = Field(1.0, gt=0, le=1, description="policy loss on this top share of completion "
                                        "tokens by entropy only (Wang et al. 2025, 'Beyond the 80/20 rule'; 1: all)")
    loop_stop: int = Field(0, ge=0, description="end a completion whose last N+ tokens repeat one phrase 3 times "
                           "over, as truncated (what it would be at max_completion_length), instead of decoding the "
                           "budget (0: off; at least 3; transformers generation only): train/grpo_loop_stop.py")
    positive_advantage_weight: float = Field(1.0, ge=0.0, le=1.0, description="scale of the advantages above the "
                                             "group's mean (0: negative samples only, NSR; 0.1: W-REINFORCE): "
                                             "advantage_weights.py")
    negative_advantage_weight: float = Field(1.0, ge=0.0, le=1.0, description="scale of the advantages below the "
                                             "group's mean (0: positive samples only, PSR)")
    trainer_overrides: dict[str, Any] = Field(default_factory=dict, description="extra GRPOConfig arguments")


def task_rows(tasks: list[Task], system_prompt: str | None = None) -> list[dict[str, Any]]:
    """Dataset rows: the conversational prompt and the task as JSON (for the reward)."""
    from sciresearcher.agent.prompts import SYSTEM_PROMPT, render_question

    system = SYSTEM_PROMPT if system_prompt is None else system_prompt
    rows = []
    for task in tasks:
        prompt = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": render_question(task)}]
        rows.append({"prompt": prompt, "task": task.model_dump_json()})
    return rows


def build_grpo_trainer(config: GRPORunConfig, *, environment_factory: Callable[[], Any] | None = None,
                       reward_funcs: list[Callable[..., Any]] | None = None,
                       tasks: list[Task] | None = None) -> Any:
    """The GRPOTrainer for this config; the environment and reward default to the research tools and the grader."""
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    model_dir = check_model_dir(config.model)
    if config.loop_stop and (config.loop_stop < 3 or config.vllm.enabled or config.trainer_overrides.get("use_vllm")):
        raise TrainingError(f"grpo.loop_stop {config.loop_stop}: it needs at least 3 tokens and transformers generation",
                          hint="set loop_stop: 0 (off) with vLLM, or a span of 3+ tokens (the demo uses 96)")
    tokenizer = with_response_parser(load_tokenizer(model_dir))
    tasks = tasks if tasks is not None else read_tasks(config.dataset, what="GRPO task file")
    per_batch = config.per_device_train_batch_size * config.gradient_accumulation_steps // max(1, config.num_generations)
    if len(tasks) < per_batch:  # TRL's sampler would yield no batch: 0 steps, the input model saved as the output
        raise TrainingError(f"GRPO has {len(tasks)} task(s), fewer than the {per_batch} prompts one step draws "
                            f"({config.per_device_train_batch_size} x {config.gradient_accumulation_steps} completions "
                            f"/ {config.num_generations} per group): no step would run",
                            hint="give GRPO more tasks (a wider prompt_filter or pool) or fewer prompts a step")
    if environment_factory is None:
        from sciresearcher.train.environment import research_environment_factory

        environment_factory = research_environment_factory(config.tools)
    device = device_settings(config.use_cpu, config.bf16, config.gradient_checkpointing)
    weights: dict[str, Any] = {}
    if reward_funcs is None:
        reward_funcs = [outcome_reward]
        if config.judge_llm is not None:
            from sciresearcher.grade.judge import HLEJudge
            from sciresearcher.llm import make_client

            reward_funcs = [make_judge_reward(HLEJudge(make_client(config.judge_llm)))]
        if config.copy_reward:
            reward_funcs.append(copy_reward)
            weights = {"reward_weights": [1.0, config.copy_reward]}
    try:
        args = GRPOConfig(
            output_dir=config.output_dir,
            num_generations=config.num_generations,
            loss_type=config.loss_type,
            beta=config.beta,
            max_completion_length=config.max_completion_length,
            max_tool_calling_iterations=config.max_tool_calling_iterations,
            mask_truncated_completions=config.mask_truncated_completions,
            top_entropy_quantile=config.top_entropy_quantile,
            temperature=config.temperature,
            log_completions=config.log_completions,
            **schedule_args(config),
            **device,
            **grpo_vllm_args(config.vllm),
            **weights,
            **config.trainer_overrides,
        )
    except ValueError as exc:
        raise TrainingError(f"TRL rejected the GRPO settings: {exc}", hint="for batch sizes: per_device_train_batch_size"
                            " x gradient_accumulation_steps x processes must be a multiple of num_generations") from exc
    trainer_cls: Any = GRPOTrainer
    extra: dict[str, Any] = {}
    if config.guidance is not None:
        if config.vllm.enabled or config.trainer_overrides.get("use_vllm"):
            raise TrainingError("GRPO guidance runs with transformers generation only", hint="set vllm.enabled: false, "
                                "or drop guidance (TRL's importance-sampling correction needs the sampler's "
                                "log-probabilities, which a teacher's trajectory does not have)")
        from sciresearcher.train.guidance import guided_grpo_trainer

        trainer_cls, extra = guided_grpo_trainer(GRPOTrainer), {"guidance": config.guidance}
    if (config.positive_advantage_weight, config.negative_advantage_weight) != (1.0, 1.0):
        from sciresearcher.train.advantage_weights import weighted_advantages_trainer

        trainer_cls = weighted_advantages_trainer(trainer_cls, config.positive_advantage_weight,
                                                  config.negative_advantage_weight)
    try:
        trainer = trainer_cls(model=str(model_dir), reward_funcs=reward_funcs, args=args,
                              train_dataset=Dataset.from_list(task_rows(tasks, config.system_prompt)),
                              processing_class=tokenizer, peft_config=peft_config(config.lora),
                              environment_factory=environment_factory, callbacks=[step_logger("grpo")], **extra)
    except ValueError as exc:
        if "divisible" in str(exc) or "num_generations" in str(exc):
            raise TrainingError(f"GRPO batch setup: {exc}", hint="per_device_train_batch_size x "
                                "gradient_accumulation_steps x processes must be a multiple of num_generations") from exc
        if "tool calling" in str(exc) or "chat template" in str(exc):
            raise TrainingError(f"the tokenizer's chat template cannot run tools in GRPO: {exc}",
                                hint="use a model whose template TRL supports (Qwen3, ...)") from exc
        raise
    if config.loop_stop:
        from sciresearcher.train.grpo_loop_stop import with_loop_stop

        with_loop_stop(trainer.model, config.loop_stop)
    from sciresearcher.train.cpu_matmul import generate_on_default_kernels

    generate_on_default_kernels(trainer.model)  # sampling on the default kernels, updates in the process's mode
    return trainer


def run_grpo(config: GRPORunConfig, *, environment_factory: Callable[[], Any] | None = None,
             reward_funcs: list[Callable[..., Any]] | None = None, callbacks: list[Any] | None = None) -> dict[str, Any]:
    """Trains, resuming from the run directory's last checkpoint; returns the summary (also summary.json).
    `callbacks` (TrainerCallback instances) replace the trainer's printed progress (`sft.attach_callbacks`)."""
    out = Path(config.output_dir)
    check_model_dir(config.model)
    with training_run(out, config) as run:
        resume = last_checkpoint(out) if config.resume else None
        done = finished_summary(out, resume, config.max_steps)
        if done is not None:
            return done
        trainer = build_grpo_trainer(config, environment_factory=environment_factory, reward_funcs=reward_funcs)
        attach_callbacks(trainer, list(callbacks or []))
        log.info("%d GRPO tasks from %s", len(trainer.train_dataset), config.dataset)
        trainer.train(resume_from_checkpoint=resume)
        rewards = [h["reward"] for h in trainer.state.log_history if "reward" in h]
        truncated = _truncated_share(trainer.state.log_history, config.max_completion_length)
        return finish_run(trainer, out, config, "grpo", run,
                          extra={"last_reward": rewards[-1] if rewards else None, "rewards": rewards,
                                 "truncated_share": truncated}, resumed_from=resume)


def _truncated_share(history: list[dict[str, Any]], limit: int) -> float | None:
    """The share of completions that ended without an end-of-turn token (TRL's `completions/clipped_ratio`: out of
    completion budget, context or tool-call iterations), warned about when it is most of them: such a rollout has no
    final answer, so the outcome reward is 0 whatever the policy knows."""
    shares = [float(h["completions/clipped_ratio"]) for h in history if "completions/clipped_ratio" in h]
    if not shares:
        return None
    share = sum(shares) / len(shares)
    if share > 0.5:
        log.warning("%.0f%% of GRPO completions were cut before the final answer (max_completion_length %d, the "
                    "model's context or max_tool_calling_iterations): they score 0; raise the limit that binds "
                    "(a full trajectory of the SFT rows is prompt + every turn + every tool output)", 100 * share, limit)
    return share
