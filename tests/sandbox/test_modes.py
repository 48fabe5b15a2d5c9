"""Which mode runs and who owns what (issue 12, points 6 and 7): auto never falls back to the weak rlimit
mode; rlimit is an explicit opt-in whose known bypasses (os.open with dir_fd, _posixsubprocess.fork_exec,
ctypes system()) are closed; session uids are unique machine-wide and a session kills only its own
processes."""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from sciresearcher.errors import SandboxError
from sciresearcher.sandbox import SandboxConfig, SandboxSession
from sciresearcher.sandbox import session as sandbox_session

REPO = Path(__file__).resolve().parents[2]
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="per-session uids exist only when the host runs as root")


def test_auto_never_falls_back_to_rlimit(monkeypatch):
    monkeypatch.setattr(sandbox_session, "probe", lambda mode, config: None if mode == "rlimit" else f"{mode} broken")
    with pytest.raises(SandboxError, match="rlimit"):
        sandbox_session.resolve_mode(SandboxConfig(mode="auto"))


def test_rlimit_mode_is_an_explicit_opt_in_that_warns(caplog, monkeypatch):
    monkeypatch.setattr(sandbox_session, "probe", lambda mode, config: None)
    monkeypatch.setattr(sandbox_session, "_warned_modes", set())
    with caplog.at_level(logging.WARNING, logger="sciresearcher.sandbox"):
        assert sandbox_session.resolve_mode(SandboxConfig(mode="rlimit")) == "rlimit"
    text = caplog.text.lower()
    assert "rlimit" in text and "not" in text and "file" in text  # says what it does not contain


@pytest.fixture
def rlimit_session(tmp_path):
    cfg = SandboxConfig(mode="rlimit", timeout_s=5, grace_s=1, memory_mb=1024, preload=[], max_output_bytes=4096)
    with SandboxSession(cfg) as sb:
        yield sb


def test_rlimit_dir_fd_cannot_read_secrets_or_write_outside(rlimit_session):
    victim = REPO / f".dirfd-victim-{os.getpid()}"
    code = (
        "import os\nres = {}\n"
        "for name, d, f, flags in [('shadow', '/etc', 'shadow', os.O_RDONLY),\n"
        "                          ('environ', '/proc', f'{os.getppid()}/environ', os.O_RDONLY),\n"
        f"                          ('write', {str(REPO)!r}, {victim.name!r}, os.O_WRONLY | os.O_CREAT)]:\n"
        "    try:\n"
        "        dfd = os.open(d, os.O_RDONLY)\n"
        "        fd = os.open(f, flags, 0o644, dir_fd=dfd)\n"
        "        res[name] = 'opened'\n"
        "        if name == 'write':\n            os.write(fd, b'pwned')\n"
        "    except OSError as e:\n        res[name] = type(e).__name__\n"
        "res"
    )
    try:
        r = rlimit_session.run_sync(code)
        assert r.ok, r.error
        assert "opened" not in r.value, r.value
        assert not victim.exists()
    finally:
        victim.unlink(missing_ok=True)


def test_rlimit_fork_exec_and_ctypes_cannot_start_a_shell(rlimit_session, tmp_path):
    marker = Path(tempfile.gettempdir()) / f"fork-exec-marker-{os.getpid()}"
    code = (
        "import _posixsubprocess, os\nres = {}\n"
        "try:\n"
        "    r, w = os.pipe()\n"
        f"    pid = _posixsubprocess.fork_exec([b'/bin/sh', b'-c', b'touch {marker}'], [b'/bin/sh'], True, (w,),\n"
        "        None, None, -1, -1, -1, -1, -1, -1, r, w, True, False, -1, None, None, -1, -1, None, False)\n"
        "    res['fork_exec'] = pid\n"
        "except OSError as e:\n    res['fork_exec'] = type(e).__name__\n"
        "import ctypes\n"
        f"res['system'] = ctypes.CDLL(None).system(b'touch {marker}-c')\n"
        "res"
    )
    try:
        r = rlimit_session.run_sync(code)
        time.sleep(0.3)
        assert not marker.exists() and not Path(f"{marker}-c").exists(), r
    finally:
        marker.unlink(missing_ok=True)
        Path(f"{marker}-c").unlink(missing_ok=True)


@root_only
def test_sessions_with_different_tmpdirs_never_share_a_uid(config, tmp_path, monkeypatch):
    a_tmp, b_tmp = tmp_path / "a", tmp_path / "b"
    a_tmp.mkdir()
    b_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(a_tmp))
    base = 330_000 + os.getpid() % 1000 * 8  # away from the uids other checkouts' sessions use meanwhile
    first = SandboxSession(config.model_copy(update={"root_dir": a_tmp / "sb", "uid_base": base}))
    try:
        assert first.run_sync("state = 'alive'").ok
        monkeypatch.setattr(tempfile, "tempdir", str(b_tmp))
        with SandboxSession(config.model_copy(update={"root_dir": b_tmp / "sb", "uid_base": base})) as second:
            assert second.run_sync("1").ok
            assert second._uid != first._uid
            assert first.run_sync("state").value == "'alive'"  # the second claim killed nothing of the first
    finally:
        first.close()


