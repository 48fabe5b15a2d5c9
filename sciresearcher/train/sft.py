"""Supervised fine-tuning of the main agent on `{"messages", "tools"}` rows with TRL's `SFTTrainer`.

`SFTRunConfig` is the typed config (YAML + dotted overrides); `run_sft(config)` validates the rows against the
tokenizer's training chat template (unmaskable, token-divergent or overlong rows stop the run before any
step, naming the row), then trains with `assistant_only_loss=True` on whole conversations, or with a
completion-only loss on prompt-completion turns: only the main agent's reasoning, tool calls, answers and
end-of-turn tokens carry loss; system and user turns and tool responses (with the frozen sub-agents' outputs
inside them) are masked. Full fine-tuning or LoRA (peft). Checkpoints land in the run directory and a rerun
with the same config resumes from the last one; the resolved config, a loss curve PNG and summary.json are
written there too. The same config runs under `accelerate launch` (see docs/training.md).

It does not build the rows (the export step does, with `trajectory_to_sft_row`) nor evaluate the model.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sciresearcher.errors import ConfigError, TrainingError

log = logging.getLogger(__name__)


class LoraConfig(BaseModel):
    """LoRA adapter settings (peft); `enabled: false` means full fine-tuning."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] | str = "all-linear"


class SFTRunConfig(BaseModel):
    """One SFT run. Paths are local; `use_cpu: null` picks the CPU when no accelerator is visible."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(..., description="local model directory (config, weights, tokenizer with a chat template)")
    dataset: str = Field(..., description="JSONL of SFT rows {messages, tools}")
    output_dir: str = Field("runs/sft", description="run directory: checkpoints, config.yaml, loss.png")
    lora: LoraConfig = Field(default_factory=LoraConfig)
    max_length: int = Field(32768, description="token budget per row; research trajectories are long")
    overlong: Literal["error", "drop"] = "error"
    check_tokens: bool = Field(True, description="refuse rows whose training tokens differ from what the policy "
                               "saw at some turn (train/token_check.py)")
    num_train_epochs: float = 3.0
    max_steps: int = Field(-1, description="overrides epochs when > 0")
    learning_rate: float = 1e-5
    lr_scheduler_type: str = "cosine"
    warmup_ratio: float = Field(0.03, description="warm-up: a fraction of the steps (< 1) or a step count (>= 1)")
    weight_decay: float = 0.0
    per_device_train_batch_size: int = 1
    gradient_accumulation_steps: int = 8
    gradient_checkpointing: bool | None = Field(None, description="null: on with an accelerator, off on CPU")
    bf16: bool | None = Field(None, description="null: on when the accelerator supports it, off on CPU")
    logging_steps: int = 10
    save_steps: int = 500
    save_total_limit: int | None = 3
    report_to: list[str] = Field(default_factory=lambda: ["none"], description="none, tensorboard or wandb")
    seed: int = 0
    use_cpu: bool | None = None
    resume: bool = Field(True, description="continue from the run directory's last checkpoint when there is one")
    trainer_overrides: dict[str, Any] = Field(default_factory=dict, description="extra SFTConfig arguments")


def _has_accelerator() -> bool:
    import torch

    return torch.cuda.is_available()


def check_model_dir(path: str) -> Path:
    """The model directory, or a ConfigError saying what is missing."""
    model = Path(path)
    if not model.is_dir() or not (model / "config.json").is_file():
        raise ConfigError(
            f"model path {model} is not a model directory (no config.json there)",
            hint="pass a local directory written by save_pretrained, e.g. `sciresearcher train tiny-model --out DIR`",
        )
    return model


def model_context(model_dir: str | Path) -> int:
    """The model's context length in tokens (`max_position_embeddings` in its config.json)."""
    config = json.loads((check_model_dir(str(model_dir)) / "config.json").read_text())
    context = config.get("max_position_embeddings") or config.get("text_config", {}).get("max_position_embeddings")
    if not context:
        raise ConfigError(f"{model_dir}/config.json names no max_position_embeddings",
                          hint="set the export's max_length explicitly")
    return int(context)


def schedule_args(config: Any) -> dict[str, Any]:
    """The TrainingArguments fields SFT and GRPO configs share: length, batch, logging and checkpoints."""
    names = ("num_train_epochs", "max_steps", "learning_rate", "per_device_train_batch_size",
             "gradient_accumulation_steps", "logging_steps", "save_steps", "save_total_limit", "report_to", "seed")
    return {name: getattr(config, name) for name in names}


