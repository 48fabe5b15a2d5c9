"""What every command shares: the default run directory name, loading a command's config, the `--k` parser."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def default_run_dir(name: str) -> Path:
    """`runs/<name>-<YYYYmmdd-HHMMSS>` under the current directory."""
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def load_command_config(command: str, model: type[M], path: Path | None, overrides: list[str] | None = None,
                        options: dict[str, Any] | None = None) -> M:
    """`config.load_config`, with a missing file's hint naming `config init COMMAND` (the template for it)."""
    from sciresearcher.config import load_config
    from sciresearcher.errors import ConfigError

    if path is not None and not Path(path).is_file():
        raise ConfigError(f"config file {path} does not exist",
                          hint=f"`sciresearcher config init {command} --out {path}` writes a commented template")
    return load_config(model, path, overrides, options)


@contextlib.contextmanager
def spinner(what: str) -> Iterator[None]:
    """A transient spinner with the elapsed time on an interactive stderr while a block runs (nothing otherwise)."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=True, disable=not console.is_terminal) as progress:
        progress.add_task(what, total=None)
        yield


@contextlib.contextmanager
def muted(logger: str) -> Iterator[None]:
    """Drops `logger`'s records on the console inside the block (the command reports those failures itself)."""
    import logging

    target = logging.getLogger(logger)
    drop = logging.Filter(name="\0")  # matches no record name: every record is dropped
    target.addFilter(drop)
    try:
        yield
    finally:
        target.removeFilter(drop)


def exit_if_every_trajectory_failed(summary: dict[str, Any], run_path: Path) -> None:
    """Exit code 1, with the reason on stderr, when a rollout produced no trajectory that did not fail."""
    statuses = summary.get("status") or {}
    total = sum(statuses.values())
    if total and statuses.get("error", 0) == total:
        typer.echo(f"error: all {total} trajectories failed (status error); each one's error and error_kind are "
                   f"in {run_path / 'trajectories.jsonl'}\n  hint: check that the model server is up and the "
                   "--llm.* settings; rerun with --retry_failed true to redo them", err=True)
        raise typer.Exit(1)


def parse_ks(text: str) -> list[int]:
    """'1,3' -> [1, 3]; a bad list is a usage error naming what was given."""
    try:
        ks = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError as exc:
        raise typer.BadParameter(f"--k must be comma-separated integers like 1,3 (got {text!r})") from exc
    if not ks or ks[0] < 1:
        raise typer.BadParameter("--k values must be >= 1")
    return ks
