"""Bad input gives a short, located error, fast (issue 12, points 12 and 13, and the report side of 10): a
YAML alias bomb in --config, a summary.json with a string where a number belongs, deeply nested JSON and a
schema-invalid trajectory each give a DataError/ConfigError naming file:line and the field, through the
real CLI; the report writes only http(s) URLs as links and never changes the run directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BOMB = "\n".join(
    [
        'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
        *[f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")],
        "mode: *i",
        "",
    ]
)


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "2000"}  # rich would wrap the message inside file names
    return subprocess.run([sys.executable, "-m", "sciresearcher", *args], capture_output=True, text=True,
                          timeout=timeout, check=False, env=env)


def test_a_yaml_alias_bomb_is_refused_fast(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    code = textwrap.dedent(f"""
        import resource, time
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # the old loader took 7 GB
        from sciresearcher.config import load_config
        from sciresearcher.errors import ConfigError
        from sciresearcher.sandbox.config import SandboxConfig
        t0 = time.monotonic()
        try:
            load_config(SandboxConfig, {str(path)!r})
        except ConfigError as exc:
            print(round(time.monotonic() - t0, 3), len(str(exc)))
            print(exc)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-1500:]
    elapsed, size = proc.stdout.split("\n", 1)[0].split()
    assert float(elapsed) < 0.5 and int(size) < 2000, proc.stdout[:2000]
    assert "bomb.yaml" in proc.stdout and "alias" in proc.stdout
    via_cli = cli("sandbox", "exec", "-c", "1", "--config", str(path))
    assert via_cli.returncode != 0 and "Traceback" not in via_cli.stderr and len(via_cli.stderr) < 3000


def test_a_huge_value_is_not_echoed_whole(tmp_path):
    from sciresearcher.config import load_config
    from sciresearcher.errors import ConfigError
    from sciresearcher.sandbox.config import SandboxConfig

    path = tmp_path / "big.yaml"
    path.write_text("timeout_s: " + "9" * 10 + "x" * 1_000_000 + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(SandboxConfig, path)
    assert "big.yaml:1" in str(info.value) and len(str(info.value)) < 2000


TRAJ = {"id": "t1#0", "task_id": "t1", "policy": {"backend": "openai", "model": "m"},
        "messages": [{"role": "user", "content": "Q?"}], "final": {"answer": "A"}}


def make_run(tmp_path: Path, lines: list[str], summary: str | None = None) -> Path:
    run = tmp_path / "run"
    run.mkdir(parents=True)
    (run / "trajectories.jsonl").write_text("".join(line + "\n" for line in lines))
    if summary is not None:
        (run / "summary.json").write_text(summary)
    return run


def report_error(run: Path) -> str:
    proc = cli("report", str(run))
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert len(proc.stderr) < 4000
    return " ".join(proc.stderr.split())


def test_summary_with_a_string_where_a_number_belongs(tmp_path):
    summary = json.dumps({"n_tasks": 1, "accuracy": "very high", "pass_at_k": {"1": 0.5}}, indent=2)
    err = report_error(make_run(tmp_path, [json.dumps(TRAJ)], summary))
    assert "summary.json:3" in err and "accuracy" in err


def test_deeply_nested_json(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    err = report_error(make_run(tmp_path, [json.dumps(TRAJ), deep]))
    assert "trajectories.jsonl:2" in err and "nested" in err
    err = report_error(make_run(tmp_path / "b", [json.dumps(TRAJ)], '{"by_category": ' + deep + "}"))
    assert "summary.json" in err and "nested" in err


def test_a_schema_invalid_trajectory(tmp_path):
    bad = {**TRAJ, "id": "t2#0", "policy": {"backend": "openai"}, "status": "x" * 100_000}
    err = report_error(make_run(tmp_path, [json.dumps(TRAJ), json.dumps(TRAJ), json.dumps(bad)]))
    assert "trajectories.jsonl:3" in err and "policy.model" in err and "status" in err


def test_report_links_only_http_urls_and_writes_nothing_into_the_log(tmp_path):
    evidence = [{"doc_id": f"d{i}", "level": "sentence", "text": "t", "url": url, "title": f"link{i}"}
                for i, url in enumerate(["javascript:alert(document.cookie)", "data:text/html,<script>x</script>",
                                         " JavaScript:alert(1)", "https://example.org/paper", "http://x.org/a"])]
    traj = {**TRAJ, "subcalls": [{"tool": "read", "kind": "evidence", "evidence": evidence}]}
    run = make_run(tmp_path, [json.dumps(traj)])
    with open(run / "trajectories.jsonl", "ab") as fh:
        fh.write(b'{"id": "t9#0", "task_id"')  # a line a live writer is in the middle of
    before = (run / "trajectories.jsonl").read_bytes()
    proc = cli("report", str(run))
    assert proc.returncode == 0, proc.stderr[-2000:]
    html = (run / "report.html").read_text()
    hrefs = [h.split('"')[0].strip().lower() for h in html.split('href="')[1:]]
    assert all(h.startswith(("http://", "https://", "#")) for h in hrefs), hrefs
    assert 'href="https://example.org/paper"' in html and 'href="http://x.org/a"' in html
    assert (run / "trajectories.jsonl").read_bytes() == before  # the reader cut nothing
