"""`scripts/serve_vllm.sh` (the README's way to start a local teacher) starts a working server from a RELATIVE model
path with its default flags, and our openai backend talks to it. Needs the vLLM venv (marker `vllm`, via conftest)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

from vllm_server import REPO, _get, free_port, venv_dir

from sciresearcher.llm import LLMConfig, make_client
from sciresearcher.records import Message


def test_serve_script_with_a_relative_model_path(tiny_model_dir: Path, tmp_path: Path):
    port = free_port()
    env = {**os.environ, "SCIRESEARCHER_VLLM_VENV": str(venv_dir()), "SCIRESEARCHER_VLLM_WORKDIR": str(tmp_path / "w"),
           "SCIRESEARCHER_VLLM_NAME": "tiny"}
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen([str(REPO / "scripts" / "serve_vllm.sh"), tiny_model_dir.name, str(port)],
                            cwd=tiny_model_dir.parent, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()[-4000:]
            try:
                if _get(f"http://127.0.0.1:{port}/health")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(1.0)
        else:
            raise AssertionError("server not healthy in 600 s:\n" + (tmp_path / "server.log").read_text()[-4000:])
        client = make_client(LLMConfig(backend="openai", model="tiny", base_url=f"http://127.0.0.1:{port}/v1",
                                       max_retries=0, timeout_s=120.0))
        result = asyncio.run(client.chat([Message.user("Hello")], max_tokens=8, temperature=0.0))
        assert result.usage.completion_tokens > 0
        assert "use it with: --llm.backend openai" in (tmp_path / "server.log").read_text()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        log.close()
