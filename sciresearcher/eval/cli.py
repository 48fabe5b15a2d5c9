"""`sciresearcher eval run|score` and the `report` command function (mounted top-level by the lead).

Wiring only: configs come from `config.py`, the run from `harness.py`, scoring from `score.py`, the HTML
from `report.py`. Heavy imports happen inside the commands so `--help` stays instant.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import typer
from rich.console import Console

eval_app = typer.Typer(help="Run and score benchmarks.", no_args_is_help=True)
err = Console(stderr=True)


def _ks(text: str) -> list[int]:
    try:
        ks = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError as exc:
        raise typer.BadParameter(f"--k must be comma-separated integers like 1,3 (got {text!r})") from exc
    if not ks or ks[0] < 1:
        raise typer.BadParameter("--k values must be >= 1")
    return ks


@eval_app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run_command(
    ctx: typer.Context,
    benchmark: str | None = typer.Option(None, "--benchmark", "-b", help="benchmark name or a tasks file"),
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
    overrides: dict = {}
    for key, value in (("benchmark", benchmark), ("benchmark_file", str(benchmark_file) if benchmark_file else None),
                       ("samples", samples), ("limit", limit)):
        if value is not None:
            overrides[key] = value
    if k is not None:
        overrides["k"] = _ks(k)
    run_from_cli(list(ctx.args), config, overrides, model=model, backend=backend, out=out, quiet=quiet, name="eval")


def run_from_cli(args: list[str], config: Path | None, overrides: dict, *, model: str | None, backend: str | None,
                 out: Path | None, quiet: bool, name: str) -> None:
    """Shared by `eval run` and `data rollout`: config file, then dotted flags, then the named options; run; print."""
    from sciresearcher.config import load_config
    from sciresearcher.eval.config import EvalConfig
    from sciresearcher.eval.harness import run_eval

    llm = {kk: v for kk, v in (("model", model), ("backend", backend)) if v is not None}
    if llm:
        overrides = {**overrides, "llm": llm}
    cfg = load_config(EvalConfig, config, args)
    cfg = load_config(EvalConfig, None, _deep_merge(cfg.model_dump(mode="json"), overrides))
    run_path = out or Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    summary = asyncio.run(run_eval(cfg, run_path, show_progress=not quiet))
    err.print(f"[dim]run directory: {run_path}; `sciresearcher report {run_path}` writes the HTML report[/]")
    typer.echo(json.dumps(summary, indent=2, default=str))


def _deep_merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@eval_app.command("score")
def score_command(
    tasks: str = typer.Option(..., "--tasks", "-t", help="tasks file or benchmark name"),
    responses: Path = typer.Option(..., "--responses", "-r", help="JSONL of {task_id, response}"),
    k: str = typer.Option("1", "--k", help="pass@k values, e.g. 1,3"),
    grades_out: Path | None = typer.Option(None, "--grades-out", help="write each sample's grade here (JSONL)"),
    judge_model: str | None = typer.Option(None, "--judge-model", help="grade with the HLE judge via this model"),
    judge_backend: str = typer.Option("openai", "--judge-backend", help="backend of the judge model"),
    judge_base_url: str | None = typer.Option(None, "--judge-base-url", help="OpenAI-compatible endpoint"),
) -> None:
    """Grade existing responses (one line per sample) and print the summary JSON."""
    from sciresearcher.eval.benchmarks import load_benchmark
    from sciresearcher.eval.score import read_responses, score_responses

    bench = load_benchmark(tasks)
    rows = read_responses(responses)
    judge = None
    if judge_model:
        from sciresearcher.eval.judge import HLEJudge
        from sciresearcher.llm import make_client
        from sciresearcher.llm.config import LLMConfig

        judge = HLEJudge(make_client(LLMConfig(backend=judge_backend, model=judge_model, base_url=judge_base_url)))
    summary, graded = asyncio.run(score_responses(bench, rows, _ks(k), judge))
    if summary["unknown_task_ids"]:
        err.print(f"[yellow]{len(summary['unknown_task_ids'])} responses name unknown task ids:[/] "
                  + ", ".join(summary["unknown_task_ids"][:10]))
    if grades_out:
        grades_out.write_text("".join(json.dumps(g, ensure_ascii=False) + "\n" for g in graded))
    typer.echo(json.dumps(summary, indent=2, default=str))


@eval_app.command("list")
def list_command(
    benchmark_file: Path | None = typer.Option(None, "--benchmark-file", help="count this file instead"),
) -> None:
    """List the known benchmarks and, where their data is at hand, load them and print their counts."""
    from sciresearcher.errors import SciResearcherError
    from sciresearcher.eval.benchmarks import BENCHMARKS, load_benchmark

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
