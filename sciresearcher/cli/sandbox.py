"""`sciresearcher sandbox ...` commands: run code in the sandbox the agent uses, and probe the modes.

`exec -c CODE` / `--file F` runs one cell in a fresh session and prints the result as JSON (ok, stdout,
stderr, error, mode, elapsed_s, and the rest of ExecResult) on stdout; the exit code is 0 when the cell
succeeded, 1 when it raised or hit a limit. `probe` prints which confinement modes work on this machine
and which one `auto` picks (bwrap or unshare; never rlimit).
These commands do not keep sessions between invocations.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

sandbox_app = typer.Typer(help="Run code in the Python sandbox the agent uses.", no_args_is_help=True)


@sandbox_app.command("exec")
def exec_command(
    code: str | None = typer.Option(None, "-c", "--code", help="Python code to run (use - to read stdin)"),
    file: Path | None = typer.Option(
        None, "--file", "-f", help="a .py file to run", exists=True, dir_okay=False
    ),
    mode: str = typer.Option("auto", "--mode", help="auto, bwrap, unshare or rlimit"),
    timeout_s: float | None = typer.Option(None, "--timeout", help="wall-time limit of the call in seconds"),
    memory_mb: int | None = typer.Option(None, "--memory-mb", help="memory limit in MB"),
    config: Path | None = typer.Option(None, "--config", help="YAML SandboxConfig"),
    text: bool = typer.Option(False, "--text", help="print the readable report the agent sees, not JSON"),
) -> None:
    """Run CODE (or --file) in a fresh sandbox session and print the result as JSON."""
    from sciresearcher.config import load_config
    from sciresearcher.errors import ConfigError
    from sciresearcher.sandbox.config import SandboxConfig
    from sciresearcher.sandbox.session import SandboxSession

    if (code is None) == (file is None):
        raise ConfigError("give exactly one of -c CODE or --file F")
    source = file.read_text() if file is not None else (sys.stdin.read() if code == "-" else code)
    overrides = [f"mode={mode}"]
    if timeout_s is not None:
        overrides.append(f"timeout_s={timeout_s}")
    if memory_mb is not None:
        overrides.append(f"memory_mb={memory_mb}")
    cfg = load_config(SandboxConfig, config, overrides)
    with SandboxSession(cfg) as session:
        result = session.run_sync(source or "")
    if text:
        from sciresearcher.agent.python_tool import MAX_TOOL_CHARS
        from sciresearcher.agent.tools import truncate

        typer.echo(truncate(result.to_text(), MAX_TOOL_CHARS)[0])  # exactly what the `python` tool returns
    else:
        typer.echo(json.dumps(result.model_dump(), indent=2))
    raise typer.Exit(0 if result.ok else 1)


@sandbox_app.command("probe")
def probe_command() -> None:
    """Show which confinement modes work here and which one `auto` picks."""
    from sciresearcher.sandbox.config import SandboxConfig
    from sciresearcher.sandbox.confine import AUTO_ORDER, ORDER
    from sciresearcher.sandbox.session import probe

    cfg = SandboxConfig()
    picked = None
    for mode in ORDER:
        reason = probe(mode, cfg)
        if mode in AUTO_ORDER:
            picked = picked or (mode if reason is None else None)
        typer.echo(f"{mode:8s} {'works' if reason is None else 'unavailable: ' + reason}")
    typer.echo(f"auto -> {picked or 'none (auto never picks rlimit: install bubblewrap, or name mode: rlimit)'}")
