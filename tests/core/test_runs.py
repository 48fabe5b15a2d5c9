"""Run directories: append-only records that survive SIGKILL, torn-line repair, resume, config checks."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from sciresearcher.errors import DataError, RunError
from sciresearcher.runs import RecordLog, RunDir

WRITER = textwrap.dedent(
    """
    import random, sys
    from sciresearcher.runs import RecordLog
    path, n = sys.argv[1], int(sys.argv[2])
    log = RecordLog(path)
    done = log.done_ids()
    print("ready", flush=True)
    rng = random.Random()
    for i in range(n):
        rid = f"r{i:06d}"
        if rid in done:
            continue
        # sizes up to 256 KiB so that kills land inside large writes too
        log.append({"id": rid, "status": "ok", "payload": "x" * rng.randint(10, 262_144)})
    """
)


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(tmp_path):
    """25 SIGKILLs at random moments of a writer that cannot finish first, each followed by a resume; then a
    last writer completes a known count. Every line parses and every id is there exactly once, in order."""
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    path = tmp_path / "records.jsonl"
    rng = random.Random(1234)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    torn = 0
    for _ in range(25):
        proc = subprocess.Popen([sys.executable, str(script), str(path), "1000000"], env=env,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"  # the kill lands in the writing, not in start-up
        time.sleep(rng.uniform(0.0, 0.05))
        assert proc.poll() is None, f"writer exited with {proc.returncode}"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        torn += RecordLog(path).repaired_bytes > 0
    print(f"{torn} of 25 kills left a torn last line")
    written = len(RecordLog(path).done_ids())
    n = written + 20
    subprocess.run([sys.executable, str(script), str(path), str(n)], env=env, check=True, capture_output=True)
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""  # file ends with a newline
    ids = [json.loads(line)["id"] for line in lines[:-1]]  # every line parses
    assert ids == [f"r{i:06d}" for i in range(n)]  # every id exactly once, none skipped


def test_torn_last_line_is_cut_and_reported(tmp_path, caplog):
    path = tmp_path / "r.jsonl"
    with RecordLog(path) as log:
        log.append({"id": "a", "v": 1})
        log.append({"id": "b", "v": 2})
    with open(path, "ab") as fh:
        fh.write(b'{"id": "c", "v"')  # a kill mid-write
    with caplog.at_level("WARNING"):
        log = RecordLog(path)
    assert log.repaired_bytes == len(b'{"id": "c", "v"')
    assert "torn last line" in caplog.text
    assert [r["id"] for r in log.read()] == ["a", "b"]
    log.append({"id": "c", "v": 3})
    assert [r["id"] for r in log.read()] == ["a", "b", "c"]
    log.close()


def test_resume_skips_done_and_retries_failed_with_flag(tmp_path):
    with RecordLog(tmp_path / "r.jsonl") as log:
        log.append({"id": "a", "status": "ok"})
        log.append({"id": "b", "status": "error"})
        assert log.done_ids() == {"a", "b"}
        assert log.done_ids(retry_failed=True) == {"a"}
        log.append({"id": "b", "status": "ok"})  # the retry
        assert log.latest()["b"]["status"] == "ok"
        assert log.done_ids(retry_failed=True) == {"a", "b"}


def test_corrupt_middle_line_names_file_and_line(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"id": "a"}\nnot json\n{"id": "b"}\n')
    with RecordLog(path) as log, pytest.raises(DataError, match=r"r\.jsonl:2"):
        list(log.read())
    assert path.read_text().count("\n") == 3  # nothing rewritten


def test_rundir_lock_config_check_and_summary(tmp_path):
    cfg = {"llm": {"model": "m"}, "samples": 2}
    with RunDir(tmp_path / "run", cfg) as run:
        with pytest.raises(RunError, match="in use"):
            RunDir(tmp_path / "run")
        run.write_json("summary.json", {"accuracy": 0.5})
    assert json.loads((tmp_path / "run" / "summary.json").read_text()) == {"accuracy": 0.5}
    with RunDir(tmp_path / "run", cfg):  # same config resumes
        pass
    with pytest.raises(RunError, match="llm.model"):
        RunDir(tmp_path / "run", {"llm": {"model": "other"}, "samples": 2})
