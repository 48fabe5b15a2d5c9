"""`sciresearcher train ...` commands: the tiny offline model, SFT, GRPO, and the shipped accelerate configs."""

from __future__ import annotations

from pathlib import Path

import typer

from sciresearcher.cli.common import load_command_config

train_app = typer.Typer(help="Tiny offline model, SFT and GRPO on TRL.", no_args_is_help=True)


@train_app.command("tiny-model")
def tiny_model(
    out: Path = typer.Option(..., "--out", "-o", help="directory to write the model and tokenizer to"),
    seed: int = typer.Option(0, help="same seed, same bytes"),
) -> None:
    """Build a tiny random Qwen3 with a local tokenizer and TRL's qwen3 chat template (offline, ~10 s)."""
    from sciresearcher.train.tiny import build_tiny_model

    path = build_tiny_model(out, seed=seed)
    typer.echo(str(path))


_OVERRIDES = {"allow_extra_args": True, "ignore_unknown_options": True}


@train_app.command("sft", context_settings=_OVERRIDES)
def sft_command(
    ctx: typer.Context,
    config: Path = typer.Argument(..., help="SFTRunConfig YAML (`sciresearcher config init sft` writes one)"),
) -> None:
    """SFT with assistant-only loss on {messages, tools} rows. Extra flags override keys, e.g. --max_steps 10."""
    from sciresearcher.cli.templates import require_filled
    from sciresearcher.train.sft import SFTRunConfig, run_sft

    cfg = load_command_config("sft", SFTRunConfig, config, list(ctx.args))
    require_filled(cfg, config, "pass them as --model DIR --dataset FILE")
    summary = run_sft(cfg)
    if summary:
        typer.echo(f"step {summary['global_step']}: loss {summary['first_loss']} -> {summary['last_loss']}; "
                   f"model in {summary['final_model']}")


@train_app.command("grpo", context_settings=_OVERRIDES)
def grpo_command(
    ctx: typer.Context,
    config: Path = typer.Argument(..., help="GRPORunConfig YAML (`sciresearcher config init grpo` writes one)"),
) -> None:
    """Agentic GRPO with an outcome-only reward (tools in one environment per rollout). Flags override keys."""
    from sciresearcher.cli.templates import require_filled
    from sciresearcher.train.grpo import GRPORunConfig, run_grpo

    cfg = load_command_config("grpo", GRPORunConfig, config, list(ctx.args))
    require_filled(cfg, config, "pass them as --model DIR --dataset FILE")
    summary = run_grpo(cfg)
    if summary:
        typer.echo(f"step {summary['global_step']}: mean reward {summary.get('last_reward')}; "
                   f"model in {summary['final_model']}")


@train_app.command("accelerate-config")
def accelerate_config_command(
    name: str = typer.Argument(..., help="single_gpu, ddp, fsdp, zero3 or cpu"),
) -> None:
    """Print the path of a shipped accelerate config, for `accelerate launch --config_file "$(...)"`."""
    from sciresearcher.train.accelerate import accelerate_config

    typer.echo(str(accelerate_config(name)))
