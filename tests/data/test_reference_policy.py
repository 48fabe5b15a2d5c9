"""The offline teacher: the reference policy solves synthesized tasks through the real tools, or gives up."""

from __future__ import annotations

import asyncio
import json
import math
import re
from pathlib import Path

import pytest

from sciresearcher.data.reference_policy import ReferencePolicy, fact_goal
from sciresearcher.data.teacher import run_teacher
from sciresearcher.rollout.config import RolloutConfig
from sciresearcher.synth.computational import run_synthesis
from sciresearcher.synth.config import SynthConfig
from sciresearcher.tasks.files import read_tasks


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """12 offline computational tasks and a BM25 index of their fact documents."""
    from sciresearcher.knowledge.index_build import build_index
    from sciresearcher.knowledge.loaders import load_sources

    root = tmp_path_factory.mktemp("world")
    asyncio.run(run_synthesis(SynthConfig(n=12, seed=3), root / "synth", show_progress=False))
    docs = load_sources([root / "synth" / "facts.jsonl"]).documents
    build_index(docs, root / "index", dense=False)
    return root / "synth" / "tasks.jsonl", root / "index"


def _config(index: Path) -> RolloutConfig:
    return RolloutConfig(concurrency=4, tools={"knowledge": {"index": str(index), "mode": "bm25", "top_k": 5,
                                                             "evidence": {"use_dense": False}},
                                               "sandbox": {"blocked_modules": ["mendeleev", "chemicals"]}})


def _same(raw: str, value: float) -> bool:
    try:
        return math.isclose(float(raw.rstrip(".")), value, rel_tol=1e-9)
    except ValueError:
        return False


def test_fact_goal_drops_the_number():
    assert fact_goal("The standard atomic weight of cobalt is 58.93319 g/mol.") == "standard atomic weight of cobalt"
    assert fact_goal("The density of chromium near room temperature is 7.15 g/cm3.") == (
        "density of chromium near room temperature")
    # never the number (the agent cannot know it before reading), nor a CAS number it cannot know either
    assert fact_goal("Water (CAS 7732-18-5) has the molecular formula H2O and a molar mass of 18.01528 g/mol.") == (
        "molar mass of water")


@pytest.mark.parametrize("query", ["fact", "question", "echo"])
def test_reference_policy_solves_tasks_with_the_real_tools(world, tmp_path: Path, query: str):
    tasks_file, index = world
    tasks = read_tasks(tasks_file)
    summary = asyncio.run(run_teacher(tasks, _config(index), tmp_path / "r", llm=ReferencePolicy(tasks, query=query),
                                      show_progress=False))
    assert summary["accuracy"] == 1.0 and summary["tasks"] == len(tasks)
    echoed = 0
    for line in (tmp_path / "r" / "trajectories.jsonl").read_text().splitlines():
        traj = json.loads(line)
        names = [c["function"]["name"] for m in traj["messages"] if m["role"] == "assistant"
                 for c in (m.get("tool_calls") or [])]
        assert names[0] == "search" and "read" in names and names[-1] == "python"
        first = json.loads(traj["messages"][2]["tool_calls"][0]["function"]["arguments"])["query"]
        task = next(t for t in tasks if t.id == traj["task_id"])
        assert (first == task.question) == (query == "question"), first
        if query == "echo":  # led by the question's own words where the question states the query's tail
            echoed += " ".join(first.split()[:3]) in task.question and not re.search(r"\d", first)
        assert traj["policy"]["backend"] == "reference" and traj["counters"]["tool_errors"] == 0
        read_outputs = [m["content"] for m in traj["messages"] if m["role"] == "tool" and m["name"] == "read"]
        assert all("Most relevant sentences" in text for text in read_outputs)  # real reader output
        code = json.loads([c for m in traj["messages"] if m["role"] == "assistant" for c in (m.get("tool_calls") or [])
                           ][-1]["function"]["arguments"])["code"]
        assert code.rstrip().splitlines()[-1].endswith(':.4g}")') and "#" not in code  # prints the answer as written
        # values assigned in the order the conversation states them: the question's, then the reads' in order
        seen = "\n".join([traj["messages"][1]["content"], *read_outputs])
        assigned = [line.split(" = ", 1)[1] for line in code.splitlines() if re.fullmatch(r"\w+ = [-\d.e+']+", line)]
        offsets = [seen.find(value.strip("'")) if "'" in value else
                   next((m.start() for m in re.finditer(r"[-\d.]+(?:e[-+]?\d+)?", seen)
                         if _same(m.group(), float(value))), None) for value in assigned]
        stated = [o for o in offsets if o is not None]  # a constant no turn states (R) may sit anywhere
        assert len(stated) >= 2 and stated == sorted(stated), (code, offsets)
        printed = [m["content"] for m in traj["messages"] if m["role"] == "tool" and m["name"] == "python"][-1]
        final = traj["messages"][-1]["content"]
        task = next(t for t in tasks if t.id == traj["task_id"])
        assert f"Answer: {printed.strip()}" in final and all(e.doc_id in final for e in task.evidence)  # cited by id
        # the last number before the answer line is the printed value: no formula constant to copy by mistake
        before = final.split("\nAnswer:")[0]
        assert re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", before)[-1] == printed.strip(), final
    assert (echoed > 0) == (query == "echo")


