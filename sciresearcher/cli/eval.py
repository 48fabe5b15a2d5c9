"""`sciresearcher eval run|score|list` and the `report` command function (mounted top-level by app.py).

Wiring only: the config is `eval/config.py`, the run `eval/harness.py`, scoring `eval/score.py`, the HTML
`eval/report.py`. Heavy imports happen inside the commands so `--help` stays instant.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from rich.console import Console

from sciresearcher.cli.common import (
    default_run_dir,
    exit_if_every_trajectory_failed,
    load_command_config,
    parse_ks,
)

eval_app = typer.Typer(help="Run and score benchmarks.", no_args_is_help=True)
err = Console(stderr=True)


@eval_app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run_command(
    ctx: typer.Context,
    benchmark: str | None = typer.Option(None, "--benchmark", "-b", help="benchmark name, NAME=FILE, or a tasks file"),
    benchmark_file: Path | None = typer.Option(None, "--benchmark-file", help="local file for a named benchmark"),
    model: str | None = typer.Option(None, "--model", "-m", help="model name or local model directory"),
    backend: str | None = typer.Option(None, "--backend", help="openai | anthropic | local"),
    samples: int | None = typer.Option(None, "--samples", "-n", help="samples per task"),
    k: str | None = typer.Option(None, "--k", help="pass@k values, e.g. 1,3"),
    limit: int | None = typer.Option(None, "--limit", help="first N tasks"),
    config: Path | None = typer.Option(None, "--config", "-c", help="EvalConfig YAML (`config init eval`)"),
    out: Path | None = typer.Option(None, "--out", "-o", help="run directory (default runs/eval-<time>)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Run the agent on a benchmark, grade every sample, write trajectories and summary.json.

    Extra flags override config keys, e.g. --agent.max_turns 8 --judge.llm.model o3-mini-2025-01-31.
    """
    from sciresearcher.eval.config import EvalConfig
    from sciresearcher.eval.harness import run_eval

    options = {"benchmark": benchmark, "benchmark_file": str(benchmark_file) if benchmark_file else None,
               "samples": samples, "limit": limit, "k": parse_ks(k) if k is not None else None,
               "llm": {"model": model, "backend": backend}}
    cfg = load_command_config("eval", EvalConfig, config, list(ctx.args), options=options)
    run_path = out or default_run_dir("eval")
    summary = asyncio.run(run_eval(cfg, run_path, show_progress=not quiet))
    typer.echo(json.dumps(summary, indent=2, default=str))
    exit_if_every_trajectory_failed(summary, run_path)
    err.print(f"[dim]run directory: {run_path}; `sciresearcher report {run_path}` writes the HTML report[/]")


@eval_app.command("score")
def score_command(
    responses: Path = typer.Option(..., "--responses", "-r", help="JSONL of {task_id, response[, sample_index]}"),
    benchmark: str | None = typer.Option(None, "--benchmark", "-b", help="benchmark name, NAME=FILE, or a tasks file"),
    benchmark_file: Path | None = typer.Option(None, "--benchmark-file", help="local file for a named benchmark"),
    tasks: str | None = typer.Option(None, "--tasks", "-t", help="same as --benchmark (older name)"),
    k: str = typer.Option("1", "--k", help="pass@k values, e.g. 1,3"),
    seed: int = typer.Option(0, "--seed", help="the run's seed: option order of GPQA / LitQA2 samples"),
    grades_out: Path | None = typer.Option(None, "--grades-out", help="write each sample's grade here (JSONL)"),
    allow_unknown_ids: bool = typer.Option(False, "--allow-unknown-ids",
                                           help="score even when some responses match no task (listed in the summary)"),
    judge_model: str | None = typer.Option(None, "--judge-model", help="grade with the HLE judge via this model"),
    judge_backend: str = typer.Option("openai", "--judge-backend", help="backend of the judge model"),
    judge_base_url: str | None = typer.Option(None, "--judge-base-url", help="OpenAI-compatible endpoint"),
    judge_structured_output: bool = typer.Option(
        True, "--judge-structured-output/--no-judge-structured-output",
        help="HLE's official structured-output call; --no-... for servers without response_format"),
) -> None:
    """Grade existing responses (one line per sample) and print the summary JSON.

    Exits non-zero when responses name task ids the benchmark lacks (unless --allow-unknown-ids).
    """
    from sciresearcher.eval.score import read_responses, score_responses, warn_without_judge
    from sciresearcher.tasks.registry import load_benchmark

    if benchmark and tasks and benchmark != tasks:
        raise typer.BadParameter("give the benchmark once: --benchmark (or its older name --tasks)")
    spec = benchmark or tasks
    if spec is None:
        raise typer.BadParameter("name the benchmark: --benchmark NAME [--benchmark-file FILE], NAME=FILE, or a "
                                 "tasks file")
    bench = load_benchmark(spec, path=benchmark_file)
    rows = read_responses(responses)
    judge = None
    if judge_model:
        from sciresearcher.grade.judge import HLEJudge
        from sciresearcher.llm import make_client
        from sciresearcher.llm.config import LLMConfig

        judge = HLEJudge(make_client(LLMConfig(backend=judge_backend, model=judge_model, base_url=judge_base_url)),
                         structured_output=judge_structured_output)
    elif warning := warn_without_judge(bench, "Pass --judge-model o3-mini-2025-01-31"):
        err.print(f"[yellow]warning:[/] {warning}")
    summary, graded = asyncio.run(score_responses(bench, rows, parse_ks(k), judge, seed=seed,
                                                  allow_unknown=allow_unknown_ids))
    if summary["unknown_task_ids"]:
        err.print(f"[yellow]{len(summary['unknown_task_ids'])} responses name unknown task ids (not scored):[/] "
                  + ", ".join(summary["unknown_task_ids"][:10]))
    if summary["missing_tasks"]:
        err.print(f"[yellow]{summary['missing_tasks']} of {summary['n_tasks']} tasks have no response; they count "
                  "as wrong (the denominator is every task of the benchmark)[/]")
    if grades_out:
        grades_out.write_text("".join(json.dumps(g, ensure_ascii=False) + "\n" for g in graded))
    typer.echo(json.dumps(summary, indent=2, default=str))


@eval_app.command("list")
def list_command(
    benchmark_file: Path | None = typer.Option(None, "--benchmark-file", help="count this file instead"),
) -> None:
    """List the known benchmarks and, where their data is at hand, load them and print their counts."""
    from sciresearcher.errors import SciResearcherError
    from sciresearcher.tasks.registry import BENCHMARKS, load_benchmark

    if benchmark_file is not None:
        typer.echo(json.dumps(load_benchmark(str(benchmark_file)).counts()))
        return
    for name, (_, desc) in BENCHMARKS.items():
        try:
            counts = load_benchmark(name).counts()
            typer.echo(f"{name}: {counts['tasks']} tasks {counts['by_answer_type']}  ({desc})")
        except SciResearcherError as exc:
            typer.echo(f"{name}: not available here ({str(exc).splitlines()[0]})  ({desc})")


def report_command(
    run_dir: Path = typer.Argument(..., help="an eval run directory (with trajectories.jsonl)"),
    out: Path | None = typer.Option(None, "--out", "-o", help="HTML file (default RUN_DIR/report.html)"),
) -> None:
    """Write a self-contained HTML report with plots and a trajectory viewer for an eval run."""
    from sciresearcher.eval.report import write_report

    path = write_report(run_dir, out)
    err.print(f"wrote {path}")
    typer.echo(str(path))
