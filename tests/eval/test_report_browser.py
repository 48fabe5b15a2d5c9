"""The HTML report in a real headless Chromium: loads without console errors, filters work, screenshot."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium at /usr/bin/chromium")]


def test_report_in_headless_chromium(scripted_run: Path, tmp_path: Path):
    playwright = pytest.importorskip("playwright.sync_api")
    from sciresearcher.eval.report import write_report

    report = write_report(scripted_run, tmp_path / "report.html")
    errors: list[str] = []
    requests: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("request", lambda req: requests.append(req.url))
        page.goto(report.as_uri())
        page.wait_for_selector("#trajectories")
        assert page.locator("#plot-passk svg").count() == 1
        visible = "#trajectories > details.traj:not([hidden])"
        assert page.locator(visible).count() == 8
        page.select_option("#filter-outcome", "wrong")
        assert page.locator(visible).count() == 2
        assert page.inner_text("#shown-count") == "2 shown"
        page.select_option("#filter-outcome", "all")
        page.select_option("#filter-category", "Chemistry")
        assert page.locator(visible).count() == 4
        page.select_option("#filter-outcome", "correct")
        assert page.locator(visible).count() == 3
        page.select_option("#filter-category", "all")
        page.select_option("#filter-outcome", "all")
        page.fill("#filter-text", "t2#1")
        assert page.locator(visible).count() == 1
        page.click("#expand-all")
        assert page.locator(f"{visible} .final").first.is_visible()
        assert "Graded by" in page.inner_text(visible)
        page.fill("#filter-text", "")
        page.evaluate("window.scrollTo(0, 0)")
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=False)
        if os.environ.get("SCIRESEARCHER_UPDATE_SCREENSHOT"):
            target = Path(__file__).resolve().parents[2] / "docs" / "report_screenshot.png"
            target.parent.mkdir(exist_ok=True)
            shutil.copy(shot, target)
        browser.close()
    assert shot.stat().st_size > 10_000
    assert errors == []
    assert all(u.startswith(("file:", "data:", "about:")) for u in requests), requests


def _math_run(tmp_path: Path, content: str) -> Path:
    from sciresearcher.records import Message, Policy, Trajectory

    traj = Trajectory(id="q:1#0", task_id="q:1", policy=Policy(backend="local", model="m"),
                      messages=[Message.system("s"), Message.user(content),
                                Message(role="assistant", content="Explanation: $\\Delta G = -RT\\ln K$\nAnswer: 5")])
    run = tmp_path / "run"
    run.mkdir()
    (run / "trajectories.jsonl").write_text(traj.model_dump_json() + "\n")
    return run


def test_report_typesets_latex_offline_in_headless_chromium(tmp_path: Path):
    playwright = pytest.importorskip("playwright.sync_api")
    from sciresearcher.eval.report import write_report

    report = write_report(_math_run(tmp_path, "What is $\\frac{a}{b}$ when \\(a = 10\\)?"), tmp_path / "r.html")
    errors: list[str] = []
    requests: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("request", lambda req: requests.append(req.url))
        page.goto(report.as_uri())
        assert page.locator("pre.tex .katex").count() == 0  # typeset when a trajectory is opened
        page.click("#trajectories > details.traj > summary")
        page.wait_for_selector("pre.tex .katex")
        assert page.locator("pre.tex .katex").count() == 3  # \frac{a}{b}, a = 10, \Delta G = -RT\ln K
        assert page.evaluate("document.fonts.check('16px KaTeX_Main')")
        browser.close()
    assert errors == [], errors
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
