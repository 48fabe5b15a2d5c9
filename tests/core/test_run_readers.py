"""Readers never change a run directory (issue 12, point 10): opening a run's JSONL for reading (the
`report` command, `RecordLog.reader`) takes complete lines only and writes nothing; a torn last line is
repaired only by a writer that holds the run's lock when it resumes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from sciresearcher.errors import RunError
from sciresearcher.runs import RecordLog, RunDir

WRITER = textwrap.dedent(
    """
    import sys, time
    from sciresearcher.records import Policy, Trajectory
    from sciresearcher.runs import RunDir
    run_dir, n = sys.argv[1], int(sys.argv[2])
    with RunDir(run_dir, {"kind": "race"}) as run, run.records("trajectories") as log:
        print("ready", flush=True)
        for i in range(n):
            traj = Trajectory(id=f"t{i:03d}#0", task_id=f"t{i:03d}", policy=Policy(backend="x", model="m"),
                              metadata={"pad": "x" * 400_000})  # large lines: readers see them half-written
            log.append(traj)
            time.sleep(0.005)
    """
)


def test_a_reader_racing_a_live_writer_loses_nothing(tmp_path):
    from sciresearcher.eval import report

    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    run_dir = tmp_path / "run"
    n = 60
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen([sys.executable, str(script), str(run_dir), str(n)], env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        reads = 0
        while proc.poll() is None:
            report.load_run(run_dir)  # how `sciresearcher report RUN_DIR` reads a run
            reads += 1
        report.render_report(run_dir)
        assert proc.wait() == 0
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    lines = (run_dir / "trajectories.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b""
    ids = [json.loads(line)["id"] for line in lines[:-1]]
    assert ids == [f"t{i:03d}#0" for i in range(n)], f"{len(ids)} of {n} records after {reads} reads"


def test_readers_do_not_repair_a_torn_tail_writers_under_the_lock_do(tmp_path):
    run_dir = tmp_path / "run"
    with RunDir(run_dir) as run, run.records("r") as log:
        log.append({"id": "a"})
    path = run_dir / "r.jsonl"
    with open(path, "ab") as fh:
        fh.write(b'{"id": "b", "v"')  # a write in progress (or killed mid-write)
    before = path.read_bytes()
    reader = RecordLog.reader(path)
    assert [r["id"] for r in reader.read()] == ["a"]
    assert reader.repaired_bytes == 0 and path.read_bytes() == before
    with pytest.raises(RunError, match="read-only"):
        reader.append({"id": "c"})
    assert not (tmp_path / "missing").exists()
    assert list(RecordLog.reader(tmp_path / "missing" / "r.jsonl").read()) == []
    assert not (tmp_path / "missing").exists()  # a reader creates nothing
    with RunDir(run_dir) as run, run.records("r") as log:  # the writer that resumes, under the run lock
        assert log.repaired_bytes == len(b'{"id": "b", "v"')
        log.append({"id": "b"})
    assert [json.loads(x)["id"] for x in path.read_text().splitlines()] == ["a", "b"]


def test_a_writer_opened_beside_a_live_run_does_not_repair(tmp_path):
    """Another process's RecordLog on a log whose run is locked (a live writer) must not cut its tail."""
    run_dir = tmp_path / "run"
    script = tmp_path / "hold.py"
    script.write_text(textwrap.dedent("""
        import sys, time
        from sciresearcher.runs import RunDir
        with RunDir(sys.argv[1]) as run:
            print("locked", flush=True)
            time.sleep(30)
    """))
    with RunDir(run_dir) as run, run.records("r") as log:
        log.append({"id": "a"})
    path = run_dir / "r.jsonl"
    with open(path, "ab") as fh:
        fh.write(b'{"id": "b"')
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    holder = subprocess.Popen([sys.executable, str(script), str(run_dir)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunError, match="in use"):
            RecordLog(path)
        assert path.read_bytes().endswith(b'{"id": "b"')
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    time.sleep(0.1)
    assert RecordLog(path).repaired_bytes > 0  # the lock is free: a writer may repair now
