"""`sciresearcher data rollout|clean|filter|export`: the arrows from tasks to training data.

Wiring only: `rollout` runs a teacher over a task file with the rollout runner (`data/teacher.py`); `clean`
screens tasks (`data/screen.py`); `filter` is rejection sampling (`data/rejection.py`); `export` writes TRL
and verl datasets (`data/export.py`). `clean` and `filter` write their outputs whole (temporary file, then rename) into a run
directory with the resolved config and summary.json, so a rerun with the same inputs gives the same files.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import typer
from rich.console import Console

from sciresearcher.cli.common import default_run_dir, exit_if_every_trajectory_failed, load_command_config

data_app = typer.Typer(help="Roll out a teacher on tasks, screen tasks, filter trajectories, export datasets.",
                       no_args_is_help=True)
err = Console(stderr=True)
log = logging.getLogger(__name__)
_OVERRIDES = {"allow_extra_args": True, "ignore_unknown_options": True}


def _load_eval_sets(specs: list[str]):
    """`data.screen.load_eval_sets`, its per-set "not screened" warnings replaced by one (see `_warn_not_screened`)."""
    from sciresearcher.cli.common import muted, spinner
    from sciresearcher.data.screen import load_eval_sets

    with muted("sciresearcher.data.screen"), spinner("loading the eval sets to screen against"):
        return load_eval_sets(specs)


def _warn_not_screened(skipped: dict[str, str]) -> None:
    """One warning for every eval set left out (on the console and in run.log); summary.json lists the reasons."""
    if not skipped:
        return
    asked = [name for name, why in skipped.items() if why.startswith("not at hand: pass eval_sets")]
    other = [f"{name} ({why})" for name, why in skipped.items() if name not in asked]
    parts = ([", ".join(asked) + " (data not at hand; pass eval_sets: '[auto, NAME=FILE]' to screen them)"]
             if asked else []) + other
    log.warning("not screened against %d eval set%s: %s", len(skipped), "s" if len(skipped) > 1 else "",
                "; ".join(parts))


@data_app.command("rollout", context_settings=_OVERRIDES)
def rollout_command(
    ctx: typer.Context,
    tasks: Path = typer.Argument(..., help="Task JSONL (from synthesis or `data clean`)"),
    model: str | None = typer.Option(None, "--model", "-m", help="teacher model name or local model directory"),
    backend: str | None = typer.Option(None, "--backend", help="openai | anthropic | local"),
    samples: int | None = typer.Option(None, "--samples", "-n", help="trajectories per task"),
    limit: int | None = typer.Option(None, "--limit", help="first N tasks"),
    config: Path | None = typer.Option(None, "--config", "-c", help="RolloutConfig YAML (`config init rollout`)"),
    out: Path | None = typer.Option(None, "--out", "-o", help="run directory (default runs/rollout-<time>)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Teacher trajectories on a task file, graded and resumable (the rollout runner `eval run` uses).

    Extra flags override config keys, e.g. --llm.base_url http://127.0.0.1:8000/v1 --concurrency 16.
    """
    from sciresearcher.data.teacher import run_teacher
    from sciresearcher.rollout.config import RolloutConfig
    from sciresearcher.tasks.files import read_tasks

    cfg = load_command_config("rollout", RolloutConfig, config, list(ctx.args),
                      options={"samples": samples, "llm": {"model": model, "backend": backend}})
    task_list = read_tasks(tasks)[:limit] if limit else read_tasks(tasks)
    run_path = out or default_run_dir("rollout")
    summary = asyncio.run(run_teacher(task_list, cfg, run_path, source=str(tasks), show_progress=not quiet))
    typer.echo(json.dumps(summary, indent=2, default=str))
    exit_if_every_trajectory_failed(summary, run_path)
    err.print(f"[dim]run directory: {run_path}; next: `sciresearcher data filter {run_path} --out DIR`[/]")


@data_app.command("clean", context_settings=_OVERRIDES)
def clean_command(
    ctx: typer.Context,
    tasks: Path = typer.Argument(..., help="Task JSONL to screen"),
    out: Path = typer.Option(..., "--out", "-o", help="run directory: tasks.jsonl, removed.jsonl, summary.json"),
    config: Path | None = typer.Option(None, "--config", "-c", help="ScreenConfig YAML (`config init clean`)"),
) -> None:
    """Drop tasks that overlap an eval set (contamination) or an earlier task (near-duplicates).

    Extra flags override keys, e.g. --eval_sets '["auto", "hle-bio-chem-gold=hle.jsonl"]' --n 13.
    """
    from sciresearcher.data.config import ScreenConfig
    from sciresearcher.data.screen import screen_summary, screen_tasks
    from sciresearcher.runs import RunDir, write_jsonl_atomic
    from sciresearcher.tasks.files import read_tasks

    cfg = load_command_config("clean", ScreenConfig, config, list(ctx.args))
    task_list = read_tasks(tasks)
    eval_sets = _load_eval_sets(cfg.eval_sets)
    with RunDir(out, {"input": str(tasks), **cfg.model_dump(mode="json")}) as run:
        run.attach_log()
        _warn_not_screened(eval_sets.skipped)
        result = screen_tasks(task_list, cfg, eval_sets)
        write_jsonl_atomic(run.path / "tasks.jsonl", result.kept)
        write_jsonl_atomic(run.path / "removed.jsonl", result.removed)
        summary = screen_summary(result, eval_sets, tasks)
        run.write_json("summary.json", summary)
    typer.echo(json.dumps(summary, indent=2))


