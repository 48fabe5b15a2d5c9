"""`eval run` end to end with the scripted LLM: grading, resume, summary; `eval score`; the report."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from eval_helpers import TASKS, SampleAwareLLM, echo_tools, read_jsonl
from typer.testing import CliRunner

from sciresearcher.cli.eval import eval_app
from sciresearcher.eval.config import EvalConfig
from sciresearcher.eval.harness import run_eval
from sciresearcher.records import Trajectory


def test_run_grades_every_sample_and_writes_summary(scripted_run: Path):
    trajs = [Trajectory.model_validate(r) for r in read_jsonl(scripted_run / "trajectories.jsonl")]
    assert sorted(t.id for t in trajs) == sorted(f"{t.id}#{s}" for t in TASKS for s in range(2))
    assert all(t.grade is not None and t.reward == t.grade.score for t in trajs)
    assert all(t.counters.tool_calls == 1 for t in trajs)
    summary = json.loads((scripted_run / "summary.json").read_text())
    # sample 0: t1 right, t2 wrong (A,G), t3 right, t4 right; sample 1: t1 right, t2 right, t3 right (kg/kmol), t4 wrong
    assert summary["accuracy"] == 0.75 and summary["pass_at_k"] == {"1": 0.75, "2": 1.0}
    assert summary["by_answer_type"]["multiSelect"]["accuracy"] == 0.0
    assert summary["depth"]["by_difficulty"]["hard"]["n"] == 4


def test_resume_skips_finished_and_redoes_nothing(scripted_run: Path, tasks_file: Path):
    llm = SampleAwareLLM()
    cfg = EvalConfig(benchmark=str(tasks_file), samples=2, k=[1, 2], concurrency=3,
                     llm={"backend": "openai", "model": "scripted"}, tools={"enabled": []})
    before = (scripted_run / "trajectories.jsonl").read_text()
    summary = asyncio.run(run_eval(cfg, scripted_run, llm=llm, tools_factory=echo_tools, show_progress=False))
    assert llm.requests == [] and (scripted_run / "trajectories.jsonl").read_text() == before
    assert summary["pass_at_k"]["2"] == 1.0
    # more samples: only the new ones run
    cfg3 = cfg.model_copy(update={"samples": 3})
    (scripted_run / "config.yaml").unlink()
    asyncio.run(run_eval(cfg3, scripted_run, llm=llm, tools_factory=echo_tools, show_progress=False))
    assert len(llm.requests) == 2 * len(TASKS)  # a tool turn and an answer turn per new trajectory
    assert len(read_jsonl(scripted_run / "trajectories.jsonl")) == 3 * len(TASKS)


def test_provider_failure_is_recorded_not_raised(tmp_path: Path, tasks_file: Path):
    from sciresearcher.errors import ProviderError
    from sciresearcher.testing import ScriptedLLM

    llm = ScriptedLLM(lambda m, t: ProviderError("boom", status_code=500))
    cfg = EvalConfig(benchmark=str(tasks_file), llm={"backend": "openai", "model": "x"}, tools={"enabled": []})
    summary = asyncio.run(run_eval(cfg, tmp_path / "r", llm=llm, tools_factory=echo_tools, show_progress=False))
    assert summary["accuracy"] == 0.0 and summary["status"] == {"error": 4}
    traj = Trajectory.model_validate(read_jsonl(tmp_path / "r" / "trajectories.jsonl")[0])
    assert traj.grade and not traj.grade.correct and traj.grade.reason == "no final answer"


def test_score_command_refuses_unknown_ids_unless_allowed_and_counts_missing(tmp_path: Path, tasks_file: Path):
    resp = tmp_path / "responses.jsonl"
    rows = [{"task_id": "t1", "response": "Answer: B"}, {"task_id": "t1", "response": "Answer: (C)"},
            {"task_id": "t2", "response": "\\boxed{CA}"}, {"task_id": "t2", "response": "Answer: A"},
            {"task_id": "nope", "response": "Answer: A"}]
    resp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    grades = tmp_path / "grades.jsonl"
    args = ["score", "--tasks", str(tasks_file), "--responses", str(resp), "--k", "1,2", "--grades-out", str(grades)]
    refused = CliRunner().invoke(eval_app, args)
    assert refused.exit_code != 0 and "1 of 5 responses" in str(refused.exception) and "nope" in str(refused.exception)
    result = CliRunner().invoke(eval_app, [*args, "--allow-unknown-ids"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    assert summary["unknown_task_ids"] == ["nope"]
    assert summary["n_tasks"] == 4 and summary["missing_tasks"] == 2 and summary["accuracy"] == 0.5
    # the denominator is every task, overall and per category: t3, t4 (Chemistry) have no response
    assert summary["by_category"]["Chemistry"] == {"n": 2, "correct": 0, "missing": 2, "accuracy": 0.0}
    assert summary["pass_at_k"] == {"1": 0.25, "2": 0.5}  # t1, t2: 1 of 2 samples right; t3, t4: none (0)
    # first samples: t1, t2 right (2 of 4 tasks); all samples: a quarter right per task on average
    assert summary["first_sample_accuracy"] == 0.5 and summary["mean_sample_accuracy"] == 0.25
    assert "every task" in summary["definitions"]["denominator"]
    assert len(read_jsonl(grades)) == 4


def test_report_command_on_a_run(scripted_run: Path):
    from sciresearcher.cli.eval import report_command

    path = report_command(scripted_run, None) or scripted_run / "report.html"
    html = Path(scripted_run / "report.html").read_text()
    assert "<svg" in html and "t2#0" in html and "multi_select" in html
    # the metrics are named: first-sample accuracy beside mean accuracy over samples, calibration corrected first
    assert "first-sample accuracy" in html and "mean accuracy over samples" in html and "6/8 samples correct" in html
    assert html.index("<th>calibration error</th>") < html.index("calibration error (official HLE script)")
    assert "ties: first-given answer" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script src" not in html and "<link" not in html
    assert path


def test_unknown_benchmark_lists_known_ones():
    result = CliRunner().invoke(eval_app, ["run", "--benchmark", "no-such-bench", "--model", "x",
                                           "--backend", "openai", "--out", "/tmp/never-used-run"])
    assert result.exit_code != 0
    assert "supergpqa-hard-bio" in str(result.exception) and "trqa-lit" in str(result.exception)


def test_judge_grading_in_the_harness(tmp_path: Path, tasks_file: Path):
    from sciresearcher.testing import ScriptedLLM

    verdict = {"extracted_final_answer": "B", "reasoning": "matches", "correct": "yes", "confidence": 70, "strict": True}
    judge_llm = ScriptedLLM(lambda m, t: json.dumps(verdict), model="o3-mini-2025-01-31")
    cfg = EvalConfig(benchmark=str(tasks_file), grader="judge", limit=2, llm={"backend": "openai", "model": "s"},
                     tools={"enabled": []})
    summary = asyncio.run(run_eval(cfg, tmp_path / "j", llm=SampleAwareLLM(), judge_llm=judge_llm,
                                   tools_factory=echo_tools, show_progress=False))
    assert summary["grader"] == "hle_judge" and summary["accuracy"] == 1.0
    traj = Trajectory.model_validate(read_jsonl(tmp_path / "j" / "trajectories.jsonl")[0])
    assert traj.grade.method == "hle_judge" and traj.grade.judge["strict"] is True
    assert any((tmp_path / "j" / "judge_cache").iterdir())
    assert "[correct_answer]:" in judge_llm.requests[0].messages[-1].content


def test_rollout_tools_share_search_and_read_and_block_benchmark_pages():
    from sciresearcher.rollout.one import rollout_tools
    from sciresearcher.tasks.registry import BENCHMARK_PAGES

    cfg = EvalConfig(tools={"enabled": ["search", "read", "python"]})
    toolbox = rollout_tools(cfg)
    assert set(BENCHMARK_PAGES) <= set(toolbox.config.knowledge.blocklist)
    assert not set(BENCHMARK_PAGES) & set(rollout_tools(EvalConfig(block_benchmark_pages=False)).config.knowledge.blocklist)

    async def go():
        sessions = []
        for _ in range(3):
            async with toolbox() as tools:
                sessions.append({t.__name__: t for t in tools})
        return sessions

    sessions = asyncio.run(go())
    assert [sorted(s) for s in sessions] == [["python", "read", "search"]] * 3
    assert sessions[0]["search"] is sessions[2]["search"] and sessions[0]["read"] is sessions[2]["read"]
    assert sessions[0]["python"] is not sessions[1]["python"]  # a fresh sandbox per trajectory



def test_report_on_an_ungraded_run_without_summary(tmp_path: Path):
    from sciresearcher.eval.report import write_report
    from sciresearcher.records import Evidence, Message, Policy, SubCall

    traj = Trajectory(id="q:1#0", task_id="q:1", policy=Policy(backend="local", model="m"),
                      messages=[Message.system("s"), Message.user("What is <b>ATP</b>?"),
                                Message(role="assistant", content="Answer: energy")],
                      subcalls=[SubCall(tool="read", kind="evidence", output="o", evidence=[
                          Evidence(doc_id="doi:1", level="sentence", text="ATP stores energy", url="https://doi.org/1")])])
    (tmp_path / "trajectories.jsonl").write_text(traj.model_dump_json() + "\n")
    html = write_report(tmp_path).read_text()
    assert "ungraded" in html and "&lt;b&gt;ATP&lt;/b&gt;" in html and 'href="https://doi.org/1"' in html
    assert "renderMathInElement" not in html and len(html) < 100_000  # no math: KaTeX is left out


def test_report_with_latex_inlines_katex_once(tmp_path: Path):
    from sciresearcher.eval.report import write_report
    from sciresearcher.records import Message, Policy

    traj = Trajectory(id="q:1#0", task_id="q:1", policy=Policy(backend="local", model="m"),
                      messages=[Message.system("s"), Message.user("What is $x^2$ at $x = 3$?"),
                                Message(role="assistant", content="Answer: 9")])
    (tmp_path / "trajectories.jsonl").write_text(traj.model_dump_json() + "\n")
    html = write_report(tmp_path).read_text()
    assert html.count("renderMathInElement(pre, options)") == 1 and "data:font/woff2;base64," in html
    assert 'class="tex"' in html and "fonts/KaTeX" not in html  # fonts inlined: nothing to fetch
    assert len(html) < 800_000  # one self-contained file, KaTeX and its fonts included


def test_turns_cut_at_max_tokens_are_counted_and_warned_about(tmp_path: Path, tasks_file: Path, caplog):
    """A budget too small for the routine (the demo's python turn is ~130 tokens; 128 cut a third of them) shows
    up as cut turns in the summary and a warning, not as a mysteriously weak model."""
    from sciresearcher.llm.base import ChatResult
    from sciresearcher.records import Message, Usage
    from sciresearcher.testing import ScriptedLLM

    cut = ChatResult(message=Message(role="assistant", content="Explanation: adding the two"),
                     usage=Usage(prompt_tokens=10, completion_tokens=8), finish_reason="length", model="x")
    cfg = EvalConfig(benchmark=str(tasks_file), llm={"backend": "openai", "model": "x"}, tools={"enabled": []},
                     agent={"sampling": {"max_tokens": 8}})
    with caplog.at_level("WARNING"):
        summary = asyncio.run(run_eval(cfg, tmp_path / "r", llm=ScriptedLLM(lambda m, t: cut),
                                       tools_factory=echo_tools, show_progress=False))
    assert summary["cut_turns"] == {"turns": len(TASKS), "share": 1.0, "trajectories": len(TASKS)}
    assert "stopped at max_tokens=8" in caplog.text
    summary = asyncio.run(run_eval(cfg, tmp_path / "ok", llm=SampleAwareLLM(), tools_factory=echo_tools,
                                   show_progress=False))
    assert summary["cut_turns"]["turns"] == 0
