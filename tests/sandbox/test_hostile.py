"""Hostile code, one property per test: each is contained within its time limit, the host and another
session live on, and nothing outside the session's working dir changes."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from sandbox_helpers import Listener

from sciresearcher.sandbox import ExecResult, SandboxSession
from sciresearcher.sandbox.confine import WORKER

REPO = Path(__file__).resolve().parents[2]
SLACK_S = 3.0


def contained(result: ExecResult, session: SandboxSession, bystander: SandboxSession) -> None:
    """The call came back in time, the session answers again and the other session kept its state."""
    limit = session.config.timeout_s + session.config.grace_s + SLACK_S
    assert result.elapsed_s <= limit, f"took {result.elapsed_s}s (limit {limit}s)"
    assert result.mode == session.mode
    assert session.run_sync("1 + 1").value == "2"
    assert bystander.run_sync("canary").value == "12345"
    assert subprocess.run(["true"], check=False).returncode == 0  # the host can still start processes


@pytest.fixture
def server():
    srv = Listener()
    yield srv
    srv.close()


def test_infinite_loop_is_interrupted_and_state_kept(session, bystander):
    session.run_sync("x = 7")
    r = session.run_sync("while True:\n    pass")
    assert not r.ok and r.error_kind == "timeout" and not r.state_lost
    assert session.run_sync("x").value == "7"


def test_loop_that_swallows_the_interrupt_is_stopped(session, bystander):
    r = session.run_sync("while True:\n    try:\n        while True: pass\n    except BaseException: pass")
    assert not r.ok and r.error_kind == "timeout"
    contained(r, session, bystander)
    contained(r, session, bystander)


def test_loop_that_ignores_the_interrupt_is_killed(session, bystander):
    r = session.run_sync(
        "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass"
    )
    assert not r.ok and r.error_kind == "timeout" and r.state_lost
    contained(r, session, bystander)


def test_cpu_burn_in_threads(session, bystander):
    code = (
        "import threading\n"
        "def burn():\n    while True: pass\n"
        "ts = [threading.Thread(target=burn, daemon=True) for _ in range(8)]\n"
        "[t.start() for t in ts]\n[t.join() for t in ts]"
    )
    r = session.run_sync(code)
    assert not r.ok and r.error_kind in ("timeout", "cpu"), r.error
    assert r.state_lost  # the burning threads were stopped with the worker
    contained(r, session, bystander)


def test_fork_bomb(session, bystander):
    r = session.run_sync("import os\nwhile True:\n    os.fork()")
    assert not r.ok
    contained(r, session, bystander)


def test_allocating_10_gb(session, bystander):
    session.run_sync("y = 'kept'")
    r = session.run_sync("big = bytearray(10 * 1024 ** 3)")
    assert not r.ok and r.error_kind == "memory"
    assert session.run_sync("y").value == "'kept'"
    contained(r, session, bystander)


def test_printing_1_gb(session, bystander):
    r = session.run_sync("chunk = 'x' * (1 << 20)\nfor _ in range(1024):\n    print(chunk)")
    cap = session.config.max_output_bytes
    assert len(r.stdout.encode()) <= cap
    assert r.stdout_dropped >= (1 << 30) - cap
    assert "more bytes of stdout dropped" in r.to_text()
    contained(r, session, bystander)


def test_writing_a_10_gb_file(session, bystander):
    code = (
        "with open('big.bin', 'wb') as f:\n"
        "    for _ in range(10 * 1024):\n"
        "        f.write(b'\\0' * (1 << 20))"
    )
    r = session.run_sync(code)
    assert not r.ok and r.error_kind == "file_size"
    big = session.workdir / "big.bin"
    assert big.stat().st_size <= session.config.max_file_mb * 1024 * 1024
    contained(r, session, bystander)


def test_reading_etc_shadow(session, bystander):
    r = session.run_sync("print(open('/etc/shadow').read())")
    assert not r.ok and r.error_kind == "exception"
    assert "root:" not in r.stdout
    contained(r, session, bystander)


def test_reading_ssh_keys_of_the_host_user(session, bystander):
    ssh = os.path.expanduser("~/.ssh")
    r = session.run_sync(f"import os\nos.listdir({ssh!r})")
    assert not r.ok or r.value == "[]"
    contained(r, session, bystander)


def test_parent_environment_is_not_visible(monkeypatch, config, bystander):
    secret = "sk-test-SANDBOX-SECRET-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("HF_TOKEN", secret)
    code = (
        "import os, glob\nfound = [k for k, v in os.environ.items() if 'SANDBOX-SECRET' in v]\n"
        "for p in glob.glob('/proc/*/environ'):\n"
        "    try:\n        found += [p] if b'SANDBOX-SECRET' in open(p, 'rb').read() else []\n"
        "    except OSError:\n        pass\n"
        "try:\n    found += ['ppid'] if b'SANDBOX' in open(f'/proc/{os.getppid()}/environ', 'rb').read() else []\n"
        "except OSError:\n    pass\nfound"
    )
    with SandboxSession(config) as session:
        r = session.run_sync(code)
        assert r.ok, r.error
        assert r.value == "[]"
        assert secret not in r.stdout + r.stderr
        contained(r, session, bystander)


def test_connecting_to_a_local_server(session, bystander, server):
    code = (
        f"import socket\ns = socket.create_connection(('127.0.0.1', {server.port}), timeout=2)\n"
        "s.send(b'hello')"
    )
    r = session.run_sync(code)
    assert not r.ok
    time.sleep(0.3)
    assert server.connections == 0
    contained(r, session, bystander)


def test_spawning_curl(session, bystander, server):
    code = (
        "import subprocess\n"
        f"p = subprocess.run(['curl', '-sS', '-m', '2', 'http://127.0.0.1:{server.port}/'], "
        "capture_output=True)\nassert p.returncode == 0, p.stderr"
    )
    r = session.run_sync(code)
    assert not r.ok
    time.sleep(0.3)
    assert server.connections == 0
    contained(r, session, bystander)


def test_spawning_pip_install(session, bystander, server):
    site = subprocess.run(
        [
            session.config.python or os.sys.executable,
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    before = sorted(os.listdir(site))
    code = (
        "import subprocess, sys\n"
        f"p = subprocess.run([sys.executable, '-m', 'pip', 'install', '--index-url', "
        f"'http://127.0.0.1:{server.port}/simple', '--retries', '0', '--timeout', '1', 'leftpad'], "
        "capture_output=True, text=True)\nassert p.returncode == 0, p.stderr[-300:]"
    )
    r = session.run_sync(code, timeout_s=20)
    assert not r.ok
    assert server.connections == 0
    assert sorted(os.listdir(site)) == before
    assert bystander.run_sync("canary").value == "12345"


def test_killing_the_parent(session, bystander):
    r = session.run_sync("import os\nos.kill(os.getppid(), 9)")
    # Either refused (rlimit mode) or it only kills the sandbox's own init (namespace modes).
    assert r.ok or r.error_kind in ("crash", "exit", "exception")
    assert os.getpid() > 0 and session.run_sync("'alive'").value == "'alive'"
    contained(r, session, bystander)


def test_deleting_files_outside_the_working_dir(session, bystander):
    victim_dir = REPO / f".sandbox-victim-{os.getpid()}"
    victim_dir.mkdir(exist_ok=True)
    try:
        victim = victim_dir / "keep.txt"
        victim.write_text("precious")
        code = (
            "import os, shutil\n"
            f"for p in [{str(victim)!r}]:\n"
            "    try:\n        os.remove(p)\n    except OSError as e:\n        print('remove:', e)\n"
            f"shutil.rmtree({str(victim_dir)!r})"
        )
        r = session.run_sync(code)
        assert not r.ok
        assert victim.read_text() == "precious"
        assert WORKER.exists()
        contained(r, session, bystander)
    finally:
        victim.unlink(missing_ok=True)
        victim_dir.rmdir()


def test_writes_land_only_in_the_working_dir(session, bystander):
    targets = ["/usr/lib/sandbox-x", "/etc/sandbox-x", str(REPO / "sandbox-x"), "../../sandbox-x"]
    code = (
        "res = {}\n"
        f"for p in {targets!r}:\n"
        "    try:\n        open(p, 'w').write('x'); res[p] = 'written'\n"
        "    except OSError as e:\n        res[p] = type(e).__name__\n"
        "open('inside.txt', 'w').write('ok')\nres"
    )
    r = session.run_sync(code)
    assert r.ok, r.error
    assert "written" not in r.value
    assert (session.workdir / "inside.txt").read_text() == "ok"
    assert not (REPO / "sandbox-x").exists() and not Path("/etc/sandbox-x").exists()
    contained(r, session, bystander)


def test_ctypes_segfault(session, bystander):
    session.run_sync("z = 1")
    r = session.run_sync("import ctypes\nctypes.string_at(0)")
    assert not r.ok and r.error_kind in ("crash", "exit") and r.state_lost
    nxt = session.run_sync("z")
    assert nxt.restarted and nxt.state_lost and "restarted" in (nxt.notice or "")
    assert nxt.error_kind == "exception"  # z is gone
    contained(r, session, bystander)


def test_sys_exit_keeps_the_session(session, bystander):
    session.run_sync("w = 3")
    r = session.run_sync("import sys\nsys.exit(4)")
    assert not r.ok and r.error_kind == "exit" and not r.state_lost
    assert session.run_sync("w").value == "3"
    contained(r, session, bystander)


def test_os_exit_restarts_with_notice(session, bystander):
    r = session.run_sync("import os\nos._exit(0)")
    assert not r.ok and r.state_lost and "exited with code 0" in r.error
    nxt = session.run_sync("'back'")
    assert nxt.value == "'back'" and nxt.restarted
    contained(r, session, bystander)


def test_another_sessions_files_are_not_readable(session, bystander):
    assert bystander.run_sync("open('note.txt', 'w').write('bystander-private')").ok
    path = bystander.workdir / "note.txt"
    r = session.run_sync(f"open({str(path)!r}).read()")
    assert not r.ok and "bystander-private" not in (r.value or "")
    contained(r, session, bystander)