@data_app.command("filter", context_settings=_OVERRIDES)
def filter_command(
    ctx: typer.Context,
    source: Path = typer.Argument(..., help="a rollout run directory or a trajectory JSONL file"),
    out: Path = typer.Option(..., "--out", "-o", help="run directory: kept.jsonl, rejected.jsonl, summary.json"),
    tasks: Path | None = typer.Option(None, "--tasks", "-t", help="Task JSONL: regrade ungraded, screen by question"),
    more: list[Path] = typer.Option([], "--and", help="another rollout run to merge in (repeatable)"),
    config: Path | None = typer.Option(None, "--config", "-c", help="FilterConfig YAML (`config init filter`)"),
) -> None:
    """Rejection sampling: keep correct, well-formed, uncontaminated trajectories, at most N per task.

    Extra flags override keys, e.g. --max_per_task 1 --min_tool_calls 1 --screen null.
    """
    from sciresearcher.data.config import FilterConfig
    from sciresearcher.data.rejection import read_trajectories, select_trajectories
    from sciresearcher.data.screen import eval_index
    from sciresearcher.errors import DataError
    from sciresearcher.runs import RunDir, write_jsonl_atomic
    from sciresearcher.tasks.files import read_tasks

    cfg = load_command_config("filter", FilterConfig, config, list(ctx.args))
    if tasks is not None:
        cfg = cfg.model_copy(update={"tasks": str(tasks)})
    runs = [source, *more]
    trajectories = read_trajectories(runs)
    if not trajectories:
        raise DataError(f"no trajectories in {', '.join(map(str, runs))}",
                        hint="pass a `data rollout` / `eval run` directory or a trajectories JSONL with records")
    task_map = {t.id: t for t in read_tasks(cfg.tasks)} if cfg.tasks else None
    eval_sets = _load_eval_sets(cfg.screen.eval_sets) if cfg.screen else None
    index = eval_index(eval_sets, cfg.screen) if eval_sets is not None and cfg.screen else None
    with RunDir(out, {"inputs": [str(r) for r in runs], **cfg.model_dump(mode="json")}) as run:
        run.attach_log()
        if eval_sets is not None:
            _warn_not_screened(eval_sets.skipped)
        selection = select_trajectories(trajectories, cfg, task_map, index)
        write_jsonl_atomic(run.path / "kept.jsonl", selection.kept)
        write_jsonl_atomic(run.path / "rejected.jsonl", selection.rejected)
        summary = selection.summary()
        if eval_sets is not None:
            summary.update(eval_sets.summary())
        run.write_json("summary.json", summary)
    typer.echo(json.dumps(summary, indent=2))


@data_app.command("export", context_settings=_OVERRIDES)
def export_command(
    ctx: typer.Context,
    source: Path = typer.Argument(..., help="a `data filter` run (kept.jsonl), trajectories, or a Task JSONL"),
    out: Path = typer.Option(..., "--out", "-o", help="directory for train/val files"),
    fmt: str | None = typer.Option(None, "--format", "-f", help="trl-sft | verl-sft | trl-grpo | verl-rl"),
    val_fraction: float | None = typer.Option(None, "--val-fraction", help="share of tasks held out (rounded to whole tasks, at least 1 when > 0)"),
    allow_unfiltered: bool = typer.Option(False, "--allow-unfiltered",
                                          help="export wrong / truncated / failed trajectories too (counted)"),
    config: Path | None = typer.Option(None, "--config", "-c", help="ExportConfig YAML (`config init export`)"),
) -> None:
    """Write training datasets: SFT rows from trajectories, RL prompts from tasks (TRL or verl layout)."""
    from sciresearcher.data.config import ExportConfig
    from sciresearcher.data.export import export_tasks, export_trajectories, source_kind
    from sciresearcher.data.rejection import read_trajectories
    from sciresearcher.tasks.files import read_tasks

    cfg = load_command_config("export", ExportConfig, config, list(ctx.args), options={"format": fmt, "val_fraction": val_fraction,
                                         "allow_unfiltered": allow_unfiltered or None})
    kind, path = source_kind(source)
    if kind == "tasks":
        written = export_tasks(read_tasks(path), cfg, out)
    else:
        written = export_trajectories(read_trajectories([path]), cfg, out)
    splits = {s: w for s, w in written.items() if s != "dropped_overlong"}
    err.print(f"[dim]{cfg.format}: " + ", ".join(f"{s} {w['rows']} rows" for s, w in splits.items()) + f" in {out}[/]")
    for row in written.get("dropped_overlong", []):
        err.print(f"[yellow]dropped {row['id']}: {row['reason']}[/]")
    typer.echo(json.dumps(written, indent=2))
