"""One self-contained HTML page comparing models evaluated on the same tasks (the pipeline's report stage).

`write_comparison(runs, out, training=...)` reads eval run directories (`runs`: model -> label -> {"dir": ...},
as the pipeline's eval stage writes them) and renders `compare_template.html`: accuracy with its 95% interval,
tool calls, turns, tool and format errors per model and task set; accuracy bars; learning curves from the
training runs' summary.json (SFT loss, GRPO reward and loss against the step); and, for the same tasks, each
model's trajectory side by side (tool calls with their arguments, what the tools returned, the final answer
and its grade), filterable to the tasks where the models disagree. Nothing is fetched; CSS and JS are inline.
The single-run viewer with every sub-agent call is `report.py`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2

from sciresearcher.eval import plots
from sciresearcher.eval.report import _printable, load_run
from sciresearcher.records import Trajectory

TEMPLATE = Path(__file__).with_name("compare_template.html")
LABELS = {"base": "base (untrained)", "sft": "SFT", "grpo": "SFT + GRPO"}


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _stats(trajs: list[Trajectory], summary: dict[str, Any]) -> dict[str, Any]:
    n = len(trajs) or 1
    return {
        "accuracy": summary.get("accuracy"), "ci95": summary.get("accuracy_ci95"), "tasks": summary.get("n_tasks"),
        "tool_calls": _mean([t.counters.tool_calls for t in trajs]), "turns": _mean([t.counters.turns for t in trajs]),
        "tool_errors": sum(t.counters.tool_errors for t in trajs) / n,
        "format_errors": sum(t.counters.format_errors for t in trajs) / n,
        "answered": sum(1 for t in trajs if t.final and t.final.answer) / n,
        "tools_used": {name: sum(1 for t in trajs for m in t.messages for c in (m.tool_calls or [])
                                 if c.function.name == name) / n for name in ("search", "read", "python")},
    }


def _steps(t: Trajectory, limit: int = 600) -> list[dict[str, Any]]:
    """A trajectory as steps: each tool call with its result, and the final reply."""
    results = {m.tool_call_id: m for m in t.messages if m.role == "tool"}
    out = []
    for m in t.messages:
        if m.role != "assistant":
            continue
        for c in m.tool_calls or []:
            result = results.get(c.id)
            text = (result.content or "") if result else "(no result)"
            out.append({"kind": "call", "name": c.function.name, "arguments": c.function.arguments,
                        "result": text if len(text) <= limit else text[:limit] + " …"})
        if not m.tool_calls and (m.content or "").strip():
            out.append({"kind": "final", "text": m.content})
    return out


def _curves(training: dict[str, str]) -> dict[str, str]:
    out = {}
    for name, path in training.items():
        file = Path(path)
        if not file.is_file():
            continue
        history = json.loads(file.read_text()).get("log_history", [])
        for key, title in (("loss", f"{name.upper()} training loss"), ("reward", f"{name.upper()} mean reward")):
            points = [(h["step"], h[key]) for h in history if key in h and "step" in h]
            if len(points) < 2:
                continue
            top = max(1.0, max(v for _, v in points) * 1.1) if key == "loss" else 1.0
            out[f"{name}_{key}"] = plots.line_chart([p[0] for p in points], {key: [p[1] for p in points]}, title=title,
                                                    ymax=top, yfmt="{:.2f}", xlabel="step")
    return out


def render_comparison(runs: dict[str, dict[str, dict[str, Any]]], *, training: dict[str, str] | None = None,
                      title: str = "model comparison", max_tasks: int = 100) -> str:
    models = list(runs)
    labels = list(dict.fromkeys(label for by in runs.values() for label in by))
    loaded: dict[str, dict[str, tuple[list[Trajectory], dict[str, Any]]]] = {}
    for model, by in runs.items():
        for label, info in by.items():
            trajs, summary, _ = load_run(Path(info["dir"]))
            loaded.setdefault(model, {})[label] = (trajs, summary)
    stats = {m: {label: _stats(*loaded[m][label]) for label in loaded[m]} for m in models}
    bars = {label: plots.bar_chart([LABELS.get(m, m) for m in models],
                                   {"accuracy": [stats[m].get(label, {}).get("accuracy") for m in models]},
                                   title=f"accuracy on {label}", ymax=1.0) for label in labels}
    tool_bars = {label: plots.bar_chart(
        [LABELS.get(m, m) for m in models],
        {name: [stats[m].get(label, {}).get("tools_used", {}).get(name) for m in models]
         for name in ("search", "read", "python")}, title=f"tool calls per task on {label}", yfmt="{:.1f}")
        for label in labels}
    side: dict[str, list[dict[str, Any]]] = {}
    for label in labels:
        per_model = {m: {t.task_id: t for t in loaded[m][label][0] if t.sample_index == 0}
                     for m in models if label in loaded[m]}
        first = next(iter(per_model.values()), {})
        rows = []
        for task_id in list(first)[:max_tasks]:
            cells = []
            for m in models:
                t = per_model.get(m, {}).get(task_id)
                ok = bool(t and t.grade and t.grade.correct)
                cells.append({"model": LABELS.get(m, m), "correct": ok, "missing": t is None,
                              "steps": _steps(t) if t else [], "answer": (t.final.answer if t and t.final else None),
                              "status": t.status if t else "missing"})
            t0 = first[task_id]
            question = next((m.content for m in t0.messages if m.role == "user"), "") or ""
            rows.append({"task_id": task_id, "question": question, "gold": t0.metadata.get("benchmark_gold"),
                         "cells": cells, "differ": len({c["correct"] for c in cells}) > 1})
        side[label] = rows
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda v: "–" if v is None else f"{100 * float(v):.1f}%"
    env.filters["num"] = lambda v, d=2: "–" if v is None else f"{float(v):.{d}f}"
    env.finalize = _printable
    return env.from_string(TEMPLATE.read_text(encoding="utf-8")).render(
        title=title, models=models, labels=labels, names=LABELS, stats=stats, bars=bars, tool_bars=tool_bars,
        curves=_curves(training or {}), side=side)


def write_comparison(runs: dict[str, dict[str, dict[str, Any]]], out: str | Path, *,
                     training: dict[str, str] | None = None, title: str = "model comparison") -> Path:
    """Renders the comparison of `runs` into `out` (an .html file) and returns the path."""
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_comparison(runs, training=training, title=title), encoding="utf-8")
    return target
