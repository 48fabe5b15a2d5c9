"""The on-disk state of a batch client: which batches were submitted, with which requests, and their results.

Layout of `batch_dir`:
- `batches.jsonl`: an append-only record log (runs.RecordLog, kill-safe) keyed by `batch_id`: one
  `submitted` record (provider, model, the `custom_id` of each request) written as soon as the provider
  accepted the batch, then one `collected` record once its results are saved;
- `results/<batch_id>.jsonl`: the outcome of each request of a collected batch (the provider's reply body,
  or the error), written atomically BEFORE the `collected` record.

A custom_id is a hash of the request (see `batch.py`), so a restarted run that makes the same call finds
it: in a collected batch (its reply is returned, nothing is sent) or in a submitted one (polling resumes,
nothing is submitted again). Failed outcomes are not reused by a later run: they are resubmitted.

One client per directory at a time (commands give each client its own subdirectory of the run directory).
Not here: the provider APIs (`batch_providers.py`), queueing and polling (`batch.py`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sciresearcher.runs import RecordLog, iter_jsonl, write_jsonl_atomic


class BatchStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()
        (self.root / "results").mkdir(parents=True, exist_ok=True)
        self.log_path = self.root / "batches.jsonl"
        self.batches: dict[str, dict[str, Any]] = {}  # batch_id -> latest record
        self._owner: dict[str, str] = {}  # custom_id -> batch_id of its latest submission
        self._done: dict[str, dict[str, Any]] = {}  # custom_id -> successful outcome
        self._load()

    def _load(self) -> None:
        if self.log_path.exists():
            with RecordLog(self.log_path, key="batch_id") as records:
                latest = records.latest()
            for batch_id, record in latest.items():
                self._index(record)
                if record["status"] == "submitted" and self._results_path(batch_id).is_file():
                    record = {**record, "status": "collected"}  # killed between saving results and recording it
                    self.batches[batch_id] = record
                if record["status"] == "collected":
                    self._load_results(batch_id)

    def _index(self, record: dict[str, Any]) -> None:
        self.batches[record["batch_id"]] = record
        for custom_id in record.get("custom_ids") or []:
            self._owner[custom_id] = record["batch_id"]

    def _results_path(self, batch_id: str) -> Path:
        return self.root / "results" / f"{batch_id}.jsonl"

    def _load_results(self, batch_id: str) -> None:
        path = self._results_path(batch_id)
        if path.is_file():
            for _, outcome in iter_jsonl(path):
                if outcome.get("ok"):
                    self._done[outcome["custom_id"]] = outcome

    def _append(self, record: dict[str, Any]) -> None:
        with RecordLog(self.log_path, key="batch_id") as records:
            records.append(record)
        self._index(record)

    # ------------------------------------------------------------------ queries
    def outcome(self, custom_id: str) -> dict[str, Any] | None:
        """The successful outcome of a request in a collected batch, if any."""
        return self._done.get(custom_id)

    def pending_batch(self, custom_id: str) -> str | None:
        """The id of a submitted, not yet collected batch holding this request, if any."""
        batch_id = self._owner.get(custom_id)
        if batch_id is not None and self.batches[batch_id]["status"] == "submitted":
            return batch_id
        return None

    def custom_ids(self, batch_id: str) -> list[str]:
        return list(self.batches[batch_id].get("custom_ids") or [])

    # ------------------------------------------------------------------ updates
    def submitted(self, batch_id: str, provider: str, model: str, custom_ids: list[str],
                  extra: dict[str, Any] | None = None) -> None:
        self._append({"batch_id": batch_id, "status": "submitted", "provider": provider, "model": model,
                      "custom_ids": custom_ids, "submitted_at": time.time(), **(extra or {})})

    def collected(self, batch_id: str, outcomes: list[dict[str, Any]], provider_status: str) -> None:
        """Saves the outcomes (results file first, then the record), and indexes the successful ones."""
        write_jsonl_atomic(self._results_path(batch_id), outcomes)
        record = {**self.batches[batch_id], "status": "collected", "provider_status": provider_status,
                  "collected_at": time.time(), "succeeded": sum(1 for o in outcomes if o.get("ok")),
                  "failed": sum(1 for o in outcomes if not o.get("ok"))}
        self._append(record)
        for outcome in outcomes:
            if outcome.get("ok"):
                self._done[outcome["custom_id"]] = outcome
