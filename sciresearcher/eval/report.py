"""`sciresearcher report RUN_DIR`: one self-contained HTML file for an eval run.

Reads `trajectories.jsonl`, `summary.json` and `config.yaml` from the run directory and renders
`report_template.html` (Jinja2, autoescaped): summary tables, inline SVG plots (accuracy by category,
pass@k and maj@k against k, turns by correctness, steps against difficulty) and a trajectory viewer with
every message, reasoning, tool call and result, sub-agent call, evidence link, the final answer and its
grade, filterable by correct/wrong and category. CSS and JS are inline; nothing is fetched. LaTeX in questions,
replies and reasoning is typeset by KaTeX (inlined, fonts included, only when a trajectory holds math) as each
trajectory is opened. Works on any run directory holding trajectories (an `ask` run too: no grades means
"ungraded").

Reading is read-only (`load_run`): complete lines only, no lock, nothing repaired, so a report of a live
run changes nothing. Every input is checked before rendering: a malformed line, JSON nested too deeply, a
trajectory that does not fit the schema or a summary.json field of the wrong type is a DataError naming
file:line and the field, with any echoed value cut short. Only http(s) URLs become links.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from sciresearcher.config import load_yaml, short
from sciresearcher.errors import ConfigError, DataError
from sciresearcher.eval import plots
from sciresearcher.grade.metrics import pass_at_k
from sciresearcher.records import Trajectory
from sciresearcher.runs import iter_jsonl

log = logging.getLogger(__name__)

TEMPLATE = Path(__file__).with_name("report_template.html")
Num = float | None


class _Rate(BaseModel):
    n: int = 0
    accuracy: Num = None


class _Depth(BaseModel):
    n: int = 0
    mean_turns: Num = None
    mean_tool_calls: Num = None


class _DepthTable(BaseModel):
    model_config = ConfigDict(extra="allow")
    correct: _Depth | None = None
    wrong: _Depth | None = None
    by_difficulty: dict[str, _Depth] = {}


class SummaryView(BaseModel):
    """The summary.json fields the report shows, with the types it needs (others pass through)."""

    model_config = ConfigDict(extra="allow")
    accuracy: Num = None
    accuracy_ci95: list[float] | None = None
    calibration_error_official: Num = None
    calibration_error_corrected: Num = None
    cost_usd: Num = None
    pass_at_k: dict[str, Num] = {}
    maj_at_k: dict[str, Num] = {}
    by_category: dict[str, _Rate] = {}
    by_answer_type: dict[str, _Rate] = {}
    depth: _DepthTable = _DepthTable()
    status: dict[str, int] = {}


def _json_line(text: str, loc: tuple[Any, ...]) -> int:
    """The line of the field at `loc` in a JSON document (searching its keys in order), else 1."""
    pos = 0
    for part in loc:
        if isinstance(part, str):
            found = text.find(json.dumps(part), pos)
            if found < 0:
                break
            pos = found
    return text.count("\n", 0, pos) + 1


def _fields(exc: ValidationError) -> str:
    parts = [f"field {'.'.join(map(str, e['loc']))[:200]}: {e['msg'][:200]} (got {short(e.get('input'))})"
             for e in exc.errors()[:5]]
    return "; ".join(parts) + (f"; and {len(exc.errors()) - 5} more" if len(exc.errors()) > 5 else "")


def _summary(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise DataError(f"{path}: JSON nested too deeply to read") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}:1: the summary must be a JSON object, got {type(data).__name__}")
    try:
        SummaryView.model_validate(data)
    except ValidationError as exc:
        line = _json_line(text, tuple(exc.errors()[0]["loc"]))
        raise DataError(f"{path}:{line}: {_fields(exc)}", hint="summary.json is written by `eval run`") from None
    return data


def load_run(run_dir: Path) -> tuple[list[Trajectory], dict[str, Any], dict[str, Any]]:
    """Trajectories (the last record of each id, complete lines only), summary and config of a run; reads
    without locking or writing anything."""
    path = run_dir / "trajectories.jsonl"
    if not path.is_file():
        raise DataError(f"{run_dir} has no trajectories.jsonl", hint="pass the directory an `eval run` wrote")
    latest: dict[str, tuple[int, Any]] = {}
    for lineno, row in iter_jsonl(path, hint="each line is one Trajectory record", complete_lines_only=True):
        if not isinstance(row, dict) or "id" not in row:
            raise DataError(f"{path}:{lineno}: not a trajectory record (a JSON object with an 'id')")
        latest[str(row["id"])] = (lineno, row)
    trajs = []
    for lineno, row in latest.values():
        try:
            trajs.append(Trajectory.model_validate(row))
        except ValidationError as exc:
            raise DataError(f"{path}:{lineno}: {_fields(exc)}", hint="each line is one Trajectory record") from None
    trajs.sort(key=lambda t: (t.task_id, t.sample_index))
    config: Any = {}
    if (run_dir / "config.yaml").is_file():
        try:
            config = load_yaml((run_dir / "config.yaml").read_text(errors="replace"), str(run_dir / "config.yaml"))
        except (ConfigError, yaml.YAMLError) as exc:
            raise DataError(str(exc).split("\n")[0][:500]) from None
    return trajs, _summary(run_dir / "summary.json"), config if isinstance(config, dict) else {}


def http_url(url: Any) -> str | None:
    """`url` when it is an http(s) URL (what the report may link to), else None: no javascript:, data:..."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    ok = url.lower().startswith(("http://", "https://")) and not _CONTROL.search(url) and "\t" not in url
    return url if ok else None


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _plots(trajs: list[Trajectory]) -> dict[str, str]:
    by_cat: dict[str, list[bool]] = defaultdict(list)
    by_task: dict[str, list[bool]] = defaultdict(list)
    for t in trajs:
        ok = bool(t.grade and t.grade.correct)
        by_cat[str(t.metadata.get("category") or "none")].append(ok)
        by_task[t.task_id].append(ok)
    cats = sorted(by_cat)
    out = {"category": plots.bar_chart(cats, {"accuracy": [sum(v) / len(v) for v in (by_cat[c] for c in cats)]},
                                       title="Mean accuracy over samples by category", ymax=1.0)}
    n_min = min((len(v) for v in by_task.values()), default=0)
    ks = list(range(1, n_min + 1))
    curve = [sum(pass_at_k(len(v), sum(v), k) for v in by_task.values()) / len(by_task) for k in ks]
    out["pass_at_k"] = plots.line_chart(ks, {"pass@k": curve}, title="pass@k against k")
    turns = {"correct": [t.counters.turns for t in trajs if t.grade and t.grade.correct],
             "wrong": [t.counters.turns for t in trajs if not (t.grade and t.grade.correct)]}
    tools = {"correct": [t.counters.tool_calls for t in trajs if t.grade and t.grade.correct],
             "wrong": [t.counters.tool_calls for t in trajs if not (t.grade and t.grade.correct)]}
    labels = ["correct", "wrong"]
    out["turns"] = plots.bar_chart(labels, {"mean turns": [_mean(turns[k]) for k in labels],
                                            "mean tool calls": [_mean(tools[k]) for k in labels]},
                                   title="Turns and tool calls by correctness", yfmt="{:.1f}")
    by_diff: dict[str, list[Trajectory]] = defaultdict(list)
    for t in trajs:
        by_diff[str(t.metadata.get("difficulty") or "unknown")].append(t)
    diffs = sorted(by_diff)
    out["difficulty"] = plots.bar_chart(
        diffs, {"mean steps": [_mean([t.counters.turns for t in by_diff[d]]) for d in diffs],
                "mean tool calls": [_mean([t.counters.tool_calls for t in by_diff[d]]) for d in diffs]},
        title="Steps against difficulty", yfmt="{:.1f}")
    return out