def device_settings(use_cpu: bool | None, bf16: bool | None, gradient_checkpointing: bool | None) -> dict[str, Any]:
    """Resolved device flags: CPU means fp32 and no gradient checkpointing (docs/training.md)."""
    import torch

    cpu = (not _has_accelerator()) if use_cpu is None else use_cpu
    if cpu:
        return {"use_cpu": True, "bf16": False, "activation_checkpointing": False}
    bf = torch.cuda.is_bf16_supported() if bf16 is None else bf16
    return {"use_cpu": False, "bf16": bf, "activation_checkpointing": True if gradient_checkpointing is None
            else gradient_checkpointing}


def load_tokenizer(model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    if not tok.chat_template:
        raise TrainingError(f"the tokenizer in {model_dir} has no chat template", hint="use a chat model's tokenizer")
    return tok


def peft_config(lora: LoraConfig) -> Any:
    if not lora.enabled:
        return None
    from peft import LoraConfig as PeftLoraConfig

    return PeftLoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                          target_modules=lora.target_modules, task_type="CAUSAL_LM")


def last_checkpoint(output_dir: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(output_dir)) if output_dir.is_dir() else None


def checkpoint_step(checkpoint: str | None) -> int:
    """The optimizer step a checkpoint was saved at, from its trainer_state.json (0 for none: a fresh run)."""
    if checkpoint is None:
        return 0
    return int(json.loads((Path(checkpoint) / "trainer_state.json").read_text()).get("global_step", 0))


def finished_summary(output_dir: Path, resume: str | None, max_steps: int) -> dict[str, Any] | None:
    """The saved summary when the last checkpoint already reached `max_steps` (rerunning would add a step)."""
    if resume is None or max_steps <= 0 or not (output_dir / "summary.json").is_file():
        return None
    if checkpoint_step(resume) < max_steps:
        return None
    log.info("%s already reached max_steps=%d; nothing to do", output_dir, max_steps)
    return json.loads((output_dir / "summary.json").read_text())


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


@contextlib.contextmanager
def training_run(out: Path, config: BaseModel) -> Iterator[Any]:
    """The run directory (config checked, run.log attached) on the main process, None on the others."""
    if not is_main_process():
        yield None
        return
    from sciresearcher.runs import RunDir

    with RunDir(out, config) as run:  # refuses a run directory started with another config
        run.attach_log()
        yield run


def step_logger(kind: str = "sft") -> Any:
    """A TrainerCallback that logs the first and the last step whatever `logging_steps` is (so a short run has
    a first and a last loss and a curve), and records every logged value in run.log (logger
    `sciresearcher.train.KIND`)."""
    from transformers import TrainerCallback

    kind_log = logging.getLogger(f"sciresearcher.train.{kind}")

    class StepLogger(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            if state.global_step == 1 or (state.max_steps > 0 and state.global_step >= state.max_steps):
                control.should_log = True
            return control

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
                   **kwargs: Any) -> None:
            values = {k: v for k, v in (logs or {}).items() if isinstance(v, (int, float))}
            if values:
                kind_log.info("step %d/%d: %s", state.global_step, state.max_steps,
                              ", ".join(f"{k} {v:.4g}" for k, v in values.items()))

    return StepLogger()


