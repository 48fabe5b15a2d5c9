"""`sciresearcher pipeline RECIPE`: every stage from documents to a report in one command (wiring only).

The recipe and its stages are `sciresearcher/pipeline/`; this parses options, prints the plan (`--dry-run`)
or runs it, and prints the summary table and, when models were evaluated, their accuracy side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sciresearcher.pipeline.recipe import Recipe
    from sciresearcher.pipeline.runner import Planned

err = Console(stderr=True)
out_console = Console()


def pipeline_command(
    ctx: typer.Context,
    recipe: str = typer.Argument(..., help="a recipe YAML file, or a built-in recipe name (demo)"),
    out: Path | None = typer.Option(None, "--out", "-o", help="pipeline directory (default: the recipe's `out`, "
                                    "else runs/pipeline-<name>)"),
    start: str | None = typer.Option(None, "--from", help="redo from this stage on (earlier stages are reused)"),
    until: str | None = typer.Option(None, "--until", help="stop after this stage"),
    dry_run: bool = typer.Option(False, "--dry-run", help="print the plan, model calls, tokens and cost; run nothing"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bars"),
) -> None:
    """Run a recipe: world -> synth -> clean -> split -> teacher -> filter -> base -> export -> sft -> grpo -> eval
    -> report, each stage in its own run directory; unchanged stages are skipped, a killed run resumes.

    Extra flags override recipe keys, e.g. --seed 1 --sft.max_steps 100 --eval.splits '[validation]'.
    """
    from sciresearcher.pipeline.recipe import load_recipe
    from sciresearcher.pipeline.runner import pipeline_dir, plan, results_table, run_pipeline, summary_table

    cfg, path = load_recipe(recipe, list(ctx.args))
    root = pipeline_dir(cfg, out)
    if dry_run:
        print_plan(cfg, path, plan(cfg, path, root, start=start, until=until))
        return
    _quiet_libraries()
    run = run_pipeline(cfg, path, out=root, start=start, until=until, console=err, show_progress=not quiet)
    out_console.print(summary_table(run))
    table = results_table(run)
    if table is not None:
        out_console.print(table)
    if "report" in run.results:
        out_console.print(f"report: {run.results['report'].outputs['report']}")


def _quiet_libraries() -> None:
    """Training libraries print per-step dicts and advice; the pipeline shows its own lines instead."""
    import logging
    import os
    import warnings

    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    for name in ("bm25s", "pint"):  # these set their own logger levels on import: import them first
        try:
            __import__(name)
        except ImportError:
            pass
    for name in ("transformers", "trl", "accelerate", "datasets", "httpx", "bm25s", "pint", "sentence_transformers"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        import datasets  # TRL's dataset preparation (tokenizing, labels, truncation) shows bars of its own

        datasets.disable_progress_bars()
    except ImportError:
        pass


def print_plan(recipe: Recipe, path: Path, planned: list[Planned]) -> None:
    from rich.table import Table

    from sciresearcher.pipeline.plan import describe, estimate, load_prices, task_counts

    table = load_prices(recipe, path)
    counts = task_counts(recipe)
    out_console.print(f"[bold]{recipe.name}[/] ({path}): {recipe.description}".rstrip(": "))
    out_console.print("expected tasks after cleaning and the split: "
                      + ", ".join(f"{k} ~{v:.0f}" for k, v in counts.items()))
    plan_table = Table(title="plan", title_justify="left")
    for col in ("stage", "state", "reads", "writes", "model calls", "tokens in / out", "cost (USD)", "list price"):
        plan_table.add_column(col, justify="right" if col in ("model calls", "cost (USD)", "list price") else "left")
    total_cost, total_list, unknown = 0.0, 0.0, []
    for item in planned:
        reads, writes = describe(recipe, item)
        rows = estimate(recipe, path, item, table).rows
        if not rows:
            plan_table.add_row(item.stage.name, item.state, reads, writes, "-", "-", "-", "-")
            continue
        for i, r in enumerate(rows):
            cost, listed = r["cost_usd"], r["list_usd"]
            if cost is None:
                unknown.append(r["model"])
            elif item.runs:
                total_cost += cost
                total_list += listed or 0.0
            plan_table.add_row(item.stage.name if i == 0 else "", item.state if i == 0 else "",
                               reads if i == 0 else "", writes if i == 0 else "",
                               f"{r['calls']:,.0f} ({r['who']}" + (f": {r['model']})" if r['model'] != r['who'] else ")"),
                               f"{r['prompt_tokens'] / 1e6:,.1f}M / {r['completion_tokens'] / 1e6:,.2f}M",
                               "?" if cost is None else f"{cost:,.2f}" + (f" ({r['discounts']})" if r["discounts"] else ""),
                               "?" if listed is None else f"{listed:,.2f}")
    out_console.print(plan_table)
    out_console.print(f"estimated cost of the stages still to run: [bold]${total_cost:,.2f}[/] (at list price "
                      f"${total_list:,.2f})"
                      + (f" (+ models with no price: {', '.join(sorted(set(unknown)))}; add them to the price table)"
                         if unknown else ""))
    out_console.print("[dim]states: new / changed = will run, resume = continues where it stopped, done = skipped, "
                      "redo = runs again (--from). Estimates come from the recipe's `estimates` section.[/]")