def _view(t: Trajectory) -> dict[str, Any]:
    """What the template needs for one trajectory (pre-digested so the template stays simple)."""
    results = {m.tool_call_id: m for m in t.messages if m.role == "tool"}
    subcalls: dict[str | None, list[Any]] = defaultdict(list)
    for s in t.subcalls:
        subcalls[s.tool_call_id].append(s)
    turns = []
    for m in t.messages:
        if m.role == "tool":
            continue
        calls = [{"call": c, "result": results.get(c.id), "subcalls": subcalls.pop(c.id, [])}
                 for c in (m.tool_calls or [])]
        turns.append({"message": m, "calls": calls})
    question = next((m.content for m in t.messages if m.role == "user"), "") or ""
    grade = t.grade
    return {
        "t": t, "turns": turns, "orphan_subcalls": [s for v in subcalls.values() for s in v],
        "question": question, "status": "ungraded" if grade is None else ("correct" if grade.correct else "wrong"),
        "category": str(t.metadata.get("category") or "none"), "gold": t.metadata.get("benchmark_gold"),
        "usage": t.usage,
    }


def render_report(run_dir: str | Path) -> str:
    run_dir = Path(run_dir)
    trajs, summary, config = load_run(run_dir)
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda v: "–" if v is None else f"{100 * float(v):.1f}%"
    env.filters["num"] = lambda v, d=2: "–" if v is None else f"{float(v):.{d}f}"
    env.filters["pretty_args"] = _pretty_args
    env.filters["http_url"] = http_url
    env.finalize = _printable
    template = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    views = [_view(t) for t in trajs]
    return template.render(
        run_name=run_dir.resolve().name, summary=summary, config=config, views=views, plots=_plots(trajs),
        categories=sorted({v["category"] for v in views}),
        n_correct=sum(v["status"] == "correct" for v in views), n_total=len(views),
        katex=_katex() if any(_has_math(t) for t in trajs) else None,
    )


KATEX = Path(__file__).with_name("katex")
_MATH = re.compile(r"\$[^$\n]+\$|\\\(|\\\[")


def _has_math(t: Trajectory) -> bool:
    """Whether a question, reply or reasoning holds LaTeX ($...$, \\(...\\) or \\[...\\])."""
    return any(_MATH.search(m.content or "") or _MATH.search(m.reasoning_content or "")
               for m in t.messages if m.role in ("user", "assistant"))


def _katex() -> dict[str, markupsafe.Markup]:
    """KaTeX (vendored from npm by scripts/vendor_katex.py, fonts inlined), about 630 KiB: only for reports with math."""
    def script(name: str) -> markupsafe.Markup:  # "</" only occurs in its strings, where "<\\/" means the same
        return markupsafe.Markup((KATEX / name).read_text(encoding="utf-8").replace("</", "<\\/"))

    return {"css": markupsafe.Markup((KATEX / "katex.min.css").read_text(encoding="utf-8")),
            "js": script("katex.min.js"), "auto_render": script("auto-render.min.js")}


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _printable(value: Any) -> Any:
    """Control characters (model garbage) are not valid in HTML text: shown as U+FFFD."""
    if not isinstance(value, str) or not _CONTROL.search(value):
        return value
    cleaned = _CONTROL.sub("\ufffd", value)
    return markupsafe.Markup(cleaned) if isinstance(value, markupsafe.Markup) else cleaned


def _pretty_args(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except (json.JSONDecodeError, TypeError):
        return arguments


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Renders the report for `run_dir` into `out` (default RUN_DIR/report.html) and returns the path."""
    target = Path(out) if out else Path(run_dir) / "report.html"
    target.write_text(render_report(run_dir), encoding="utf-8")
    return target
