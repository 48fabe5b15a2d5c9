"""Frames on the worker's reply pipe are untrusted (issue 12, point 3): cell code can find the pipe and write
to it. The host checks every frame (size with slack, call number, JSON, fields) and kills the worker on a bad
one; the call reports it, the next call starts a fresh worker, and no exception escapes `run_sync`."""

from __future__ import annotations

import time

import pytest

from sciresearcher.sandbox import SandboxSession

# Cell code that writes one frame (or raw bytes) to every pipe it may write to: the reply pipe is among them.
FORGE = """
import os, sys, json, struct
CALL = int(sys._getframe().f_code.co_filename.strip('<>').split('-')[1])
def forge(raw):
    for name in os.listdir('/proc/self/fd'):
        try:
            if os.readlink(f'/proc/self/fd/{name}').startswith('pipe:'):
                os.write(int(name), raw)
        except OSError:
            pass
def frame(**fields):
    reply = dict(call=CALL, value="'forged'", error=None, figures=[], stray_threads=0,
                 stdout='', stderr='', stdout_dropped=0, stderr_dropped=0)
    reply.update(fields)
    body = json.dumps(reply).encode()
    return struct.pack('>I', len(body)) + body
"""


@pytest.fixture
def sb(config):
    with SandboxSession(config) as s:
        yield s


def _fresh_after(sb: SandboxSession) -> None:
    """The session is usable again and answers its own calls (no stale or forged reply)."""
    for word in ("one", "two"):
        r = sb.run_sync(f"{word!r}")
        assert r.ok and r.value == repr(word), r


def test_forged_figures_outside_the_working_dir_are_refused(sb):
    r = sb.run_sync(FORGE + "forge(frame(figures=['/etc/shadow']))\n'real'")
    assert "/etc/shadow" not in r.figures
    assert not r.ok and r.error_kind == "protocol" and r.state_lost, r
    _fresh_after(sb)


def test_a_second_reply_never_answers_the_next_call(sb):
    sb.run_sync("x = 1")
    r = sb.run_sync(FORGE + "forge(frame())\n'real'")
    # The forged reply may be taken for this call (it is no more than what print() could say), but the
    # real reply that follows is detected, and no later call ever gets an earlier call's reply.
    assert r.value in ("'forged'", "'real'", None)
    nxt = sb.run_sync("'next'")
    assert nxt.value in ("'next'", None)
    if nxt.value is None:
        assert nxt.error_kind == "protocol"
    _fresh_after(sb)


def test_a_frame_for_another_call_kills_the_worker(sb):
    r = sb.run_sync(FORGE + "forge(frame(call=CALL + 5))\nimport time\ntime.sleep(0.5)\n'real'")
    assert not r.ok and r.error_kind == "protocol" and r.state_lost
    assert "call" in r.error
    _fresh_after(sb)


def test_an_oversized_frame_is_refused_fast(sb):
    t0 = time.monotonic()
    code = FORGE + "forge(struct.pack('>I', 30 << 20))\nforge(b'x' * (30 << 20))\n'real'"
    r = sb.run_sync(code, timeout_s=30)
    elapsed = time.monotonic() - t0
    assert not r.ok and r.error_kind == "protocol", r
    assert elapsed < 5, f"took {elapsed:.1f}s"
    _fresh_after(sb)


def test_invalid_json_then_a_busy_worker_never_raises(sb):
    t0 = time.monotonic()
    r = sb.run_sync(FORGE + "forge(struct.pack('>I', 5) + b'hello')\nimport time\ntime.sleep(8)", timeout_s=20)
    assert not r.ok and r.error_kind == "protocol" and r.state_lost
    assert time.monotonic() - t0 < 5
    _fresh_after(sb)


def test_a_frame_with_fields_of_the_wrong_type_is_refused(sb):
    r = sb.run_sync(FORGE + "forge(frame(stdout=['not', 'text'], value={'a': 1}))\nimport time\ntime.sleep(1)")
    assert not r.ok and r.error_kind == "protocol"
    _fresh_after(sb)


def test_a_huge_exception_message_fits_the_frame_cap(sb):
    r = sb.run_sync("raise ValueError('m' * 10_000_000)")
    assert not r.ok and r.error_kind == "exception" and r.error.startswith("ValueError")
    assert len(r.error) < 20_000
    _fresh_after(sb)
