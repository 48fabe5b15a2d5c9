"""What every command shares: the default run directory name and the `--k` list parser."""

from __future__ import annotations

import time
from pathlib import Path

import typer


def default_run_dir(name: str) -> Path:
    """`runs/<name>-<YYYYmmdd-HHMMSS>` under the current directory."""
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def parse_ks(text: str) -> list[int]:
    """'1,3' -> [1, 3]; a bad list is a usage error naming what was given."""
    try:
        ks = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError as exc:
        raise typer.BadParameter(f"--k must be comma-separated integers like 1,3 (got {text!r})") from exc
    if not ks or ks[0] < 1:
        raise typer.BadParameter("--k values must be >= 1")
    return ks
