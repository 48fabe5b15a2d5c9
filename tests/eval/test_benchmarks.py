"""Loaders: the shared eval files with their counts, local-file forms of the online sets, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sciresearcher.errors import ConfigError, DataError
from sciresearcher.grade.graders import grade
from sciresearcher.tasks.benchmark import options_for_sample, split_options
from sciresearcher.tasks.registry import load_benchmark


@pytest.mark.parametrize("name,count,answer_type", [
    ("supergpqa-hard-bio", 92, "multipleChoice"), ("pubmedqa", 500, "yesNo"), ("scibench", 223, "numeric"),
    ("scifact", 809, "multipleChoice"),
])
def test_shared_eval_files_load_with_their_counts(shared_data: Path, name, count, answer_type, monkeypatch):
    monkeypatch.setenv("SCIRESEARCHER_DATA", str(shared_data))
    bench = load_benchmark(name)
    assert bench.counts()["tasks"] == count
    assert {t.answer_type for t in bench.tasks} == {answer_type}
    # every gold answer, given back as the answer, grades correct (graders and loaders agree)
    for t in bench.tasks:
        reply = t.answer + (f" {t.unit}" if t.unit else "")
        assert grade(t, f"Explanation: -\nAnswer: {reply}\nConfidence: 50%").correct, t.id


def test_supergpqa_options_are_parsed_out_of_the_query(shared_data: Path, monkeypatch):
    monkeypatch.setenv("SCIRESEARCHER_DATA", str(shared_data))
    bench = load_benchmark("supergpqa")
    first = bench.tasks[0]
    assert len(first.options) == 10 and first.options[6].startswith("2.56") and first.answer == "G"
    assert "Answer Choices" not in first.question and first.category == "Biology/Genetics"
    assert all(t.options and len(t.options) >= 4 for t in bench.tasks)


def test_trqa_csv_multi_select(tmp_path: Path):
    path = tmp_path / "trqa.csv"
    path.write_text('data_id,question,answer\n7,"Which apply?\nA. one\nB. two\nC. three\nD. four",BCD\n')
    bench = load_benchmark("trqa-lit", path=path)
    task = bench.tasks[0]
    assert task.answer_type == "multiSelect" and task.answer == "BCD" and task.options == ["one", "two", "three", "four"]
    assert grade(task, "Answer: D, B and C").correct and not grade(task, "Answer: BC").correct


def test_gpqa_shuffles_options_per_sample_with_a_seed(tmp_path: Path):
    path = tmp_path / "gpqa.csv"
    path.write_text("Record ID,Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3,"
                    "High-level domain\nrec1,What?,right,w1,w2,w3,Chemistry\n")
    task = load_benchmark("gpqa-diamond", path=path).tasks[0]
    orders = set()
    for s in range(12):
        shown, order = options_for_sample(task, s, seed=0)
        assert shown.options[ord(shown.answer) - 65] == "right"
        assert options_for_sample(task, s, seed=0)[1] == order  # reproducible
        orders.add(tuple(order))
    assert len(orders) > 3


def test_litqa2_has_insufficient_information_option(tmp_path: Path):
    path = tmp_path / "litqa2.jsonl"
    path.write_text(json.dumps({"id": "q1", "question": "Which?", "ideal": "X", "distractors": ["Y", "Z"]}) + "\n")
    task = load_benchmark("litqa2", path=path).tasks[0]
    assert any(o.startswith("Insufficient information") for o in task.options) and len(task.options) == 4
    assert task.options[ord(task.answer) - 65] == "X" and task.id == "q1"  # seeded order; the file's own id


def test_hle_local_file_in_both_schemas(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    hle = tmp_path / "hle.jsonl"
    hle.write_text(json.dumps({"id": "h1", "question": "Name the enzyme.", "answer": "RuBisCO",
                               "answer_type": "exactMatch", "category": "Biology/Medicine", "image": ""}) + "\n"
                   + json.dumps({"id": "h2", "question": "Pick.\n\nAnswer Choices:\nA. x\nB. y", "answer": "B",
                                 "answer_type": "multipleChoice", "category": "Chemistry"}) + "\n")
    bench = load_benchmark("hle", path=hle)
    assert bench.grader == "judge" and [t.answer_type for t in bench.tasks] == ["exactMatch", "multipleChoice"]
    assert bench.tasks[1].options == ["x", "y"]
    query = tmp_path / "hle_query.jsonl"
    query.write_text(json.dumps({"id": "h3", "query": "Q?", "gt": "42", "category": "Chemistry",
                                 "answer_type": "exactMatch"}) + "\n")
    assert load_benchmark("hle-bio-chem-gold", path=query).tasks[0].answer == "42"
    with pytest.raises(ConfigError) as exc:
        load_benchmark("hle")  # gated, no token: says how to get access, before any download
    assert "HF_TOKEN" in str(exc.value) and "request access" in str(exc.value)


def test_unknown_benchmark_and_bad_files(tmp_path: Path):
    with pytest.raises(ConfigError) as exc:
        load_benchmark("mmlu")
    assert "known benchmarks" in str(exc.value) and "gpqa-diamond" in str(exc.value)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "q", "answer": "x"}\n{broken\n')
    with pytest.raises(DataError, match="bad.jsonl:2"):
        load_benchmark(str(bad))
    with pytest.raises(DataError, match="needs a local file"):
        load_benchmark("trqa-lit")


def test_split_options_leaves_plain_questions_alone():
    assert split_options("What is ATP?") == ("What is ATP?", None)
    stem, opts = split_options("Pick one\nA. alpha\nB. beta\nC. gamma")
    assert stem == "Pick one" and opts == ["alpha", "beta", "gamma"]


def test_split_options_inline():
    stem, opts = split_options("Which targets apply? A. EGFR B. KRAS C. TP53 D. BRAF")
    assert stem == "Which targets apply?" and opts == ["EGFR", "KRAS", "TP53", "BRAF"]
    assert split_options("Vitamin A. is needed.")[1] is None


def test_list_command_prints_counts(shared_data: Path, monkeypatch):
    from typer.testing import CliRunner

    from sciresearcher.cli.eval import eval_app

    monkeypatch.setenv("SCIRESEARCHER_DATA", str(shared_data))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    result = CliRunner().invoke(eval_app, ["list"])
    assert result.exit_code == 0, result.output
    assert "supergpqa-hard-bio: 92 tasks" in result.stdout and "scibench: 223 tasks" in result.stdout
    assert "hle-bio-chem-gold: not available here" in result.stdout


# ---- released layouts: named loaders check the file, NAME=FILE, the file's own ids, Task row errors

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(("name", "file", "looks_like"), [
    ("hle-bio-chem-gold", "gpqa_diamond.csv", "a GPQA CSV"),
    ("hle-bio-chem-gold", "trqa_lit.jsonl", "several gold letters (TRQA-lit)"),
    ("supergpqa-hard-bio", "trqa_lit.jsonl", "several gold letters (TRQA-lit)"),
    ("supergpqa-hard-bio", "hle.jsonl", "the HLE schema"),
    ("gpqa-diamond", "hle.jsonl", "the HLE schema"),
    ("trqa-lit", "pubmedqa_ori_pqal.json", "ori_pqal.json"),
    ("pubmedqa", "scifact_claims.jsonl", "SciFact claims"),
    ("scifact", "pubmedqa.jsonl", "PubMedQA"),
    ("litqa2", "supergpqa_hard_bio.jsonl", "single answers"),
])
def test_a_named_loader_refuses_another_benchmarks_file(name, file, looks_like):
    with pytest.raises(DataError) as exc:
        load_benchmark(name, path=FIXTURES / file)
    message = str(exc.value)
    assert f"is not a {name} file" in message and looks_like in message and "hint:" in message


def test_name_equals_file_and_its_conflicts(tmp_path: Path):
    path = FIXTURES / "gpqa_diamond.csv"
    assert load_benchmark(f"GPQA={path}").name == "gpqa-diamond"
    with pytest.raises(ConfigError, match="names a file and --benchmark-file"):
        load_benchmark(f"gpqa={path}", path=FIXTURES / "hle.jsonl")
    with pytest.raises(ConfigError, match="not a benchmark name"):
        load_benchmark(str(path), path=path)
    with pytest.raises(DataError) as exc:
        load_benchmark("trqa-lit")
    assert "--benchmark trqa-lit --benchmark-file FILE" in str(exc.value) and "trqa-lit=FILE" in str(exc.value)


def test_score_accepts_ids_with_or_without_a_namespace_prefix(tmp_path: Path):
    from typer.testing import CliRunner

    from sciresearcher.cli.eval import eval_app

    rows = [{"task_id": "90000001", "response": "Answer: yes"}, {"task_id": "pubmedqa:90000002", "response": "no"}]
    responses = tmp_path / "r.jsonl"
    responses.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for file in ("pubmedqa.jsonl", "pubmedqa_ori_pqal.json"):  # ids "pubmedqa:<pmid>" and "<pmid>"
        result = CliRunner().invoke(eval_app, ["score", "-b", "pubmedqa", "--benchmark-file", str(FIXTURES / file),
                                               "-r", str(responses)])
        assert result.exit_code == 0, (result.output, result.exception)
        summary = json.loads(result.stdout[result.stdout.index("{"):])
        assert summary["unknown_task_ids"] == [] and summary["correct_first_samples"] == 2


def test_pubmedqa_test_responses_against_the_dev_file_fail_loudly(tmp_path: Path):
    from typer.testing import CliRunner

    from sciresearcher.cli.eval import eval_app

    responses = tmp_path / "test_split.jsonl"
    responses.write_text("".join(json.dumps({"task_id": str(9100 + i), "response": "yes"}) + "\n" for i in range(9)))
    result = CliRunner().invoke(eval_app, ["score", "--tasks", str(FIXTURES / "pubmedqa.jsonl"), "-r", str(responses)])
    assert result.exit_code != 0
    message = str(result.exception)
    assert "9 of 9 responses name task ids that are not in" in message and "9100, 9101" in message
    assert "--benchmark-file" in message and "--allow-unknown-ids" in message


def test_a_bad_task_row_names_its_fields(tmp_path: Path):
    bad = tmp_path / "tasks.jsonl"
    bad.write_text(json.dumps({"id": "t1", "question": "q", "answer": "B", "schema_version": 1}) + "\n"
                   + json.dumps({"id": "t2", "question": "q", "answer_type": "mc", "options": "A,B",
                                 "schema_version": 1}) + "\n")
    with pytest.raises(DataError) as exc:
        load_benchmark(str(bad))
    message = str(exc.value)
    assert "tasks.jsonl:2: not a Task record" in message and "validation errors for Task" not in message
    assert "answer: missing" in message and "answer_type: Input should be" in message and "(got 'mc')" in message
    assert "options: Input should be a valid list" in message


def test_a_trqa_file_with_only_single_letter_golds_given_as_a_path_is_still_multi_select(tmp_path: Path):
    rows = [json.loads(x) for x in (FIXTURES / "trqa_lit.jsonl").read_text().splitlines()][3:]  # gold "B" only
    path = tmp_path / "trqa_subset.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = load_benchmark(str(path)).tasks[0]  # its query says more than one option may be correct
    assert task.answer_type == "multiSelect" and task.answer == "B"
    supergpqa = load_benchmark(str(FIXTURES / "supergpqa_hard_bio.jsonl")).tasks
    assert {t.answer_type for t in supergpqa} == {"multipleChoice"}
