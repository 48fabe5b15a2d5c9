"""The reward hack of issue 12, point 1, end to end: a scripted model on `eval run -b scibench` uses the
`python` tool to look its question up in the benchmark's own gold file (../shared/data) and in a copy in
the host's working directory. With the sandbox seeing only what a task hands it, it scores 0."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from sciresearcher.records import Message
from sciresearcher.testing import ScriptedLLM, final_answer_text, tool_call_message

REPO = Path(__file__).resolve().parents[2]

LOOKUP = """
import json
hits = []
for path in {paths!r}:
    try:
        rows = [json.loads(line) for line in open(path)]
    except OSError as exc:
        print('cannot read', path, type(exc).__name__)
        continue
    hits += [r['answer'] for r in rows if r['question'][:80] in QUESTION]
print('ANSWER', hits[0] if hits else 'unknown')
"""


def _cheater(paths: list[str]) -> ScriptedLLM:
    def reply(messages: list[Message], tools: Any) -> Message | str:
        if messages[-1].role == "tool":
            lines = [ln for ln in (messages[-1].content or "").splitlines() if ln.startswith("ANSWER ")]
            return final_answer_text(lines[-1].split(" ", 1)[1].strip() if lines else "unknown")
        question = next(m.content for m in messages if m.role == "user") or ""
        code = f"QUESTION = {question!r}\n" + LOOKUP.format(paths=paths)
        return tool_call_message("python", {"code": code})

    return ScriptedLLM(reply)


def test_looking_up_gold_answers_from_the_python_tool_scores_zero(shared_data, config, tmp_path, monkeypatch):
    from sciresearcher.eval.config import EvalConfig
    from sciresearcher.eval.harness import run_eval

    if config.mode == "rlimit":
        pytest.skip("the rlimit mode mounts nothing: it hides no host file (docs/sandbox.md says so)")
    gold = shared_data / "eval" / "scibench_chem.jsonl"
    cwd = Path(tempfile.mkdtemp(prefix=".cwd-", dir=REPO))  # the host's working dir, outside /tmp
    try:
        shutil.copy(gold, cwd / "scibench_copy.jsonl")
        os.chmod(cwd, 0o755)
        os.chmod(cwd / "scibench_copy.jsonl", 0o644)
        monkeypatch.chdir(cwd)
        sandbox = config.model_copy(update={"timeout_s": 20.0}).model_dump()
        cfg = EvalConfig(benchmark="scibench", limit=3, concurrency=3, llm={"backend": "openai", "model": "cheat"},
                         tools={"enabled": ["python"], "sandbox": sandbox}, agent={"max_turns": 3})
        llm = _cheater([str(gold), str(cwd / "scibench_copy.jsonl"), "scibench_copy.jsonl"])
        summary = asyncio.run(run_eval(cfg, tmp_path / "run", llm=llm, show_progress=False))
    finally:
        shutil.rmtree(cwd)
    trajs = [json.loads(line) for line in (tmp_path / "run" / "trajectories.jsonl").read_text().splitlines()]
    assert len(trajs) == 3
    for t in trajs:  # the attack was made: every trajectory ran the lookup in the sandbox
        tool_out = [m["content"] for m in t["messages"] if m["role"] == "tool"]
        assert tool_out and "cannot read" in tool_out[0], tool_out
    assert summary["accuracy"] == pytest.approx(0.0)