@root_only
def test_a_uid_with_processes_the_session_did_not_start_is_skipped_not_killed(config, caplog):
    base = 310_000 + os.getpid() % 1000 * 8
    bystander = subprocess.Popen(["sleep", "60"], user=base, group=base, extra_groups=[])
    try:
        time.sleep(0.1)
        with caplog.at_level(logging.INFO, logger="sciresearcher.sandbox"), \
                SandboxSession(config.model_copy(update={"uid_base": base})) as sb:
            assert sb.run_sync("1").ok
            assert sb._uid != base
        assert bystander.poll() is None, "a session killed a process it did not start"
        assert f"skipped 1 uid(s) from {base} that have processes no live session owns" in caplog.text
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="sciresearcher.sandbox"), \
                SandboxSession(config.model_copy(update={"uid_base": base})) as again:
            assert again.run_sync("1").ok and again._uid != base
        assert "no live session owns" not in caplog.text, "the same leftover was reported twice"
    finally:
        bystander.kill()
        bystander.wait()


@root_only
def test_the_uid_of_a_live_session_is_passed_over_without_a_leftovers_message(config, caplog):
    base = 320_000 + os.getpid() % 1000 * 8
    with SandboxSession(config.model_copy(update={"uid_base": base})) as first:
        assert first.run_sync("1").ok  # its worker runs as `base`
        with caplog.at_level(logging.INFO, logger="sciresearcher.sandbox"), \
                SandboxSession(config.model_copy(update={"uid_base": base})) as second:
            assert second.run_sync("1").ok
            assert second._uid == first._uid + 1
    assert "no live session owns" not in caplog.text


@root_only
def test_a_uid_an_older_checkout_holds_under_tmpdir_is_not_claimed(config, tmp_path, monkeypatch):
    import fcntl

    base = 340_000 + os.getpid() % 1000 * 8
    legacy = tmp_path / "sciresearcher-sandbox-uids"
    legacy.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with open(legacy / str(base), "w") as held:  # what an older SciResearcher's live session holds
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with SandboxSession(config.model_copy(update={"uid_base": base, "root_dir": tmp_path / "sb"})) as sb:
            assert sb._uid == base + 1
            with open(legacy / str(base + 1), "w") as probe, pytest.raises(BlockingIOError):
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)  # an older checkout would skip it too


@root_only
def test_closing_a_session_kills_every_process_of_its_uid_through_setpriv(config):
    """Whatever runs as a session's uid when it closes dies with it (a process that left the worker's tree, here
    one started beside it); the kill runs through `setpriv`, as that uid with its own gid and no other group."""
    from sciresearcher.sandbox.process import as_uid

    base = 320_000 + os.getpid() % 1000 * 8
    with SandboxSession(config.model_copy(update={"uid_base": base})) as sb:
        assert sb.run_sync("1").ok
        uid = sb._uid
        argv, kwargs = as_uid(["sh", "-c", "id -u; id -g; id -G"], uid)
        assert argv[0].endswith("setpriv") and not kwargs  # no Popen user=/group=: CPython can vfork
        ids = subprocess.run(argv, capture_output=True, text=True, check=True).stdout.split()
        assert ids == [str(uid)] * 3  # uid, gid, and the gid as its only group
        leftover = subprocess.Popen(as_uid(["sleep", "60"], uid)[0], start_new_session=True)
        time.sleep(0.1)
        assert leftover.poll() is None
    assert leftover.wait(timeout=10) == -9  # SIGKILLed when the session closed


def test_the_worker_starts_without_site_and_still_finds_packages_and_site_builtins(config):
    """The worker skips site's start-up (python -S) and gets this interpreter's site directories from the host: the
    venv's packages import, `exit`/`quit`/`help` exist as site makes them, and no .pth import hook ran (this
    project's editable install is not importable from a cell)."""
    with SandboxSession(config) as session:
        result = session.run_sync("import sys, numpy\nprint(sys.flags.no_site, type(exit).__name__, "
                                  "type(quit).__name__, type(help).__name__)")
        assert result.ok and result.stdout.split() == ["1", "Quitter", "Quitter", "_Helper"], result
        hidden = session.run_sync("import sciresearcher")
        assert not hidden.ok and "No module named 'sciresearcher'" in (hidden.error or "")
        assert session.run_sync("exit()").ok is False  # SystemExit inside a cell is the cell's error, not the worker's
        assert session.run_sync("print(1 + 1)").stdout == "2\n"


def test_pth_path_lines_are_kept_and_import_lines_are_not_run(tmp_path: Path):
    from sciresearcher.sandbox.confine import with_pth_paths

    site_dir, extra = tmp_path / "site-packages", tmp_path / "src"
    site_dir.mkdir()
    extra.mkdir()
    (site_dir / "a.pth").write_text(f"# a comment\n{extra}\nimport os; os.remove('x')\n{tmp_path / 'missing'}\n")
    (site_dir / "b.pth").write_text("../src\n")  # the same directory, relative: listed once
    assert with_pth_paths([str(site_dir), str(tmp_path / "absent")]) == (str(site_dir), str(extra))
