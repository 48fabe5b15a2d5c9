"""Run directories and their append-only JSONL record logs (docs/architecture.md, "Run directories").

A run directory holds the resolved config (`config.yaml`, re-runnable as input), one or more record logs
(`*.jsonl`, one JSON object per line keyed by an id field), a log file (`run.log`) and `summary.json`.

`RecordLog` guarantees: each record is one line written with a single `write` to a file opened in append
mode, then flushed and fsynced, so a finished record survives a kill; when a writer opens a log, a torn last
line left by a kill mid-write is detected, reported and cut off (the only bytes ever removed); earlier lines
are never rewritten. Only the writer repairs, and only under the run's lock: `RunDir.records` holds it, and
a `RecordLog` opened on a log whose run directory is locked by another process refuses to open. Readers
(`RecordLog.reader`, `iter_jsonl`: what `report`, `score` and the filters use) never open a log for writing:
they take complete lines only, so a live writer's line in progress is simply not there yet. Resume = skip
ids already recorded; `retry_failed` also redoes ids whose latest record has a failed status (the retry is
appended; readers take the last record of each id).

`RunDir` adds the directory layout, an exclusive lock (two processes never write one run), and a check
that a resumed run uses the same config. It does not know what the records mean.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Self

import yaml
from pydantic import BaseModel

from sciresearcher.errors import DataError, RunError

log = logging.getLogger(__name__)

FAILED_STATUSES = frozenset({"error", "failed"})


def iter_jsonl(path: Path, *, hint: str | None = None, complete_lines_only: bool = False,
               ) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) for each non-blank line of a JSONL file; a line that is not JSON raises
    DataError naming the file and line. `complete_lines_only` stops before a last line with no newline
    (a writer may be mid-line)."""
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if complete_lines_only and not line.endswith("\n"):
                return
            try:
                yield lineno, json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{lineno}: not valid JSON ({exc.msg})", hint=hint) from exc
            except RecursionError:
                raise DataError(f"{path}:{lineno}: JSON nested too deeply to read", hint=hint) from None


def _to_dict(record: BaseModel | dict[str, Any]) -> dict[str, Any]:
    return record.model_dump(mode="json") if isinstance(record, BaseModel) else record


