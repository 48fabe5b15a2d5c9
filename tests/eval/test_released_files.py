"""Each released file form (tests/eval/fixtures) through `eval score` and `eval run`, under its benchmark name
(`--benchmark NAME --benchmark-file FILE` and `NAME=FILE`) and as a path: the file's own ids, gold answers 100%,
wrong answers 0%, formatting variants of correct answers (case, order, separators, boxed, bold, option text)
100%; a bad gold is a recorded failed grade, not a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from released_helpers import FIXTURES, FORM_IDS, FORMS, fa, gold_model, response_rows, write_jsonl
from typer.testing import CliRunner

from sciresearcher.agent.prompts import render_question
from sciresearcher.cli.eval import eval_app
from sciresearcher.grade.judge import VERDICT_SCHEMA
from sciresearcher.llm.testserver import OpenAITestServer
from sciresearcher.records import Trajectory
from sciresearcher.tasks.registry import load_benchmark


def score(*args: str) -> tuple[dict, CliRunner]:
    result = CliRunner().invoke(eval_app, ["score", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout[result.stdout.index("{"):]), result


@pytest.mark.parametrize(("name", "file", "golds"), FORMS, ids=FORM_IDS)
def test_each_form_loads_under_its_name_with_the_files_own_ids(name, file, golds):
    path = FIXTURES / file
    named = load_benchmark(name, path=path)
    assert named.name == name and [t.id for t in named.tasks] == list(golds)  # the file's own ids, in file order
    assert [t.model_dump() for t in load_benchmark(f"{name}={path}").tasks] == [t.model_dump() for t in named.tasks]
    as_path = load_benchmark(str(path))  # detected by its layout
    assert [(t.id, t.answer_type, t.answer) for t in as_path.tasks] == [(t.id, t.answer_type, t.answer)
                                                                       for t in named.tasks]


@pytest.mark.parametrize(("name", "file", "golds"), FORMS, ids=FORM_IDS)
def test_eval_score_grades_gold_wrong_and_variants(tmp_path: Path, name, file, golds):
    path = FIXTURES / file
    tasks = load_benchmark(name, path=path).tasks
    specs = [["--benchmark", name, "--benchmark-file", str(path)], ["-b", f"{name}={path}"], ["--tasks", str(path)]]
    for kind, expected in (("gold", 1.0), ("variants", 1.0), ("wrong", 0.0)):
        responses = write_jsonl(tmp_path / f"{kind}.jsonl", response_rows(tasks, golds, kind))
        for spec in specs:
            summary, _ = score(*spec, "--responses", str(responses))
            assert summary["missing_tasks"] == 0 and summary["unknown_task_ids"] == []
            assert summary["first_sample_accuracy"] == expected, (kind, spec, summary["by_answer_type"])
            assert summary["mean_sample_accuracy"] == expected, (kind, spec)
            assert summary["pass_at_k"]["1"] == expected


def test_trqa_released_form_is_multi_select_and_never_single_choice():
    for spec in ("trqa-lit", str(FIXTURES / "trqa_lit.jsonl")):
        bench = load_benchmark(spec, path=FIXTURES / "trqa_lit.jsonl" if spec == "trqa-lit" else None)
        assert {t.answer_type for t in bench.tasks} == {"multiSelect"}  # the one-letter gold too
        assert [t.answer for t in bench.tasks] == ["ABD", "BC", "CDE", "B"]
        assert bench.tasks[1].options == ["Cytosine", "Adenine", "Guanine", "Thymine", "Uracil"]
        for task in bench.tasks:
            shown = render_question(task)
            assert "Choose exactly one option" not in shown and "One or more options may be correct" in shown


def test_a_bad_gold_is_a_recorded_failed_grade_in_score_and_in_run(tmp_path: Path):
    rows = [json.loads(line) for line in (FIXTURES / "trqa_lit.jsonl").read_text().splitlines()]
    rows[1]["gt"] = "see discussion"
    bad = write_jsonl(tmp_path / "trqa_bad.jsonl", rows)
    responses = write_jsonl(tmp_path / "r.jsonl", [{"task_id": r["id"], "response": "Answer: B"} for r in rows])
    summary, _ = score("-b", f"trqa-lit={bad}", "-r", str(responses), "--grades-out", str(tmp_path / "g.jsonl"))
    assert summary["grading_failures"] == {"ungradable": 1, "task_ids": ["trqa-lit-0002"]}
    failed = [json.loads(x)["grade"] for x in (tmp_path / "g.jsonl").read_text().splitlines()][1]
    assert failed["method"] == "ungradable" and "see discussion" in failed["reason"] and not failed["correct"]
    assert summary["first_sample_accuracy"] == 0.25  # trqa-lit-0004 (gold B) only

    golds = {r["id"]: {"Mitochondrion"} if r["id"] == "trqa-lit-0004" else set() for r in rows}
    questions = {t.id: t.question for t in load_benchmark("trqa-lit", path=bad).tasks}

    def reply(body):
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        tid = next(t for t, q in questions.items() if q in user)
        return gold_model(golds, questions)(body) if golds[tid] else "Explanation: x\nAnswer: B\nConfidence: 50%"

    with OpenAITestServer(reply) as srv:
        result = CliRunner().invoke(eval_app, ["run", "-b", f"trqa-lit={bad}", "--backend", "openai", "--model", "m",
                                               "--llm.base_url", srv.base_url, "--tools.enabled", "[]", "-q",
                                               "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, (result.output, result.exception)
    trajs = [Trajectory.model_validate_json(x) for x in (tmp_path / "run" / "trajectories.jsonl").read_text().splitlines()]
    assert len(trajs) == 4  # every trajectory kept
    assert [t.grade.method for t in trajs if t.task_id == "trqa-lit-0002"] == ["ungradable"]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["grading_failures"]["ungradable"] == 1 and summary["first_sample_accuracy"] == 0.25


@pytest.mark.parametrize(("name", "file"), [("trqa-lit", "trqa_lit.jsonl"), ("gpqa-diamond", "gpqa_diamond.csv"),
                                            ("pubmedqa", "pubmedqa_ori_pqal.json"), ("litqa2", "litqa2.jsonl")])
def test_eval_run_name_equals_file_with_a_gold_model(tmp_path: Path, name, file):
    golds = next(g for n, f, g in FORMS if (n, f) == (name, file))
    path = FIXTURES / file
    questions = {t.id: t.question for t in load_benchmark(name, path=path).tasks}
    with OpenAITestServer(gold_model(golds, questions)) as srv:
        result = CliRunner().invoke(eval_app, ["run", "-b", f"{name}={path}", "--backend", "openai", "--model", "m",
                                               "--llm.base_url", srv.base_url, "--tools.enabled", "[]", "-q",
                                               "--samples", "3", "--k", "1,3", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, (result.output, result.exception)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["benchmark"]["name"] == name and summary["n_tasks"] == len(golds)
    assert summary["first_sample_accuracy"] == 1.0 and summary["pass_at_k"] == {"1": 1.0, "3": 1.0}
    assert summary["maj_at_k"]["3"] == 1.0  # votes compared in the task's own option order


def test_eval_run_hle_with_the_judge_sends_the_official_call_with_the_raw_question(tmp_path: Path):
    path = FIXTURES / "hle.jsonl"
    golds = next(g for n, f, g in FORMS if f == "hle.jsonl")
    raw = {json.loads(x)["id"]: json.loads(x)["question"] for x in path.read_text().splitlines()}
    questions = {t.id: t.question for t in load_benchmark("hle", path=path).tasks}
    judged: list[dict] = []
    with OpenAITestServer(gold_model(golds, questions, judged)) as srv:
        result = CliRunner().invoke(eval_app, [
            "run", "-b", "hle-bio-chem-gold", "--benchmark-file", str(path), "--backend", "openai", "--model", "m",
            "--llm.base_url", srv.base_url, "--tools.enabled", "[]", "-q", "--out", str(tmp_path / "run"),
            "--judge.llm.backend", "openai", "--judge.llm.base_url", srv.base_url,
            "--judge.llm.model", "o3-mini-2025-01-31"])
    assert result.exit_code == 0, (result.output, result.exception)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["grader"] == "hle_judge" and summary["first_sample_accuracy"] == 1.0
    assert len(judged) == 3
    for body in judged:
        assert [m["role"] for m in body["messages"]] == ["user"]  # no extra system message
        assert body["max_completion_tokens"] == 4096 and body["model"] == "o3-mini-2025-01-31"
        assert body["response_format"] == VERDICT_SCHEMA
        assert not {"temperature", "top_p", "seed"} & set(body)
        question = body["messages"][0]["content"].split("[question]: ", 1)[1].split("\n\n[response]: ", 1)[0]
        assert question in raw.values()  # the file's question, byte for byte
        assert "Choose exactly one option" not in question


def test_eval_score_hle_without_a_judge_warns(tmp_path: Path):
    responses = write_jsonl(tmp_path / "r.jsonl", [{"task_id": "66f0c1a2b3d4e5f60718293a", "response": "RuBisCO"}])
    _, result = score("-b", f"hle={FIXTURES / 'hle.jsonl'}", "-r", str(responses))
    assert "graded with the HLE judge in the paper" in result.stderr and "--judge-model" in result.stderr
    assert "2 of 3 tasks have no response" in result.stderr


def test_eval_score_reads_hle_predictions_json(tmp_path: Path):
    predictions = tmp_path / "hle_model.json"
    predictions.write_text(json.dumps({"66f0c1a2b3d4e5f60718293a": {"model": "m", "response": fa("RuBisCO")},
                                       "66f0c1a2b3d4e5f60718293c": {"model": "m", "response": fa("B")}}))
    summary, _ = score("-b", f"hle={FIXTURES / 'hle.jsonl'}", "-r", str(predictions))
    assert summary["correct_first_samples"] == 2 and summary["missing_tasks"] == 1