def test_reference_policy_gives_up_when_search_cannot_find_the_source(world, tmp_path: Path):
    from sciresearcher.knowledge.index_build import build_index
    from sciresearcher.records import Document

    tasks_file, _ = world
    tasks = read_tasks(tasks_file)[:3]
    build_index([Document(id="doc:other", title="Unrelated", text="Nothing about chemistry here.")],
                tmp_path / "empty", dense=False)
    summary = asyncio.run(run_teacher(tasks, _config(tmp_path / "empty"), tmp_path / "r", llm=ReferencePolicy(tasks),
                                      show_progress=False))
    assert summary["accuracy"] == 0.0
    traj = json.loads((tmp_path / "r" / "trajectories.jsonl").read_text().splitlines()[0])
    assert "did not list" in traj["messages"][-1]["content"] and traj["grade"]["correct"] is False


def test_a_question_search_that_misses_a_cited_document_searches_its_fact(world, tmp_path: Path):
    """One hit per search: the question finds at most one of a two-document task's sources, and the policy then
    searches the fact of the other (instead of giving up)."""
    tasks_file, index = world
    tasks = [t for t in read_tasks(tasks_file) if len({e.doc_id for e in t.evidence}) > 1]
    assert tasks, "the world fixture should hold a task citing two documents"
    config = _config(index)
    config = config.model_copy(update={"tools": config.tools.model_copy(update={
        "knowledge": config.tools.knowledge.model_copy(update={"top_k": 1})})})
    summary = asyncio.run(run_teacher(tasks, config, tmp_path / "r", llm=ReferencePolicy(tasks, query="question"),
                                      show_progress=False))
    assert summary["accuracy"] == 1.0
    for line in (tmp_path / "r" / "trajectories.jsonl").read_text().splitlines():
        turns = [[c["function"]["name"] for c in m.get("tool_calls") or []]
                 for m in json.loads(line)["messages"] if m["role"] == "assistant"]
        assert turns[0] == ["search"] and set(turns[1]) == {"search"} and "read" in turns[2], turns


def test_a_labelled_print_gives_the_answer_lines_first_digit_a_cue(world, tmp_path: Path):
    """printed="labelled": python prints `Answer: <value>` and the answer line copies it after the same words; the
    explanation then names no number, so `Answer: ` is followed by the value exactly where python printed it."""
    tasks_file, index = world
    tasks = read_tasks(tasks_file)
    summary = asyncio.run(run_teacher(tasks, _config(index), tmp_path / "r",
                                      llm=ReferencePolicy(tasks, printed="labelled"), show_progress=False))
    assert summary["accuracy"] == 1.0
    for line in (tmp_path / "r" / "trajectories.jsonl").read_text().splitlines():
        traj = json.loads(line)
        code = json.loads([c for m in traj["messages"] if m["role"] == "assistant" for c in (m.get("tool_calls") or [])
                           ][-1]["function"]["arguments"])["code"]
        assert code.rstrip().splitlines()[-1].startswith('print(f"Answer: {')
        printed = [m["content"] for m in traj["messages"] if m["role"] == "tool" and m["name"] == "python"][-1].strip()
        final = traj["messages"][-1]["content"]
        assert re.fullmatch(r"Answer: -?\d[\d.e+-]*", printed), printed
        explanation, answer = final.split("\nAnswer: ")
        assert answer.startswith(printed.removeprefix("Answer: ")) and not re.search(r"\d", explanation.split(", python")[1])
    with pytest.raises(ValueError, match="'plain' or 'labelled'"):
        ReferencePolicy([], printed="bare")  # type: ignore[arg-type]


