"""Running a recipe: each stage in its own run directory under one pipeline directory, skipped when unchanged.

A stage's **key** is a hash of its part of the recipe (the settings that differ from their defaults: a new
setting whose default keeps the old behaviour changes no key), the keys of the stages it reads and the digests of
files outside the pipeline it reads; `NN-stage/stage.json` records the key, the state (`running` or `done`),
the outputs and a few figures. On a run:

- `done` with the same key: skipped (its outputs are reused);
- `running` with the same key (a killed pipeline): run again in place, and the stage's own run directory
  resumes at the record where it stopped (record logs skip finished records; SFT and GRPO restart from their
  last checkpoint);
- another key (the recipe or an input changed), or `--from` names this stage or an earlier one: the old
  directory is kept as `NN-stage.previous` and the stage runs from scratch.

`--until STAGE` stops after STAGE. One line per stage shows what happens (the stage's own progress bar runs
under it), and a table sums up the run at the end. `plan()` is the same decision without running anything
(`--dry-run` prints it with the estimate of `plan.py`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from sciresearcher.errors import ConfigError
from sciresearcher.pipeline.recipe import Recipe
from sciresearcher.pipeline.stages import STAGE_NAMES, STAGES, Context, Stage, StageResult
from sciresearcher.runs import replace_atomically

log = logging.getLogger(__name__)

FORMAT = 2  # bump when a stage's behaviour changes in a way its config does not show (a default's value, too)


@dataclass
class Planned:
    stage: Stage
    dir: Path
    key: str
    state: str  # done | resume | changed | new | redo

    @property
    def runs(self) -> bool:
        return self.state != "done"


def pipeline_dir(recipe: Recipe, out: str | Path | None = None) -> Path:
    return Path(out or recipe.out or f"runs/pipeline-{recipe.name}")


def _digest_file(path: Path) -> str:
    if not path.exists():
        return "missing"
    if path.is_dir():
        entries = sorted((str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns)
                         for p in path.rglob("*") if p.is_file())
        return hashlib.sha256(json.dumps(entries).encode()).hexdigest()[:16]
    size = path.stat().st_size
    if size > 64 << 20:  # big files: size and time, not content
        return f"{size}:{path.stat().st_mtime_ns}"
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def stage_key(stage: Stage, recipe: Recipe, upstream: dict[str, str], base: Path) -> str:
    payload = {"format": FORMAT, "stage": stage.name, "config": stage.config(recipe),
               "inputs": {name: upstream[name] for name in stage.needs},
               "files": {str(p): _digest_file(p) for p in stage.external(recipe, base)}}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _state_file(d: Path) -> Path:
    return d / "stage.json"


def read_state(d: Path) -> dict[str, Any] | None:
    path = _state_file(d)
    return json.loads(path.read_text()) if path.is_file() else None


def _write_state(d: Path, state: dict[str, Any]) -> None:
    d.mkdir(parents=True, exist_ok=True)
    text = json.dumps(state, indent=2, default=str) + "\n"
    replace_atomically(_state_file(d), lambda tmp: tmp.write_text(text))


def stage_dirs(root: Path) -> dict[str, Path]:
    """Each stage's run directory under a pipeline directory (`NN-stage`), in pipeline order."""
    return {stage.name: root / f"{i:02d}-{stage.name}" for i, stage in enumerate(STAGES, 1)}


def _index(name: str | None, what: str) -> int | None:
    if name is None:
        return None
    if name not in STAGE_NAMES:
        raise ConfigError(f"unknown stage {name!r} for {what}", hint=f"stages: {', '.join(STAGE_NAMES)}")
    return STAGE_NAMES.index(name)


def plan(recipe: Recipe, recipe_path: Path, root: Path, *, start: str | None = None,
         until: str | None = None) -> list[Planned]:
    """Every stage up to `until`, with its directory, key and what a run would do with it."""
    first, last = _index(start, "--from"), _index(until, "--until")
    keys: dict[str, str] = {}
    dirs = stage_dirs(root)
    out = []
    for i, stage in enumerate(STAGES):
        if last is not None and i > last:
            break
        key = keys[stage.name] = stage_key(stage, recipe, keys, recipe_path.parent)
        d = dirs[stage.name]
        old = read_state(d)
        if first is not None and i >= first:
            state = "redo"
        elif old is None:
            state = "new" if not d.exists() else "changed"
        elif old.get("key") != key:
            state = "changed"
        elif old.get("status") == "done":
            state = "done"
        else:
            state = "resume"
        out.append(Planned(stage, d, key, state))
    return out


def _figures(figures: dict[str, Any]) -> str:
    return " · ".join(f"{k} {v}" for k, v in figures.items() if v is not None and not isinstance(v, (dict, list)))


