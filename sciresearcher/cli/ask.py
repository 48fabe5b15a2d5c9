"""`sciresearcher ask "QUESTION"`: run the agent once, show each step live, save the trajectory.

Builds the LLM client and the tools from an `AskConfig` (YAML + dotted overrides), runs `run_agent`,
prints every message as it arrives on stderr (reasoning dimmed, tool calls and truncated results, the final
explanation) with a spinner for each wait, prints the answer once, on stdout, and writes the run directory:
`trajectories.jsonl`, the resolved config, run.log and summary.json. Rendering only; the loop itself is in
`agent/loop.py`.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Self

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from sciresearcher.cli.common import default_run_dir, load_command_config
from sciresearcher.records import Message, Trajectory

log = logging.getLogger(__name__)

err = Console(stderr=True)


class _LiveView:
    """Prints each message as it arrives and keeps a spinner with the elapsed time for the current wait
    (the model's turn, or the tools) on an interactive stderr. The final answer goes to stdout only; the live
    view shows its explanation and confidence."""

    def __init__(self, show_steps: bool) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.show_steps = show_steps
        self.turn = 1
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                 console=err, transient=True, disable=not show_steps)
        self._task: int | None = None

    def waiting(self, what: str) -> None:
        if self._task is not None:
            self.progress.remove_task(self._task)
        self._task = self.progress.add_task(what, total=None)

    def __enter__(self) -> Self:
        self.progress.start()
        self.waiting("turn 1: waiting for the model")
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, message: Message) -> None:
        if self.show_steps:
            _show(message)
        if message.role == "assistant":
            self.turn += 1
            calls = len(message.tool_calls or [])
            if calls:
                self.waiting(f"running {calls} tool call{'s' if calls > 1 else ''}")
        elif message.role in ("tool", "user"):
            self.waiting(f"turn {self.turn}: waiting for the model")


def _show(message: Message) -> None:
    if message.role == "assistant":
        if message.reasoning_content:
            err.print(Panel(escape(message.reasoning_content[-1500:]), title="thinking", style="dim"))
        for call in message.tool_calls or []:
            err.print(f"[bold cyan]→ {escape(call.function.name)}[/]({escape(call.function.arguments[:400])})")
        if message.content and not message.tool_calls:
            from sciresearcher.agent.final import parse_final_answer

            final = parse_final_answer(message.content)
            conf = f" (confidence {final.confidence:.0%})" if final.confidence is not None else ""
            if final.explanation and final.explanation.strip() != (final.answer or "").strip():
                err.print(Panel(escape(final.explanation), title="explanation" + conf, border_style="green"))
        elif message.content:
            err.print(escape(message.content[:800]))
    elif message.role == "tool":
        text = message.content or ""
        short = text if len(text) <= 600 else text[:600] + f" … [{len(text)} chars]"
        err.print(Panel(escape(short), title=f"{message.name} result", border_style="blue"))
    elif message.role == "user":
        err.print(f"[yellow]{escape(message.content or '')}[/]")


def _summary(question: str, traj: Trajectory) -> dict[str, Any]:
    return {"question": question, "status": traj.status,
            "error_kind": traj.error_kind, "error": traj.error,
            "answer": traj.final.answer if traj.final else None,
            "confidence": traj.final.confidence if traj.final else None,
            "turns": traj.counters.turns, "tool_calls": traj.counters.tool_calls,
            "tool_errors": traj.counters.tool_errors, "format_errors": traj.counters.format_errors,
            "total_tokens": traj.usage.total_tokens, "cost_usd": traj.usage.cost_usd, "elapsed_s": traj.elapsed_s,
            "model": traj.policy.model, "trajectory": traj.id}


def ask_command(
    ctx: typer.Context,
    question: str = typer.Argument(..., help="the research question"),
    config: Path | None = typer.Option(None, "--config", "-c", help="AskConfig YAML (see `config init ask`)"),
    out: Path | None = typer.Option(None, "--out", "-o", help="run directory (default runs/ask-<time>)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="do not show steps live"),
) -> None:
    """Run the research agent on QUESTION. Extra flags override config keys, e.g. --llm.model NAME.

    Steps and a spinner go to stderr, the answer to stdout; the run directory gets the trajectory, the
    resolved config, run.log and summary.json."""
    from sciresearcher.agent.ask_config import AskConfig
    from sciresearcher.agent.loop import run_agent
    from sciresearcher.agent.toolbox import open_tools
    from sciresearcher.llm import make_client
    from sciresearcher.runs import RunDir

    cfg = load_command_config("ask", AskConfig, config, list(ctx.args))
    client = make_client(cfg.llm)  # raises ConfigError with the fix when no model is reachable
    run_path = out or default_run_dir("ask")

    async def _go(view: _LiveView) -> Trajectory:
        async with open_tools(cfg.tools) as tools:
            return await run_agent(question, client, tools, cfg.agent, backend=cfg.llm.backend, on_message=view)

    with RunDir(run_path, cfg) as run:
        run.attach_log()
        log.info("question: %s", question)
        with _LiveView(show_steps=not quiet) as view:
            traj = asyncio.run(_go(view))
        with run.records("trajectories") as records:
            records.append(traj)
        summary = _summary(question, traj)
        run.write_json("summary.json", summary)
        if traj.status != "ok":
            log.warning("trajectory ended: %s%s", traj.status, f" ({traj.error})" if traj.error else "")
    err.print(f"[dim]{traj.counters.turns} turns, {traj.counters.tool_calls} tool calls, "
              f"{traj.usage.total_tokens} tokens, {traj.elapsed_s:.1f}s; saved to {run_path}[/]")
    typer.echo(summary["answer"] or "(no answer)")
    if traj.status == "error":
        raise typer.Exit(1)
