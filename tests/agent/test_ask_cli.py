"""`sciresearcher ask` end to end: openai backend against the test server, local backend on the tiny model,
and the one-message errors for no model, unknown backends and bad config keys."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from sciresearcher.llm.testserver import OpenAITestServer
from sciresearcher.records import Trajectory


def sciresearcher(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sciresearcher", *args], capture_output=True, text=True, check=False,
                          cwd=cwd, timeout=300)


def _trajectory(run_dir) -> Trajectory:
    lines = (run_dir / "trajectories.jsonl").read_text().splitlines()
    assert len(lines) == 1
    return Trajectory.model_validate_json(lines[0])


def test_ask_openai_backend_against_test_server(tmp_path):
    replies = [{"tool_calls": [{"name": "python", "arguments": {"code": "print(6*7)"}}]},
               "Explanation: computed.\nAnswer: 42\nConfidence: 95%"]
    with OpenAITestServer(replies) as srv:
        out, base_url = tmp_path / "run", srv.base_url
        proc = sciresearcher("ask", "What is 6 times 7?", "--out", str(out), "--llm.backend", "openai",
                             "--llm.base-url", srv.base_url, "--llm.model", "test-model",
                             "--tools.enabled", "[python]")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "42"
    traj = _trajectory(out)
    assert traj.status == "ok" and traj.final.answer == "42" and traj.counters.tool_calls == 1
    tool_msg = next(m for m in traj.messages if m.role == "tool")
    assert "42" in tool_msg.content  # the sandbox really ran the code
    assert Trajectory.model_validate_json(traj.model_dump_json()) == traj
    # the resolved config is beside it and re-runnable
    resolved = (out / "config.yaml").read_text()
    assert "base_url: " + base_url in resolved
    # the model was offered the python tool by schema
    assert srv.requests[0]["tools"][0]["function"]["name"] == "python"
    # the answer is printed once (stdout); the live view on stderr shows the explanation, not the answer again
    assert proc.stdout.count("42") == 1 and "Answer: 42" not in proc.stderr and "computed." in proc.stderr
    # the run directory has summary.json and a run.log that says what happened
    summary = json.loads((out / "summary.json").read_text())
    assert summary["answer"] == "42" and summary["status"] == "ok" and summary["tool_calls"] == 1
    log_text = (out / "run.log").read_text()
    for needle in ("run started in", "config.yaml", "question: What is 6 times 7?", "wrote summary.json",
                   "run ended after"):
        assert needle in log_text, needle


def test_ask_local_backend_on_tiny_model(tmp_path, tiny_model_dir):
    out = tmp_path / "run"
    proc = sciresearcher("ask", "Name one kinase.", "--out", str(out), "--llm.backend", "local",
                         "--llm.model", str(tiny_model_dir), "--agent.max-turns", "2",
                         "--agent.sampling", json.dumps({"max_tokens": 16, "temperature": 0.7}),
                         "--tools.enabled", "[]")
    assert proc.returncode == 0, proc.stderr
    traj = _trajectory(out)
    assert traj.policy.backend == "local" and traj.counters.turns >= 1 and traj.steps[0].usage.prompt_tokens > 0


def test_ask_without_model_explains_how_to_configure(tmp_path):
    proc = sciresearcher("ask", "q", "--out", str(tmp_path / "r"))
    assert proc.returncode == 2
    assert "no model is configured" in proc.stderr and "--llm.base-url" in proc.stderr
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("args,needle", [
    (["--llm.backend", "vertex"], "llm.backend"),
    (["--llm.modle", "x"], "did you mean 'llm.model'"),
    (["--llm.model", "/no/such/model"], "does not exist"),
])
def test_ask_bad_input_is_one_clear_error(tmp_path, args, needle):
    proc = sciresearcher("ask", "q", "--out", str(tmp_path / "r"), *args)
    assert proc.returncode == 2 and needle in proc.stderr
    assert "Traceback" not in proc.stderr


def test_config_show_and_init_round_trip(tmp_path):
    path = tmp_path / "ask.yaml"
    assert sciresearcher("config", "init", "ask", "--out", str(path)).returncode == 0
    shown = sciresearcher("config", "show", "ask", "--config", str(path))
    assert shown.returncode == 0 and yaml.safe_load(shown.stdout) == yaml.safe_load(path.read_text())
