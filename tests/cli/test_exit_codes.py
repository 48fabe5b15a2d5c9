"""Exit codes through the real entry point (`sciresearcher.cli.app.main`): a command that did not do its job exits
non-zero with one message saying why and what to do (2: the input or setup is wrong; 1: the work ran and failed)."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from unittest import mock

import pytest

from sciresearcher.records import Document, Task


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from sciresearcher.cli.app import main

    capsys.readouterr()
    with mock.patch.object(sys, "argv", ["sciresearcher", *args]):
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out = capsys.readouterr()
    return code, out.out, out.err


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed once this returns: connections are refused at once


@pytest.fixture
def small_index(tmp_path: Path) -> Path:
    from sciresearcher.knowledge.index_build import build_index

    docs = [Document(id=f"d{i}", title=f"Kinase {i}", text=f"Kinase {i} phosphorylates substrate {i} in yeast.")
            for i in range(3)]
    return build_index(docs, tmp_path / "index", dense=False).path


def test_search_without_any_source_fails(capsys):
    code, out, err = cli(capsys, "search", "foo")
    assert code == 2 and out == ""
    assert "no search source is configured" in err and "--index DIR" in err and "--backend europepmc" in err


def test_read_unknown_id_fails(capsys, small_index):
    code, out, err = cli(capsys, "read", "nosuch:123", "--goal", "anything", "--index", str(small_index))
    assert code == 2 and out == ""
    assert "nosuch:123" in err and "not in the local index" in err


def test_search_with_every_source_failing_fails(capsys, monkeypatch, tmp_path):
    from sciresearcher.knowledge.sources import biomed

    monkeypatch.setattr(biomed, "EPMC", f"http://127.0.0.1:{closed_port()}/rest")
    code, out, err = cli(capsys, "search", "foo", "--backend", "europepmc", "--max_retries", "0",
                         "--cache_dir", str(tmp_path / "cache"))
    assert code == 2 and out == ""
    assert "every source failed: europepmc" in err
    assert err.count("europepmc: failed") == 1  # said once, not also as a logged warning


def test_search_with_some_sources_failing_answers_and_names_them(capsys, monkeypatch, small_index, tmp_path):
    from sciresearcher.knowledge.sources import biomed

    monkeypatch.setattr(biomed, "EPMC", f"http://127.0.0.1:{closed_port()}/rest")
    code, out, err = cli(capsys, "search", "kinase", "--index", str(small_index), "--mode", "bm25",
                         "--backend", "europepmc", "--max_retries", "0", "--cache_dir", str(tmp_path / "cache"))
    assert code == 0 and "Kinase" in out and "failed" not in out
    assert "some sources failed: europepmc" in err


@pytest.mark.parametrize("command", [["data", "filter"], ["data", "clean"], ["data", "export"]])
def test_data_commands_on_an_empty_file_fail(capsys, tmp_path, command):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    code, _, err = cli(capsys, *command, str(empty), "--out", str(tmp_path / "out"))
    assert code == 2 and "empty" in err, err
    assert not (tmp_path / "out" / "summary.json").exists()


def test_rollout_where_every_trajectory_failed_exits_1(capsys, tmp_path):
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(Task(id="t1", question="What is 2 plus 3?", answer="5").model_dump_json() + "\n")
    out = tmp_path / "rollout"
    code, stdout, err = cli(capsys, "data", "rollout", str(tasks), "--backend", "openai", "--model", "m",
                            "--llm.base_url", f"http://127.0.0.1:{closed_port()}/v1", "--llm.max_retries", "0",
                            "--tools.enabled", "[]", "--out", str(out), "-q")
    assert code == 1
    assert json.loads(stdout)["status"] == {"error": 1}  # the summary is still printed and written
    assert "all 1 trajectories failed" in err and "trajectories.jsonl" in err
    assert (out / "summary.json").is_file() and (out / "run.log").stat().st_size > 0
