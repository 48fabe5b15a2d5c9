"""The agent's `python` tool and the `sciresearcher sandbox` commands."""

from __future__ import annotations

import asyncio
import json

from typer.testing import CliRunner

from sciresearcher.agent.python_tool import make_python_tool
from sciresearcher.agent.tools import tool_schema
from sciresearcher.cli.sandbox import sandbox_app as app
from sciresearcher.errors import ToolError
from sciresearcher.sandbox import SandboxConfig, SandboxSession
from sciresearcher.sandbox.session import resolve_mode

runner = CliRunner()


def test_python_tool_schema_and_text(session):
    tool = make_python_tool(session)
    schema = tool_schema(tool)
    assert schema["function"]["name"] == "python"
    assert schema["function"]["parameters"]["required"] == ["code"]

    async def text(code: str) -> str:  # a failed call raises ToolError with the text the model sees
        try:
            return await tool(code)
        except ToolError as exc:
            return "FAILED " + str(exc)

    async def main():
        return [await text("a = 6\nprint('hello')\na * 7"), await text("a / 0"),
                await text("import os\nos._exit(1)"), await text("a")]

    ok, err, crash, after = asyncio.run(main())
    assert err.startswith("FAILED") and crash.startswith("FAILED") and after.startswith("FAILED")
    assert ok == "hello\n42"
    assert "ZeroDivisionError" in err and "<cell-2>" in err
    assert "state is lost" in crash
    assert "restarted" in after and "NameError" in after


def test_python_tool_reports_an_unusable_sandbox_as_text(config):
    sb = SandboxSession(config)
    sb.close()
    try:
        asyncio.run(make_python_tool(sb)("1"))
    except ToolError as exc:
        assert str(exc).startswith("Error: the Python sandbox is unavailable")
    else:
        raise AssertionError("an unusable sandbox must be a failed tool call")


def test_cli_exec_code_prints_json(sandbox_mode):
    res = runner.invoke(app, ["exec", "-c", "print('hi')\n1 + 2", "--mode", sandbox_mode])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["ok"] and data["stdout"] == "hi\n" and data["value"] == "3"
    assert data["mode"] == sandbox_mode and data["error"] is None and data["elapsed_s"] > 0


def test_cli_exec_file_with_error_exits_1(tmp_path, sandbox_mode):
    f = tmp_path / "bad.py"
    f.write_text("raise ValueError('nope')\n")
    res = runner.invoke(app, ["exec", "--file", str(f), "--mode", sandbox_mode, "--timeout", "5"])
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert not data["ok"] and data["error"] == "ValueError: nope"


def test_cli_exec_needs_exactly_one_source():
    res = runner.invoke(app, ["exec"])
    assert res.exit_code != 0 and "exactly one" in str(res.exception)


def test_cli_probe_names_the_auto_mode():
    res = runner.invoke(app, ["probe"])
    assert res.exit_code == 0
    assert f"auto -> {resolve_mode(SandboxConfig())}" in res.stdout
