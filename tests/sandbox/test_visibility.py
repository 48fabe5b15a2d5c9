"""What sandboxed code can see of the host (issue 12, points 1, 2, 4, 5): only the interpreter, the worker,
its own session dir and what a task hands in. Gold answers in a data dir, the repository, the host's working
directory and its `.env`, unix sockets on disk and unbounded tmpfs are attacks that must fail.

(The scripted-model eval attack on the python tool is in test_gold_lookup.py.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_helpers import Listener

from sciresearcher.sandbox import SandboxSession

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
GOLD = '{"id": "q1", "answer": "42.17 kJ/mol"}\n'

PROBE = """
import os, json
found = {}
for p in PATHS:
    try:
        if os.path.isdir(p):
            found[p] = sorted(os.listdir(p))[:5]
        else:
            with open(p) as f:
                found[p] = f.read(200)
    except OSError:
        pass
json.dumps(found)
"""


def readable(session: SandboxSession, paths: list[str]) -> dict[str, object]:
    r = session.run_sync(f"PATHS = {paths!r}\n" + PROBE)
    assert r.ok, r.error
    return json.loads(eval(r.value))


@pytest.fixture(autouse=True)
def _namespace_modes_only(sandbox_mode: str) -> None:
    if sandbox_mode == "rlimit":
        pytest.skip("the rlimit mode mounts nothing: it hides no host file (docs/sandbox.md says so)")


def _path_names(directory: str, keep: list[str]) -> set[str]:
    """The entries of `directory` that lie on the way to one of the `keep` paths."""
    prefix = directory.rstrip("/") + "/"
    return {k[len(prefix):].split("/")[0] for k in keep if k.startswith(prefix)}


@pytest.fixture
def gold_dir() -> Iterator[Path]:
    """A 'data dir' with gold answers and a .env, outside /tmp (a deny-list of /tmp, /home... misses it)."""
    d = Path(tempfile.mkdtemp(prefix=".gold-", dir=REPO))
    (d / "answers.jsonl").write_text(GOLD)
    (d / ".env").write_text("OPENAI_API_KEY=sk-live-GOLD-0000\n")
    os.chmod(d, 0o755)
    for f in d.iterdir():
        os.chmod(f, 0o644)
    try:
        yield d
    finally:
        for f in d.iterdir():
            f.unlink()
        d.rmdir()


def test_gold_answers_repo_and_cwd_are_not_visible(config, gold_dir, monkeypatch):
    monkeypatch.chdir(gold_dir)  # the host's working directory
    with SandboxSession(config) as sb:
        assert sb.run_sync("open('mine.txt', 'w').write('ok')").ok  # its own dir works
        targets = [
            str(gold_dir / "answers.jsonl"), str(gold_dir / ".env"), str(gold_dir),
            str(REPO / "pyproject.toml"), str(REPO / "sciresearcher" / "sandbox" / "session.py"), str(REPO),
            str(REPO.parent), str(SHARED_DATA), str(SHARED_DATA / "eval" / "scibench_chem.jsonl"),
            "/root", "/home", "/run", "/var/lib", "/mnt", "/srv", "/opt", "/etc/shadow", "/etc/hostname",
            str(sb.session_dir.parent),  # other sessions' dirs live here
        ]
        seen = readable(sb, targets)
        # Directories on the way to the interpreter or the session's own dir exist, holding only that path.
        keep = [sys.prefix, sys.base_prefix, str(sb.session_dir)]
        leaks = {p: v for p, v in seen.items() if not isinstance(v, list) or not set(v) <= _path_names(p, keep)}
        assert leaks == {}, f"visible from the sandbox: {leaks}"


def test_explicit_inputs_are_visible_read_only_and_nothing_else(config, gold_dir, tmp_path):
    handed = tmp_path / "task-input"
    handed.mkdir()
    (handed / "data.csv").write_text("x,y\n1,2\n")
    (tmp_path / "sibling.txt").write_text("not handed in")
    os.chmod(tmp_path, 0o755)
    os.chmod(handed, 0o755)
    os.chmod(handed / "data.csv", 0o644)
    with SandboxSession(config.model_copy(update={"inputs": [handed]})) as sb:
        r = sb.run_sync(f"open({str(handed / 'data.csv')!r}).read()")
        assert r.ok and "1,2" in r.value, r.error
        w = sb.run_sync(f"open({str(handed / 'new.txt')!r}, 'w')")
        assert not w.ok  # read-only
        assert readable(sb, [str(tmp_path / "sibling.txt"), str(gold_dir / "answers.jsonl")]) == {}
    assert not (handed / "new.txt").exists()


def test_sys_path_entries_and_the_cwd_env_file_are_not_bound_back(sandbox_mode, tmp_path):
    """Under `python -m sciresearcher` the host's cwd, the script dir and PYTHONPATH are on sys.path."""
    cwd = tmp_path / "project"
    extra = tmp_path / "pythonpath"
    for d in (cwd, extra):
        d.mkdir()
        os.chmod(d, 0o755)
    (cwd / ".env").write_text("ANTHROPIC_API_KEY=sk-ant-LEAKED-1111\n")
    (extra / "secret_module.py").write_text("KEY = 'sk-PYTHONPATH-2222'\n")
    code = (
        "out = []\n"
        f"for p in [{str(cwd / '.env')!r}, {str(extra / 'secret_module.py')!r}]:\n"
        "    try:\n        out.append(open(p).read())\n    except OSError as e:\n        out.append(type(e).__name__)\n"
        "print(out)"
    )
    env = {**os.environ, "PYTHONPATH": str(extra)}
    proc = subprocess.run(
        [sys.executable, "-m", "sciresearcher", "sandbox", "exec", "--mode", sandbox_mode, "-c", code],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    result = json.loads(proc.stdout)
    assert result["ok"], (result, proc.stderr[-2000:])
    assert "LEAKED" not in result["stdout"] and "PYTHONPATH-2222" not in result["stdout"]


def test_unix_sockets_on_disk_are_unreachable(session, tmp_path):
    places = [tmp_path / "agent.sock", REPO / f".s-{os.getpid()}.sock"]
    if os.access("/run", os.W_OK):
        places.append(Path(f"/run/sciresearcher-test-{os.getpid()}.sock"))
    servers = [Listener(p) for p in places]
    try:
        code = (
            "import socket\nok = []\n"
            f"for p in {[str(p) for p in places]!r}:\n"
            "    s = socket.socket(socket.AF_UNIX)\n"
            "    try:\n        s.connect(p); ok.append(p)\n    except OSError:\n        pass\n"
            "    finally:\n        s.close()\n"
            "ok"
        )
        r = session.run_sync(code)
        assert r.ok, r.error
        assert r.value == "[]"
        assert sum(s.connections for s in servers) == 0
    finally:
        for s in servers:
            s.close()


def test_tmpfs_cannot_take_gigabytes_of_host_memory(config):
    code = (
        "import os\nwritten = {}\nchunk = b'\\0' * (8 << 20)\n"
        "for d in ['/dev/shm', '/tmp', '/var/tmp']:\n"
        "    n = 0\n"
        "    try:\n"
        "        for i in range(48):\n"  # 48 files x 32 MB = 1.5 GB (each file is capped by max_file_mb)
        "            with open(f'{d}/bomb-{i}', 'wb') as f:\n"
        "                for _ in range(4):\n"
        "                    f.write(chunk); n += len(chunk)\n"
        "    except OSError:\n        pass\n"
        "    written[d] = n >> 20\n"
        "    for i in range(48):\n"
        "        try:\n            os.remove(f'{d}/bomb-{i}')\n        except OSError:\n            pass\n"
        "written"
    )
    with SandboxSession(config.model_copy(update={"memory_mb": 4096})) as sb:
        r = sb.run_sync(code, timeout_s=60)
        assert r.ok, r.error
        written = eval(r.value)
        assert all(mb <= 256 for mb in written.values()), written  # default tmpfs_mb is 64