def replace_atomically(path: str | Path, write: Callable[[Path], object]) -> Path:
    """`write(tmp)` fills a temporary file beside `path`, which then replaces `path` in one rename: readers see
    the old file or the new one, never half of one."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)
    return path


def write_jsonl_atomic(path: str | Path, records: Iterable[BaseModel | dict[str, Any]]) -> Path:
    """Writes a whole derived JSONL file (an export, a filter's output), fsynced, with `replace_atomically`.
    Record logs of a run use `RecordLog` instead."""
    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(_to_dict(r), ensure_ascii=False) + "\n" for r in records)
            fh.flush()
            os.fsync(fh.fileno())

    return replace_atomically(path, write)


class RecordLog:
    """An append-only JSONL file of records keyed by `key`; safe against kills at any moment.

    `RecordLog(path)` opens it for writing (repairing a torn tail); `RecordLog.reader(path)` for reading."""

    def __init__(self, path: str | Path, key: str = "id", *, _run_locked: bool = False) -> None:
        self.path = Path(path)
        self.key = key
        self._lock = threading.Lock()
        self._fd = -1
        self._run_lock: IO[str] | None = None
        self.repaired_bytes = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not _run_locked and (self.path.parent / ".lock").exists():
            self._run_lock = _lock_run(self.path.parent, hint="read it with RecordLog.reader(path)")
        self.repaired_bytes = self._repair_torn_tail()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    @classmethod
    def reader(cls, path: str | Path, key: str = "id") -> RecordLog:
        """A read-only view: creates, locks and repairs nothing; `read` yields complete lines only."""
        log = cls.__new__(cls)
        log.path, log.key, log._lock, log._fd, log._run_lock, log.repaired_bytes = (
            Path(path), key, threading.Lock(), -1, None, 0)
        return log

    def _repair_torn_tail(self) -> int:
        """Cuts an unterminated last line (a write interrupted by a kill); returns bytes removed."""
        if not self.path.exists():
            return 0
        size = self.path.stat().st_size
        if size == 0:
            return 0
        with open(self.path, "rb+") as fh:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) == b"\n":
                return 0
            # walk back to the last newline
            pos, chunk = size, 65536
            keep = 0
            while pos > 0:
                start = max(0, pos - chunk)
                fh.seek(start)
                data = fh.read(pos - start)
                idx = data.rfind(b"\n")
                if idx >= 0:
                    keep = start + idx + 1
                    break
                pos = start
            removed = size - keep
            fh.truncate(keep)
            fh.flush()
            os.fsync(fh.fileno())
        log.warning("%s: removed a torn last line (%d bytes) left by an interrupted write", self.path, removed)
        return removed

    def append(self, record: BaseModel | dict[str, Any]) -> None:
        """Writes one record as one line, then fsyncs. Thread-safe."""
        data = _to_dict(record)
        if self.key not in data:
            raise RunError(f"record has no '{self.key}' field; cannot append it to {self.path}")
        line = (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        if self._fd < 0:
            raise RunError(f"{self.path} is open read-only (or closed); cannot append to it")
        with self._lock:
            written = 0
            while written < len(line):  # os.write may write less than asked for very large records
                written += os.write(self._fd, line[written:])
            os.fsync(self._fd)

    def read(self) -> Iterator[dict[str, Any]]:
        """Every record in file order; a corrupt line raises DataError naming file and line."""
        if not self.path.exists():
            return
        hint = "this line was not written by SciResearcher; move it out of the file to resume"
        for _, record in iter_jsonl(self.path, hint=hint, complete_lines_only=True):
            yield record

    def latest(self) -> dict[str, dict[str, Any]]:
        """The last record of each id (a retried id's newest attempt)."""
        return {str(rec[self.key]): rec for rec in self.read() if self.key in rec}

    def done_ids(self, *, retry_failed: bool = False, status_field: str = "status") -> set[str]:
        """Ids to skip on resume: all recorded ids, or only non-failed ones with `retry_failed`."""
        latest = self.latest()
        if not retry_failed:
            return set(latest)
        return {k for k, rec in latest.items() if rec.get(status_field) not in FAILED_STATUSES}

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._run_lock is not None:
            self._run_lock.close()
            self._run_lock = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _lock_run(path: Path, *, hint: str) -> IO[str]:
    """The run directory's lock, held (exclusively) by the returned file; RunError when another holds it."""
    fh = open(path / ".lock", "w")  # noqa: SIM115 - held by the caller
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        fh.close()
        raise RunError(f"{path} is in use by another process", hint=hint) from exc
    return fh


class RunDir:
    """A run directory: resolved config, record logs, run.log and summary.json, under an exclusive lock."""

    def __init__(self, path: str | Path, config: BaseModel | dict[str, Any] | None = None, *,
                 check_config: bool = True) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock_fh = _lock_run(self.path, hint="wait for it to finish or choose another --out")
        self._handler: logging.Handler | None = None
        self._old_level = logging.NOTSET
        self._started = 0.0
        if config is not None:
            self._write_config(_to_dict(config), check_config)

    @property
    def config_path(self) -> Path:
        return self.path / "config.yaml"

    def _write_config(self, config: dict[str, Any], check: bool) -> None:
        if self.config_path.exists() and check:
            old = yaml.safe_load(self.config_path.read_text()) or {}
            if old != config:
                diff = sorted(_diff_keys(old, config))
                raise RunError(
                    f"{self.path} was started with another config (differs at: {', '.join(diff[:8])})",
                    hint="resume with the same config (pass --config "
                    f"{self.config_path}), or write to a new --out directory",
                )
            return
        text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
        replace_atomically(self.config_path, lambda tmp: tmp.write_text(text))

    def records(self, name: str, key: str = "id") -> RecordLog:
        """The record log `name`.jsonl, opened for writing under this run's lock."""
        return RecordLog(self.path / f"{name}.jsonl", key=key, _run_locked=True)

    def attach_log(self, level: int = logging.INFO) -> None:
        """Sends the package's logs at `level` and above to run.log in this directory, whatever the console shows,
        and records the start there (directory, config, command line); `close` records the end."""
        if self._handler is not None:
            return
        handler = logging.FileHandler(self.path / "run.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.setLevel(level)
        package = logging.getLogger("sciresearcher")
        package.addHandler(handler)
        self._handler = handler
        self._old_level = package.level
        if package.getEffectiveLevel() > level:  # the console may show warnings only; the file still gets `level`
            package.setLevel(level)
        self._started = time.monotonic()
        config = self.config_path if self.config_path.exists() else "none"
        program = "sciresearcher" if sys.argv[0].endswith(("__main__.py", "sciresearcher")) else sys.argv[0]
        log.info("run started in %s (pid %d; resolved config %s): %s", self.path, os.getpid(), config,
                 " ".join([program, *sys.argv[1:]]))

    def write_json(self, name: str, data: dict[str, Any]) -> Path:
        """Atomically writes `name` (e.g. summary.json); run.log records its top-level counts."""
        text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
        path = replace_atomically(self.path / name, lambda tmp: tmp.write_text(text))
        counts = {k: v for k, v in data.items() if isinstance(v, (int, float, str, bool)) and len(str(v)) <= 40}
        log.info("wrote %s%s", name, ": " + ", ".join(f"{k}={v}" for k, v in list(counts.items())[:24]) if counts else "")
        return path

    def close(self, error: BaseException | None = None) -> None:
        if self._handler is not None:
            elapsed = time.monotonic() - self._started
            if error is None:
                log.info("run ended after %.1fs", elapsed)
            else:
                log.info("run stopped after %.1fs by %s: %s", elapsed, type(error).__name__,
                            str(error).splitlines()[0] if str(error) else "")
            package = logging.getLogger("sciresearcher")
            package.removeHandler(self._handler)
            package.setLevel(self._old_level)
            self._handler.close()
            self._handler = None
        if not self._lock_fh.closed:
            fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            self._lock_fh.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self.close(exc)


def _diff_keys(a: Any, b: Any, prefix: str = "") -> set[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: set[str] = set()
        for k in set(a) | set(b):
            out |= _diff_keys(a.get(k), b.get(k), f"{prefix}{k}.")
        return out
    return set() if a == b else {prefix.rstrip(".") or "<root>"}
