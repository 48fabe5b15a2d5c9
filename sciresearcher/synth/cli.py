"""`sciresearcher synth facts|computational`: fact documents, and verified computational tasks from them.

Wiring only: facts from `facts.py`, the pipeline from `computational.py`. Heavy imports inside the commands.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import typer
from rich.console import Console

synth_app = typer.Typer(help="Synthesize literature-grounded tasks (offline writer: templates over cited facts).",
                        no_args_is_help=True)
err = Console(stderr=True)


@synth_app.command("facts")
def facts_command(
    out: Path = typer.Option(..., "--out", "-o", help="JSONL file of fact documents (a corpus for `index build`)"),
) -> None:
    """Write the element and compound fact documents (mendeleev, chemicals) as a corpus JSONL."""
    from sciresearcher.runs import write_jsonl_atomic
    from sciresearcher.synth.facts import fact_documents

    docs = fact_documents()
    write_jsonl_atomic(out, docs)
    err.print(f"wrote {len(docs)} documents to {out}")
    typer.echo(str(out))


@synth_app.command("computational", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def computational_command(
    ctx: typer.Context,
    n: int | None = typer.Option(None, "--n", "-n", help="tasks to write before verification"),
    seed: int | None = typer.Option(None, "--seed", help="same seed, same drafts"),
    config: Path | None = typer.Option(None, "--config", "-c", help="SynthConfig YAML (`config init synth`)"),
    out: Path | None = typer.Option(None, "--out", "-o", help="run directory (default runs/synth-<time>)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Computational tasks: cited values + computation, reference solution run in the sandbox, optional solver vote.

    Extra flags override config keys, e.g. --solver.llm.model NAME --solver.llm.backend openai.
    """
    from sciresearcher.config import load_config
    from sciresearcher.synth.computational import run_synthesis
    from sciresearcher.synth.config import SynthConfig

    cfg = load_config(SynthConfig, config, list(ctx.args))
    update = {k: v for k, v in (("n", n), ("seed", seed)) if v is not None}
    if update:
        cfg = load_config(SynthConfig, None, {**cfg.model_dump(mode="json"), **update})
    run_path = out or Path("runs") / f"synth-{time.strftime('%Y%m%d-%H%M%S')}"
    summary = asyncio.run(run_synthesis(cfg, run_path, show_progress=not quiet))
    err.print(f"[dim]run directory: {run_path}; tasks in {run_path / 'tasks.jsonl'}[/]")
    typer.echo(json.dumps(summary, indent=2))
