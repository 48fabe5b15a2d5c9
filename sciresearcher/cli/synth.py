"""`sciresearcher synth facts|computational|seeds|conceptual`: the two synthesis pipelines and their inputs.

Wiring only: facts from `synth/facts.py`, the computational pipeline from `synth/computational.py`, seeds from
`synth/seeds.py`, the conceptual pipeline from `synth/conceptual_run.py`. Heavy imports inside the commands.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from rich.console import Console

from sciresearcher.cli.common import default_run_dir, load_command_config

synth_app = typer.Typer(help="Synthesize literature-grounded tasks (offline writer: templates over cited facts).",
                        no_args_is_help=True)
err = Console(stderr=True)


@synth_app.command("facts")
def facts_command(
    out: Path = typer.Option(..., "--out", "-o", help="JSONL file of fact documents (a corpus for `index build`)"),
) -> None:
    """Write the element and compound fact documents (mendeleev, chemicals) as a corpus JSONL."""
    from sciresearcher.runs import write_jsonl_atomic
    from sciresearcher.synth.fact_corpus import fact_documents

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
    from sciresearcher.synth.computational import run_synthesis
    from sciresearcher.synth.config import SynthConfig

    cfg = load_command_config("synth", SynthConfig, config, list(ctx.args), options={"n": n, "seed": seed})
    run_path = out or default_run_dir("synth")
    summary = asyncio.run(run_synthesis(cfg, run_path, show_progress=not quiet))
    err.print(f"[dim]run directory: {run_path}; tasks in {run_path / 'tasks.jsonl'}[/]")
    typer.echo(json.dumps(summary, indent=2))


@synth_app.command("seeds", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def seeds_command(
    ctx: typer.Context,
    corpus: list[Path] = typer.Option(..., "--corpus", help="corpus files or folders (repeatable)"),
    out: Path = typer.Option(..., "--out", "-o", help="JSONL of seeds, best first"),
    top_k: int | None = typer.Option(None, "--top-k", help="seeds to keep"),
    config: Path | None = typer.Option(None, "--config", "-c", help="SeedConfig YAML"),
) -> None:
    """Rank seed entities of a corpus by frontier relevance (keywords and defined terms; recency, specificity,
    and a model's rating with --llm.model)."""
    from sciresearcher.knowledge.loaders import load_sources
    from sciresearcher.llm import make_client
    from sciresearcher.runs import write_jsonl_atomic
    from sciresearcher.synth.seeds import SeedConfig, select_seeds

    cfg = load_command_config("seeds", SeedConfig, config, list(ctx.args))
    if top_k is not None:
        cfg = cfg.model_copy(update={"top_k": top_k})
    docs = load_sources(corpus).documents
    seeds = asyncio.run(select_seeds(docs, cfg, make_client(cfg.llm) if cfg.llm else None))
    write_jsonl_atomic(out, [s.to_dict() for s in seeds])
    err.print(f"{len(seeds)} seeds from {len(docs)} documents -> {out}")
    for seed in seeds[:10]:
        typer.echo(f"{seed.score:.3f}  {seed.n_docs:4d} docs  {seed.entity}")


@synth_app.command("conceptual", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def conceptual_command(
    ctx: typer.Context,
    corpus: list[Path] = typer.Option([], "--corpus", help="corpus files or folders (repeatable)"),
    seeds: Path | None = typer.Option(None, "--seeds", help="the seeds JSONL `synth seeds` wrote (best first)"),
    config: Path | None = typer.Option(None, "--config", "-c", help="ConceptualConfig YAML (`config init conceptual`)"),
    out: Path | None = typer.Option(None, "--out", "-o", help="run directory (default runs/conceptual-<time>)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Multi-hop conceptual tasks written by a model: seed fact, anchor-based hops, evidence chain, verification.

    Needs a writer model, e.g. --writer.backend openai --writer.base_url URL --writer.model NAME.
    """
    from sciresearcher.synth.conceptual_run import run_conceptual
    from sciresearcher.synth.config import ConceptualConfig

    cfg = load_command_config("conceptual", ConceptualConfig, config, list(ctx.args))
    if corpus:
        cfg = cfg.model_copy(update={"corpus": [str(p) for p in corpus]})
    if seeds is not None:
        cfg = cfg.model_copy(update={"seeds_file": str(seeds)})
    run_path = out or default_run_dir("conceptual")
    summary = asyncio.run(run_conceptual(cfg, run_path, show_progress=not quiet))
    err.print(f"[dim]run directory: {run_path}; tasks in {run_path / 'tasks.jsonl'}[/]")
    typer.echo(json.dumps(summary, indent=2))
