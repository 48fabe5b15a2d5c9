"""`index build/info`, `search` and `read` commands through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from sciresearcher.cli.knowledge import index_app, read_command, search_command

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("search")(search_command)
    app.command("read")(read_command)
    return app


def _corpus(tmp_path: Path, shared_data: Path, n: int = 25) -> Path:
    src = shared_data / "corpus" / "scifact.jsonl"
    lines = src.read_text(encoding="utf-8").splitlines()[:n]
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "scifact_part.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.7 garbage")
    return folder


def test_index_build_search_and_read(tmp_path: Path, shared_data: Path):
    folder = _corpus(tmp_path, shared_data)
    out = tmp_path / "idx"
    result = runner.invoke(index_app, ["build", str(folder), "--out", str(out), "--no-dense"])
    assert result.exit_code == 0, result.output
    assert "index " in result.stdout and "25 documents" in result.stdout and "modes bm25" in result.stdout
    assert "skipped 1 file(s)" in result.stderr and "scan.pdf" in result.stderr
    assert "25 documents" in result.stderr and "documents/s" in result.stderr  # how fast the build was
    info = runner.invoke(index_app, ["info", str(out)])
    assert json.loads(info.stdout)["documents"] == 25

    first = json.loads(folder.joinpath("scifact_part.jsonl").read_text().splitlines()[3])
    found = runner.invoke(_app(), ["search", first["title"], "--index", str(out), "--mode", "bm25", "-k", "3"])
    assert found.exit_code == 0, found.output
    assert found.stdout.startswith(f"[1] {first['id']}")

    read = runner.invoke(_app(), ["read", first["id"], "--goal", "main result", "--index", str(out), "--no-dense"])
    assert read.exit_code == 0, read.output
    assert read.stdout.startswith(f"Document: {first['id']}") and "[S1]" in read.stdout


def test_build_with_a_corrupt_line_names_file_and_line(tmp_path: Path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x:1", "text": "ok"}\n{oops\n')
    result = runner.invoke(index_app, ["build", str(bad), "--out", str(tmp_path / "i"), "--no-dense"])
    assert result.exit_code != 0
    assert "bad.jsonl:2: not valid JSON" in str(result.exception)


def test_search_without_index_explains(tmp_path: Path):
    from sciresearcher.errors import ConfigError

    result = runner.invoke(_app(), ["search", "p53"])
    assert isinstance(result.exception, ConfigError)
    assert "no search source is configured" in str(result.exception) and "--index DIR" in str(result.exception)


def test_bad_mode_or_backend_is_a_config_error():
    from sciresearcher.errors import ConfigError

    result = runner.invoke(_app(), ["search", "p53", "--backend", "google-scholar"])
    assert isinstance(result.exception, ConfigError) and "backends" in str(result.exception)
    result = runner.invoke(_app(), ["search", "p53", "--mode", "magic"])
    assert isinstance(result.exception, ConfigError) and "mode" in str(result.exception)


def test_build_records_how_passages_were_embedded(tmp_path: Path, shared_data: Path):
    from sciresearcher.errors import ConfigError

    folder = _corpus(tmp_path, shared_data, n=6)
    out = tmp_path / "idx"
    result = runner.invoke(index_app, ["build", str(folder), "--out", str(out), "--precision", "fp32",
                                       "--max-tokens", "0", "--no-embedding-cache"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "manifest.json").read_text())["params"]["embedding"] == {"precision": "fp32",
                                                                                      "max_tokens": None}
    bad = runner.invoke(index_app, ["build", str(folder), "--out", str(out), "--precision", "bf16"])
    assert isinstance(bad.exception, ConfigError) and "--precision must be int8 or fp32" in str(bad.exception)
    assert json.loads((out / "manifest.json").read_text())["params"]["embedding"]["precision"] == "fp32"  # kept
