#!/usr/bin/env python3
"""An offline stand-in teacher for the walkthrough: replays each task's reference solution, then states its gold answer.

It serves the OpenAI chat API on 127.0.0.1 (`sciresearcher.llm.testserver.OpenAITestServer`). For a request whose
question is one of the tasks in TASKS.jsonl it first calls the `python` tool with the task's reference solution
(`metadata.solution`, written by `synth computational`; else `print(ANSWER)`), then answers in the agent's final
format with the gold answer. Its trajectories are well-formed and correct, so `data filter` keeps them and the
walkthrough reaches `train sft` with no model and no network. They show the data path, not research: use a real
teacher (a vLLM server, an API model) for training data.

  python scripts/gold_teacher.py TASKS.jsonl -- sciresearcher data rollout TASKS.jsonl --backend openai \\
      --llm.base-url {teacher} --model gold --tools.enabled '[python]' --out runs/rollout
      runs the command with `{teacher}` replaced by the teacher's base URL, then stops the teacher (exit code:
      the command's);
  python scripts/gold_teacher.py TASKS.jsonl
      serves until Ctrl-C and prints the base URL.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sciresearcher.llm.testserver import OpenAITestServer
from sciresearcher.tasks.files import read_tasks


def gold_teacher(tasks_file: Path):
    """The reply function: tool call with the reference solution first, then the gold answer."""
    tasks = read_tasks(tasks_file)

    def reply(body: dict[str, Any]) -> Any:
        question = next((m.get("content") or "" for m in body["messages"] if m["role"] == "user"), "")
        task = next((t for t in tasks if t.question in question), None)
        if task is None:
            return "Explanation: this question is not in the gold teacher's task file.\nAnswer: unknown\nConfidence: 0%"
        offered = {t["function"]["name"] for t in body.get("tools") or []}
        if "python" in offered and not any(m["role"] == "tool" for m in body["messages"]):
            code = (task.metadata or {}).get("solution") or f"print({task.answer!r})"
            return {"tool_calls": [{"name": "python", "arguments": {"code": code}}]}
        unit = f" {task.unit}" if task.unit else ""
        return (f"Explanation: the reference computation gives {task.answer}{unit}.\n"
                f"Answer: {task.answer}\nConfidence: 90%")

    return reply, len(tasks)


def main() -> int:
    argv = sys.argv[1:]
    command = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tasks", type=Path, help="Task JSONL the teacher answers (e.g. runs/clean/tasks.jsonl)")
    args = parser.parse_args(own)
    reply, n = gold_teacher(args.tasks)
    with OpenAITestServer(reply, model="gold") as server:
        print(f"gold teacher for {n} tasks at {server.base_url} (model name: gold)", file=sys.stderr, flush=True)
        if command:
            return subprocess.call([part.replace("{teacher}", server.base_url) for part in command])
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