def build_sft_trainer(config: SFTRunConfig, rows: list[dict[str, Any]] | None = None) -> Any:
    """The SFTTrainer for this config (rows validated first); `run_sft` trains it, tests inspect it."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from sciresearcher.train.right_padding import drop_right_padding_mask
    from sciresearcher.train.rows import read_sft_rows, row_layout, validate_sft_rows
    from sciresearcher.train.templates import has_untrained_turns

    model_dir = check_model_dir(config.model)
    tokenizer = load_tokenizer(model_dir)
    rows = rows if rows is not None else read_sft_rows(config.dataset)
    layout = row_layout(rows)
    # whole conversations: loss on every assistant turn (TRL's training template marks them); prompt-completion
    # turns: the model's own template and loss on the completion only, i.e. exactly the inference context
    per_turn = layout == "prompt-completion"
    # TRL's own rendering trains every assistant turn; rendered here (`render_row`, as validation checks them), the
    # turns of weight 0 leave the mask (TRL builds the labels from a tokenised row's `assistant_masks`, and refuses
    # assistant_only_loss on it)
    rendered = not per_turn and any(has_untrained_turns(r) for r in rows)
    rows = list(validate_sft_rows(rows, tokenizer, config.max_length, overlong=config.overlong,
                                  check_tokens=config.check_tokens, tokenised=rendered))
    if rendered:
        log.info("rows rendered with their turns of weight 0 out of the loss")
    if per_turn:  # a turn of weight 0 (a demonstrated mistake) is no completion to train on
        kept = [r for r in rows if not has_untrained_turns({"messages": r["completion"]})]
        if len(kept) < len(rows):
            log.info("left out %d prompt-completion rows whose completion has weight 0", len(rows) - len(kept))
        rows = kept
    if not rows:
        raise TrainingError("no SFT rows left to train on",
                            hint="every row was longer than max_length, or had weight 0 on all it would train")
    device = device_settings(config.use_cpu, config.bf16, config.gradient_checkpointing)
    args = SFTConfig(
        output_dir=config.output_dir,
        assistant_only_loss=not per_turn and not rendered,
        completion_only_loss=per_turn,
        max_length=config.max_length,
        lr_scheduler_type=config.lr_scheduler_type,
        warmup_steps=config.warmup_ratio,  # transformers 5: a value < 1 is a fraction of the steps
        weight_decay=config.weight_decay,
        **schedule_args(config),
        dataset_num_proc=None,
        **device,
        **config.trainer_overrides,
    )
    log.info("%d SFT rows from %s", len(rows), config.dataset)
    trainer = SFTTrainer(model=str(model_dir), args=args, train_dataset=Dataset.from_list(rows),
                         processing_class=tokenizer, peft_config=peft_config(config.lora), callbacks=[step_logger()])
    drop_right_padding_mask(trainer.model)  # the collator pads on the right: causal attention alone suffices
    return trainer


def plot_loss(log_history: list[dict[str, Any]], path: Path, title: str = "training loss") -> Path | None:
    """Writes the logged loss against the step as a PNG; None when nothing was logged."""
    points = [(h["step"], h["loss"]) for h in log_history if "loss" in h and "step" in h]
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", markersize=3)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def seconds_per_step(history: list[dict[str, Any]], steps: int) -> float | None:
    """This run's seconds per optimizer step: the trainer's `train_runtime` over the `steps` it took (the machine's
    pace on this model; compute-bound stages are compared across machines by it)."""
    runtimes = [h["train_runtime"] for h in history if "train_runtime" in h]
    return runtimes[-1] / steps if runtimes and steps > 0 else None


def finish_run(trainer: Any, out: Path, resolved: BaseModel, kind: str, run: Any = None,
               extra: dict[str, Any] | None = None, resumed_from: str | None = None) -> dict[str, Any]:
    """Saves the final model, loss curve and summary.json (main process only) into `run` (a RunDir) or `out`.
    `resumed_from` is the checkpoint this run started at, so that its pace counts only the steps it took."""
    trainer.save_model(str(out / "final"))
    if not is_main_process():
        return {}
    trainer.processing_class.save_pretrained(str(out / "final"))
    history = trainer.state.log_history
    losses = [h["loss"] for h in history if "loss" in h]
    png = plot_loss(history, out / "loss.png", f"{kind} loss")
    steps = trainer.state.global_step - checkpoint_step(resumed_from)
    summary = {"kind": kind, "global_step": trainer.state.global_step, "first_loss": losses[0] if losses else None,
               "last_loss": losses[-1] if losses else None, "loss_png": str(png) if png else None,
               "final_model": str(out / "final"), "seconds_per_step": seconds_per_step(history, steps),
               **(extra or {}), "log_history": history}
    if run is not None:
        run.write_json("summary.json", summary)
    else:
        from sciresearcher.runs import RunDir

        with RunDir(out, resolved, check_config=False) as opened:
            opened.write_json("summary.json", summary)
    logging.getLogger(f"sciresearcher.train.{kind}").info(
        "%s finished at step %d: loss %s -> %s; model in %s", kind, summary["global_step"],
        summary["first_loss"], summary["last_loss"], summary["final_model"])
    return summary


def attach_callbacks(trainer: Any, callbacks: list[Any]) -> None:
    """Adds `callbacks` (TrainerCallback instances); when there are any, they replace the trainer's own printing
    of progress and log dicts (a caller that shows its own progress, e.g. the pipeline)."""
    if not callbacks:
        return
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    for callback in callbacks:
        trainer.add_callback(callback)


def run_sft(config: SFTRunConfig, *, callbacks: list[Any] | None = None) -> dict[str, Any]:
    """Trains, resuming from the run directory's last checkpoint; returns the summary (also summary.json).
    `callbacks` (TrainerCallback instances) replace the trainer's printed progress (see `attach_callbacks`)."""
    out = Path(config.output_dir)
    check_model_dir(config.model)
    with training_run(out, config) as run:
        resume = last_checkpoint(out) if config.resume else None
        done = finished_summary(out, resume, config.max_steps)
        if done is not None:
            return done
        trainer = build_sft_trainer(config)
        attach_callbacks(trainer, list(callbacks or []))
        if resume:
            log.info("resuming from %s", resume)
        trainer.train(resume_from_checkpoint=resume)
        return finish_run(trainer, out, config, "sft", run, resumed_from=resume)