def test_reference_policy_refuses_an_unknown_query_kind():
    with pytest.raises(ValueError, match="'fact', 'question' or 'echo'"):
        ReferencePolicy([], query="keywords")  # type: ignore[arg-type]


def test_an_echo_query_starts_with_the_words_before_the_name_in_the_question():
    from sciresearcher.data.reference_policy import _echo
    from sciresearcher.records import Task

    task = Task(id="t", answer="1", question="How many iron atoms (in units of 10^23) are in a 32.2 cm^3 piece of "
                "iron near room temperature? Give the answer in 1e23 atoms.")
    assert _echo(task, "density of iron near room temperature") == "piece of iron near room temperature density"
    assert _echo(task, "standard atomic weight of iron") == "piece of iron standard atomic weight"
    assert _echo(task, "melting point of water") == "melting point of water"  # nothing the question says


def test_a_demonstrated_mistake_is_an_untrained_cut_call_then_the_whole_call(world, tmp_path: Path):
    from sciresearcher.data.config import FilterConfig
    from sciresearcher.data.rejection import reject_reasons
    from sciresearcher.records import Trajectory
    from sciresearcher.train.rows import trajectory_to_sft_row

    tasks_file, index = world
    tasks = read_tasks(tasks_file)
    policy = ReferencePolicy(tasks, mistakes=0.5)
    shown = {t.id for t in tasks if policy.shows_mistake(t)}
    assert 0 < len(shown) < len(tasks)  # a share of the tasks, picked by id
    assert shown == {t.id for t in tasks if ReferencePolicy(tasks, mistakes=0.5).shows_mistake(t)}
    summary = asyncio.run(run_teacher(tasks, _config(index), tmp_path / "r", llm=policy, show_progress=False))
    assert summary["accuracy"] == 1.0
    for line in (tmp_path / "r" / "trajectories.jsonl").read_text().splitlines():
        traj = Trajectory.model_validate_json(line)
        turns = [m for m in traj.messages if m.role == "assistant"]
        python = [(m, c) for m in turns for c in (m.tool_calls or []) if c.function.name == "python"]
        outputs = [m.content or "" for m in traj.messages if m.role == "tool" and m.name == "python"]
        if traj.task_id not in shown:
            assert len(python) == 1 and all(m.weight is None for m in turns)
            assert traj.counters.tool_errors == 0
            continue
        (cut_turn, cut), (whole_turn, whole) = python
        cut_code, code = (json.loads(c.function.arguments)["code"] for c in (cut, whole))
        # the first call is the whole code cut inside its print, in a turn of weight 0; the sandbox's error comes
        # back (a real SyntaxError), and the next turn sends the whole code, trained on
        assert code.startswith(cut_code.rstrip("\n")) and cut_code.rstrip().splitlines()[-1].startswith('print(f"{')
        assert cut_turn.weight == 0 and whole_turn.weight is None
        assert "SyntaxError" in outputs[0] and _same(outputs[1].strip(), float(outputs[1]))
        assert traj.counters.tool_errors == 1 == traj.counters.untrained_tool_errors
        # rejection sampling does not hold the demonstrated error against it, but still counts a real one
        assert reject_reasons(traj, FilterConfig(max_tool_errors=0)) == []
        real = traj.model_copy(update={"counters": traj.counters.model_copy(update={"tool_errors": 2})})
        assert "tool_errors" in reject_reasons(real, FilterConfig(max_tool_errors=0))
        row = trajectory_to_sft_row(traj)
        assert [m.get("weight") for m in row["messages"] if m["role"] == "assistant"].count(0) == 1
