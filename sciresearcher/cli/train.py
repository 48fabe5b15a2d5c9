"""`sciresearcher train ...` commands: the tiny offline model, SFT, GRPO (TRL), GRPO on verl, accelerate configs."""

from __future__ import annotations

from pathlib import Path

import typer

from sciresearcher.cli.common import load_command_config

train_app = typer.Typer(help="Tiny offline model, SFT and GRPO on TRL.", no_args_is_help=True)


@train_app.command("tiny-model")
def tiny_model(
    out: Path = typer.Option(..., "--out", "-o", help="directory to write the model and tokenizer to"),
    seed: int = typer.Option(0, help="same seed, same bytes"),
    chat_template: str = typer.Option("qwen3", help="qwen3 (Qwen3's own, as TRL ships it) or qwen3-training (every "
                                      "turn keeps its think block: whole conversations train token-exact)"),
) -> None:
    """Build a tiny random Qwen3 with a local tokenizer and TRL's qwen3 chat template (offline, ~10 s)."""
    from sciresearcher.train.tiny import build_tiny_model

    path = build_tiny_model(out, seed=seed, chat_template=chat_template)
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


@train_app.command("verl", context_settings=_OVERRIDES)
def verl_command(
    ctx: typer.Context,
    recipe: Path = typer.Argument(..., help="VerlRecipe YAML, e.g. recipes/verl-qwen3-8b-grpo.yaml"),
    out: Path = typer.Option(..., "--out", "-o", help="directory for tool_config.yaml, verl_config.yaml, command.sh"),
    dry_run: bool = typer.Option(False, "--dry-run", help="write the files and print the command; do not run verl"),
) -> None:
    """Agentic GRPO on verl (multi-GPU, multi-node): write the tool config, verl config and launch, then run it.

    Extra flags override recipe keys, e.g. --cluster.gpus_per_node 4 --rollout.group_size 16.
    """
    from sciresearcher.config import load_config
    from sciresearcher.integrations.verl.launch import run_launch, write_launch
    from sciresearcher.integrations.verl.recipe import VerlRecipe

    cfg = load_config(VerlRecipe, recipe, list(ctx.args))
    files = write_launch(cfg, out)
    for name, path in files.items():
        typer.echo(f"{name}: {path}", err=True)
    if dry_run:
        typer.echo(files["command"].read_text())
        return
    run_launch(out)


@train_app.command("vllm-serve", context_settings=_OVERRIDES)
def vllm_serve_command(
    ctx: typer.Context,
    config: Path = typer.Argument(..., help="the GRPORunConfig YAML (its model and vllm.* settings)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="print the command and its environment; do not start it"),
) -> None:
    """Start the vLLM server a `vllm.mode: server` GRPO run connects to (TRL's own server command).

    Run it on the GPUs the trainer does not use, e.g. CUDA_VISIBLE_DEVICES=0,1 sciresearcher train vllm-serve grpo.yaml
    """
    import os
    import shlex

    from sciresearcher.config import load_config
    from sciresearcher.train.grpo import GRPORunConfig
    from sciresearcher.train.vllm import serve_command

    cfg = load_config(GRPORunConfig, config, list(ctx.args))
    argv, env = serve_command(cfg.model, cfg.vllm)
    typer.echo(" ".join(f"{k}={v}" for k, v in env.items()) + " " + shlex.join(argv))
    if not dry_run:
        os.execve(argv[0], argv, {**os.environ, **env})
