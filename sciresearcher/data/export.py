"""Exports: kept trajectories to SFT datasets, tasks to RL datasets (TRL and verl), with a stable train/val split.

- `trl-sft`: JSONL rows `{"messages", "tools"}` (`train.rows.trajectory_to_sft_row`: tool-call arguments and the
  tool list as JSON strings) that `sciresearcher train sft` and TRL's `SFTTrainer` read;
- `verl-sft`: the same rows as parquet (`messages`, `tools` as a JSON string) for verl's multi-turn SFT dataset;
- `trl-grpo`: Task JSONL, what `sciresearcher train grpo` reads (the prompt is rendered at train time);
- `verl-rl`: parquet with verl's fields: `data_source`, `prompt` (system + user messages, rendered as the agent
  renders them), `ability`, `reward_model` {`style`: "rule", `ground_truth`}, `extra_info` {`split`, `index`,
  `task_id`, `task` (the Task as JSON, for `data/verl_reward.py`'s `compute_score`), `tools_kwargs`}, and
  `agent_name` (`tool_agent`: verl's multi-turn tool loop; the tools are `integrations/verl/tools.py`).

The split is by task: `val_fraction` x tasks, rounded to the nearest whole task (at least 1 when the fraction
is > 0, never all of them), taken by a salted hash of the task id, so every trajectory of a task lands in the
same split and a re-export of the same tasks gives the same split. Files are written whole to a temporary name and renamed, so a kill never leaves half a
dataset. It does not upload anywhere (push the parquet with `datasets` if you want it on the Hub).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sciresearcher.data.config import ExportConfig
from sciresearcher.errors import DataError
from sciresearcher.records import Task, Trajectory
from sciresearcher.runs import iter_jsonl, replace_atomically, write_jsonl_atomic

log = logging.getLogger(__name__)


def _rank(task_id: str, seed: int) -> int:
    return int.from_bytes(hashlib.blake2b(f"{seed}:{task_id}".encode(), digest_size=8).digest(), "big")


def val_count(n_tasks: int, val_fraction: float) -> int:
    """How many tasks are held out: `val_fraction` x tasks rounded to the nearest whole task, at least 1 when
    `val_fraction` > 0, and never every task (one is always left to train on)."""
    if val_fraction <= 0 or n_tasks < 2:
        return 0
    return min(max(1, math.floor(val_fraction * n_tasks + 0.5)), n_tasks - 1)


def val_tasks(task_ids: Iterable[str], val_fraction: float, seed: int = 0) -> set[str]:
    """The validation tasks: the `val_count` distinct ids with the lowest salted hash (the same set of ids gives
    the same split on every run and machine)."""
    ids = sorted(set(task_ids), key=lambda i: (_rank(i, seed), i))
    return set(ids[:val_count(len(ids), val_fraction)])


def _write_parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - pyarrow comes with datasets (the train extra)
        raise DataError("parquet export needs pyarrow", hint="pip install 'sciresearcher[train]'") from exc
    return replace_atomically(path, lambda tmp: pq.write_table(pa.Table.from_pylist(rows), tmp))


def _by_split(items: list[tuple[str, dict[str, Any]]], config: ExportConfig) -> dict[str, list[dict[str, Any]]]:
    val = val_tasks((task_id for task_id, _ in items), config.val_fraction, config.seed)
    out: dict[str, list[dict[str, Any]]] = {"train": [], "val": []}
    for task_id, row in items:
        out["val" if task_id in val else "train"].append(row)
    return {name: rows for name, rows in out.items() if rows}


def _layout(row: dict[str, Any], turns: str, tokenizer: Any | None) -> list[tuple[dict[str, Any], bool]]:
    """The row as trained: whole (`sequence`), one prompt-completion row per assistant turn (`each`), or whole
    only where it is token-exact under the tokenizer's templates (`auto`; without a tokenizer, `each`). Each
    comes with whether that token check already passed on it (so the length check need not run it again)."""
    from sciresearcher.train.token_check import check_row, turn_rows

    if turns == "sequence":
        return [(row, False)]
    if turns == "auto" and tokenizer is not None and check_row(tokenizer, row) is None:
        return [(row, True)]
    return [(r, False) for r in turn_rows(row)]


def sft_rows(trajectories: list[Trajectory], config: ExportConfig,
             dropped: list[dict[str, Any]] | None = None) -> dict[str, list[dict[str, Any]]]:
    """SFT rows by split, laid out per `config.turns`. With `config.tokenizer` (the target model), every row must
    render, mask, match what the policy saw token for token (TrainingError names the trajectory and the first bad
    token) and fit `max_length` (default: the model's context): a longer row stops the export naming its
    trajectory, or with `overlong: drop` is left out and named in `dropped`."""
    from sciresearcher.train.rows import trajectory_to_sft_row

    if not trajectories:
        raise DataError("no trajectories to export", hint="run `sciresearcher data filter` first and check "
                        "its summary.json: every trajectory may have been rejected")
    tokenizer, limit, model = None, None, None
    if config.tokenizer:
        from sciresearcher.train.sft import check_model_dir, load_tokenizer, model_context

        model = check_model_dir(str(config.tokenizer))
        tokenizer = load_tokenizer(model)
        limit = config.max_length or model_context(model)
    laid = [(t, row, checked) for t in trajectories
            for row, checked in _layout(trajectory_to_sft_row(t), config.turns, tokenizer)]
    if tokenizer is not None:
        pairs = _fitting(laid, config, tokenizer, limit, model, dropped if dropped is not None else [])
    else:
        pairs = [(t, row) for t, row, _ in laid]
    return _by_split([(t.task_id, row) for t, row in pairs], config)


def _fitting(laid: list[tuple[Trajectory, dict[str, Any], bool]], config: ExportConfig, tokenizer: Any,
             limit: int | None, model: str | None,
             dropped: list[dict[str, Any]]) -> list[tuple[Trajectory, dict[str, Any]]]:
    """The rows that train cleanly on the target model; raises for the first that cannot (see sft_rows). A row
    the layout already found token-exact is not token-checked a second time."""
    from sciresearcher.errors import TrainingError
    from sciresearcher.train.rows import validate_sft_rows

    kept = []
    for traj, row, checked in laid:
        try:
            list(validate_sft_rows([row], tokenizer, limit, check_tokens=config.check_tokens and not checked))
        except TrainingError as exc:
            if "over max_length" not in str(exc):
                what = str(exc).removesuffix(f"\n  hint: {exc.hint}") if exc.hint else str(exc)
                raise TrainingError(f"trajectory {traj.id}: {what.removeprefix('row 0: ')}", hint=exc.hint) from exc
            if config.overlong == "error":
                raise TrainingError(f"trajectory {traj.id} does not fit the target model: "
                                    f"{str(exc).splitlines()[0].removeprefix('row 0 is ')} (model {model})",
                                    hint="set overlong: drop to leave such rows out, or export for a model with "
                                    "a longer context") from exc
            if not any(d["id"] == traj.id for d in dropped):
                dropped.append({"id": traj.id, "task_id": traj.task_id, "reason": str(exc).splitlines()[0]})
            continue
        kept.append((traj, row))
    return kept


def verl_rl_rows(tasks: list[Task], config: ExportConfig) -> dict[str, list[dict[str, Any]]]:
    """verl RL rows by split: the agent's prompt, the gold answer, and the Task for the reward function."""
    from sciresearcher.agent.prompts import SYSTEM_PROMPT, render_question

    system = SYSTEM_PROMPT if config.system_prompt is None else config.system_prompt
    items = []
    val = val_tasks((t.id for t in tasks), config.val_fraction, config.seed)
    for index, task in enumerate(tasks):
        split = "val" if task.id in val else "train"
        pipeline = task.provenance.pipeline if task.provenance else "tasks"
        prompt = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": render_question(task)}]
        items.append((task.id, {
            "data_source": f"sciresearcher/{pipeline}",
            "agent_name": "tool_agent",
            "prompt": prompt,
            "ability": task.category or "science",
            "reward_model": {"style": "rule", "ground_truth": task.answer},
            "extra_info": {"split": split, "index": index, "task_id": task.id, "task": task.model_dump_json(),
                           # verl passes tools_kwargs[name]["create_kwargs"] to each tool's create(); ours need
                           # nothing per task, but naming the task keeps tool logs traceable (and Arrow cannot
                           # store an empty struct)
                           "tools_kwargs": {name: {"create_kwargs": {"task_id": task.id}}
                                            for name in ("search", "read", "python")}},
        }))
    return _by_split(items, config)


def source_kind(source: Path) -> tuple[str, Path]:
    """('trajectories' | 'tasks', file) for a `data filter` / rollout run directory, or a JSONL of either."""
    if source.is_dir():
        for name, kind in (("kept.jsonl", "trajectories"), ("trajectories.jsonl", "trajectories"),
                           ("tasks.jsonl", "tasks")):
            if (source / name).is_file():
                return kind, source / name
        raise DataError(f"{source} holds no kept.jsonl, trajectories.jsonl or tasks.jsonl",
                        hint="pass a `data filter`, `data rollout` or `data clean` run directory, or a JSONL file")
    if not source.is_file():
        raise DataError(f"{source} does not exist", hint="pass a run directory or a JSONL file")
    for lineno, row in iter_jsonl(source):  # the first record decides
        if isinstance(row, dict) and "task_id" in row and "messages" in row:
            return "trajectories", source
        if isinstance(row, dict) and "question" in row and "answer" in row:
            return "tasks", source
        raise DataError(f"{source}:{lineno}: neither a Trajectory nor a Task record",
                        hint="trajectories have task_id and messages; tasks have id, question and answer")
    raise DataError(f"{source} is empty")


def unfit_counts(trajectories: list[Trajectory]) -> dict[str, int]:
    """How many trajectories are wrong, ungraded, truncated (limits, time) or failed: what rejection sampling drops."""
    counts = {"wrong": 0, "ungraded": 0, "truncated": 0, "failed": 0}
    for traj in trajectories:
        if traj.status in ("truncated", "timeout"):
            counts["truncated"] += 1
        elif traj.status != "ok":
            counts["failed"] += 1
        if traj.grade is None:
            counts["ungraded"] += 1
        elif not traj.grade.correct:
            counts["wrong"] += 1
    return {k: v for k, v in counts.items() if v}


def export_trajectories(trajectories: list[Trajectory], config: ExportConfig, out: Path) -> dict[str, Any]:
    """Writes the SFT formats; returns {split: {"path", "rows"}} and, when rows were too long for the target
    model and `overlong: drop`, {"dropped_overlong": [{"id", "task_id", "reason"}]}. Trajectories that rejection
    sampling would drop (wrong, ungraded, truncated, failed) are refused unless `config.allow_unfiltered`, then counted in a warning."""
    unfit = unfit_counts(trajectories)
    if unfit:
        n_unfit = sum(1 for t in trajectories if t.status != "ok" or t.grade is None or not t.grade.correct)
        what = (f"{n_unfit} of {len(trajectories)} trajectories are not fit to train on ("
                + ", ".join(f"{v} {k}" for k, v in unfit.items()) + ")")
        if not config.allow_unfiltered:
            raise DataError(what, hint="run `sciresearcher data filter SRC --out DIR` and export DIR (its kept.jsonl), "
                            "or pass --allow-unfiltered to export them as they are")
        log.warning("%s; exporting them anyway (allow_unfiltered)", what)
    out.mkdir(parents=True, exist_ok=True)
    dropped: list[dict[str, Any]] = []
    splits = sft_rows(trajectories, config, dropped)
    written = {}
    for split, rows in splits.items():
        if config.format == "trl-sft":
            path = write_jsonl_atomic(out / f"{split}.jsonl", rows)
        elif config.format == "verl-sft":
            path = _write_parquet(out / f"{split}.parquet", rows)
        else:
            raise DataError(f"format {config.format} exports tasks, not trajectories",
                            hint="pass a Task JSONL, or use --format trl-sft / verl-sft for trajectories")
        written[split] = {"path": str(path), "rows": len(rows)}
    if dropped:
        written["dropped_overlong"] = dropped
    return written


def export_tasks(tasks: list[Task], config: ExportConfig, out: Path) -> dict[str, Any]:
    """Writes the RL formats; returns {split: {"path", "rows"}}."""
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    if config.format == "trl-grpo":
        splits = _by_split([(t.id, json.loads(t.model_dump_json())) for t in tasks], config)
        for split, rows in splits.items():
            written[split] = {"path": str(write_jsonl_atomic(out / f"{split}.jsonl", rows)), "rows": len(rows)}
    elif config.format == "verl-rl":
        for split, rows in verl_rl_rows(tasks, config).items():
            written[split] = {"path": str(_write_parquet(out / f"{split}.parquet", rows)), "rows": len(rows)}
    else:
        raise DataError(f"format {config.format} exports trajectories, not tasks",
                        hint="pass kept trajectories (a `data filter` run directory), or use --format "
                        "trl-grpo / verl-rl for tasks")
    return written