@dataclass
class PipelineRun:
    root: Path
    results: dict[str, StageResult]
    rows: list[tuple[str, str, float, str]]  # stage, what happened, seconds, figures


def run_pipeline(recipe: Recipe, recipe_path: Path, *, out: str | Path | None = None, start: str | None = None,
                 until: str | None = None, console: Console | None = None, show_progress: bool = True) -> PipelineRun:
    """Runs (or resumes) the recipe's stages in order; returns what each stage did and its outputs."""
    console = console or Console(stderr=True)
    root = pipeline_dir(recipe, out)
    root.mkdir(parents=True, exist_ok=True)
    planned = plan(recipe, recipe_path, root, start=start, until=until)
    ctx = Context(recipe, recipe_path, root, show_progress=show_progress)
    rows: list[tuple[str, str, float, str]] = []
    (root / "recipe.yaml").write_text(_recipe_text(recipe))
    for n, item in enumerate(planned, 1):
        head = f"[bold][{n}/{len(planned)}] {item.stage.name}[/] [dim]{item.stage.summary}[/]"
        old = read_state(item.dir)
        if not item.runs and old is not None:
            ctx.results[item.stage.name] = StageResult(old["outputs"], old.get("figures", {}))
            console.print(f"{head}: [green]unchanged, skipped[/] [dim]({_figures(old.get('figures', {}))})[/]")
            rows.append((item.stage.name, "skipped", 0.0, _figures(old.get("figures", {}))))
            continue
        if item.state in ("changed", "redo") and item.dir.exists():
            previous = item.dir.with_name(item.dir.name + ".previous")
            shutil.rmtree(previous, ignore_errors=True)
            item.dir.rename(previous)
            console.print(f"{head}: [yellow]{'redo' if item.state == 'redo' else 'inputs or config changed'}[/] "
                          f"[dim](the old run is kept in {previous.name})[/]")
        else:
            console.print(f"{head}: {'[yellow]resuming[/]' if item.state == 'resume' else 'running'}")
        started = time.time()
        _write_state(item.dir, {"stage": item.stage.name, "key": item.key, "status": "running",
                                "started": started, "outputs": {}, "figures": {}})
        result = item.stage.run(ctx, item.dir)
        elapsed = time.time() - started
        ctx.results[item.stage.name] = result
        _write_state(item.dir, {"stage": item.stage.name, "key": item.key, "status": "done", "started": started,
                                "elapsed_s": round(elapsed, 2), "outputs": result.outputs, "figures": result.figures})
        console.print(f"    [green]done[/] in {elapsed:.1f}s [dim]{_figures(result.figures)}[/]")
        rows.append((item.stage.name, "resumed" if item.state == "resume" else "ran", elapsed,
                     _figures(result.figures)))
    return PipelineRun(root, ctx.results, rows)


def _recipe_text(recipe: Recipe) -> str:
    from sciresearcher.config import dump_config

    return dump_config(recipe)


def summary_table(run: PipelineRun) -> Table:
    table = Table(title=f"pipeline {run.root}", title_justify="left")
    table.add_column("stage")
    table.add_column("")
    table.add_column("time", justify="right")
    table.add_column("result")
    for stage, what, seconds, figures in run.rows:
        table.add_row(stage, what, f"{seconds:.0f}s" if what != "skipped" else "-", figures)
    return table


def results_table(run: PipelineRun) -> Table | None:
    """Accuracy of each evaluated model on each split or benchmark, with the 95% interval and task count, and its
    tool calls (and failed ones) per task."""
    if "eval" not in run.results:
        return None
    runs = json.loads(Path(run.results["eval"].outputs["runs"]).read_text())
    labels = list(dict.fromkeys(label for by in runs.values() for label in by))
    table = Table(title="accuracy on tasks the models never trained on (95% interval); tool calls per task",
                  title_justify="left")
    table.add_column("model")
    for label in labels:
        table.add_column(label, justify="right")
    for model, by in runs.items():
        cells = []
        for label in labels:
            r = by.get(label)
            if r is None:
                cells.append("-")
                continue
            lo, hi = r.get("ci95") or (None, None)
            ci = f" [{lo:.2f}, {hi:.2f}]" if lo is not None else ""
            use = (f"\n{r['tool_calls']:.1f} tool calls, {r['tool_errors']:.1f} failed"
                   if r.get("tool_calls") is not None else "")
            cells.append(f"{r['accuracy']:.3f}{ci} (n={r.get('tasks')}){use}")
        table.add_row({"base": "base (untrained)", "sft": "SFT", "grpo": "SFT + GRPO"}.get(model, model), *cells)
    return table
