"""What every command shares: the default run directory name, loading a command's config, the `--k` parser."""

from __future__ import annotations

import time
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


def parse_ks(text: str) -> list[int]:
    """'1,3' -> [1, 3]; a bad list is a usage error naming what was given."""
    try:
        ks = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError as exc:
        raise typer.BadParameter(f"--k must be comma-separated integers like 1,3 (got {text!r})") from exc
    if not ks or ks[0] < 1:
        raise typer.BadParameter("--k values must be >= 1")
    return ks
