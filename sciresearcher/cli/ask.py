"""`sciresearcher ask "QUESTION"`: run the agent once, show each step live, save the trajectory.

Builds the LLM client and the tools from an `AskConfig` (YAML + dotted overrides), runs `run_agent`,
prints every message as it arrives (reasoning dimmed, tool calls and truncated results), prints the final
answer on stdout, and appends the trajectory to `trajectories.jsonl` in a run directory with the
resolved config beside it. Rendering only; the loop itself is in `agent/loop.py`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from sciresearcher.cli.common import default_run_dir, load_command_config
from sciresearcher.records import Message

err = Console(stderr=True)


def _show(message: Message) -> None:
    if message.role == "assistant":
        if message.reasoning_content:
            err.print(Panel(escape(message.reasoning_content[-1500:]), title="thinking", style="dim"))
        for call in message.tool_calls or []:
            err.print(f"[bold cyan]→ {escape(call.function.name)}[/]({escape(call.function.arguments[:400])})")
        if message.content and not message.tool_calls:
            err.print(Panel(escape(message.content), title="answer", border_style="green"))
        elif message.content:
            err.print(escape(message.content[:800]))
    elif message.role == "tool":
        text = message.content or ""
        short = text if len(text) <= 600 else text[:600] + f" … [{len(text)} chars]"
        err.print(Panel(escape(short), title=f"{message.name} result", border_style="blue"))
    elif message.role == "user":
        err.print(f"[yellow]{escape(message.content or '')}[/]")


def ask_command(
    ctx: typer.Context,
    question: str = typer.Argument(..., help="the research question"),
    config: Path | None = typer.Option(None, "--config", "-c", help="AskConfig YAML (see `config init ask`)"),
    out: Path | None = typer.Option(None, "--out", "-o", help="run directory (default runs/ask-<time>)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="do not show steps live"),
) -> None:
    """Run the research agent on QUESTION. Extra flags override config keys, e.g. --llm.model NAME."""
    from sciresearcher.agent.ask_config import AskConfig
    from sciresearcher.agent.loop import run_agent
    from sciresearcher.agent.toolbox import open_tools
    from sciresearcher.llm import make_client
    from sciresearcher.runs import RunDir

    cfg = load_command_config("ask", AskConfig, config, list(ctx.args))
    client = make_client(cfg.llm)  # raises ConfigError with the fix when no model is reachable
    run_path = out or default_run_dir("ask")

    async def _go():
        async with open_tools(cfg.tools) as tools:
            return await run_agent(question, client, tools, cfg.agent, backend=cfg.llm.backend,
                                   on_message=None if quiet else _show)

    with RunDir(run_path, cfg) as run:
        run.attach_log()
        traj = asyncio.run(_go())
        with run.records("trajectories") as log:
            log.append(traj)
    if traj.status != "ok":
        err.print(f"[bold yellow]trajectory ended: {traj.status}[/] {escape(traj.error or '')}")
    err.print(f"[dim]{traj.counters.turns} turns, {traj.counters.tool_calls} tool calls, "
              f"{traj.usage.total_tokens} tokens, {traj.elapsed_s:.1f}s; saved to {run_path}/trajectories.jsonl[/]")
    answer = traj.final.answer if traj.final and traj.final.answer else "(no answer)"
    typer.echo(answer)
    if traj.status == "error":
        raise typer.Exit(1)
