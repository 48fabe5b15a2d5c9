"""The HLE judge: official prompt text, verdict parsing (JSON and field lines), errors, and the cache."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from sciresearcher.errors import JudgeError
from sciresearcher.grade.judge import (
    DEFAULT_JUDGE_MODEL,
    JSON_INSTRUCTION,
    JUDGE_PROMPT,
    VERDICT_SCHEMA,
    ExtractedAnswer,
    HLEJudge,
    parse_verdict,
    render_judge_prompt,
)
from sciresearcher.testing import ScriptedLLM

VERDICT = {"extracted_final_answer": "RuBisCO", "reasoning": "Same enzyme.", "correct": "yes", "confidence": 85,
           "strict": True}


# tests/eval/fixtures/hle_judge_prompt.txt holds the value of JUDGE_PROMPT in centerforaisafety/hle,
# hle_eval/run_judge_results.py, at commit 87c92ead95bdd49d0598a3e16e926932bb0d12cc (the file last changed in
# a59048963171c5b9cfe89fbcb97ddde39b540897; MIT licence), written out byte for byte (no trailing newline).
OFFICIAL_PROMPT = Path(__file__).parent / "fixtures" / "hle_judge_prompt.txt"


def test_prompt_is_the_official_string_byte_for_byte():
    assert JUDGE_PROMPT.encode("utf-8") == OFFICIAL_PROMPT.read_bytes()


def test_official_prompt_text():
    assert DEFAULT_JUDGE_MODEL == "o3-mini-2025-01-31"
    assert JUDGE_PROMPT.startswith("Judge whether the following [response] to [question] is correct or not based on "
                                   "the precise and unambiguous [correct_answer] below.")
    assert "Put 100 if there is no confidence score available." in JUDGE_PROMPT
    assert "if there if there is any inconsistency" in JUDGE_PROMPT  # official typo kept
    text = render_judge_prompt("Q?", "Answer: x", "y")
    assert "[question]: Q?" in text and "[response]: Answer: x" in text and "[correct_answer]: y" in text


@pytest.mark.parametrize("reply", [
    json.dumps(VERDICT),
    "```json\n" + json.dumps(VERDICT) + "\n```",
    "Sure. " + json.dumps(VERDICT) + " Done.",
    "extracted_final_answer: RuBisCO\n\nreasoning: Same enzyme.\n\ncorrect: yes\n\nconfidence: 85%",
    "**extracted_final_answer:** RuBisCO\n**reasoning:** Same enzyme.\n**correct:** Yes\n**confidence:** 85",
])
def test_parse_verdict_forms(reply):
    v = parse_verdict(reply)
    assert v["correct"] == "yes" and v["extracted_final_answer"] == "RuBisCO" and v["confidence"] == 85


def test_unreadable_verdict_raises_judge_error():
    with pytest.raises(JudgeError, match="no yes/no"):
        parse_verdict("I think it is probably right.")
    judge = HLEJudge(ScriptedLLM(["hmm", "still unsure", "no idea"]), retries=2)
    with pytest.raises(JudgeError):
        asyncio.run(judge.grade("Q?", "Answer: x", "y"))


def test_judge_grade_cache_and_retry(tmp_path: Path):
    llm = ScriptedLLM(["garbled", json.dumps({**VERDICT, "correct": "no", "reasoning": "differs"})], model="judge-m")
    judge = HLEJudge(llm, cache_dir=tmp_path / "cache", retries=1)
    g = asyncio.run(judge.grade("Q?", "Explanation: e\nAnswer: Rubisco\nConfidence: 85%", "RuBisCO"))
    assert not g.correct and g.method == "hle_judge" and g.judge["correct"] == "no" and g.reason == "differs"
    assert "[correct_answer]: RuBisCO" in llm.requests[0].messages[-1].content
    again = HLEJudge(ScriptedLLM([], model="judge-m"), cache_dir=tmp_path / "cache")
    g2 = asyncio.run(again.grade("Q?", "Explanation: e\nAnswer: Rubisco\nConfidence: 85%", "RuBisCO"))
    assert g2.judge == g.judge and "cached" in g2.reason
    empty = asyncio.run(again.grade("Q?", "", "RuBisCO"))
    assert not empty.correct and empty.reason == "no response to judge"


def test_the_official_call_by_default():
    llm = ScriptedLLM([json.dumps(VERDICT)])
    asyncio.run(HLEJudge(llm).grade("Q?", "Answer: RuBisCO", "RuBisCO"))
    request = llm.requests[0]
    assert [m.role for m in request.messages] == ["user"]  # the prompt is the only message
    assert request.messages[0].content == render_judge_prompt("Q?", "Answer: RuBisCO", "RuBisCO")
    assert request.sampling == {"max_completion_tokens": 4096, "response_format": VERDICT_SCHEMA}


def test_verdict_schema_is_what_the_sdk_sends_for_the_official_model():
    parsing = pytest.importorskip("openai.lib._parsing._completions")
    assert parsing.type_to_response_format_param(ExtractedAnswer) == VERDICT_SCHEMA
    fields = {name: str(f.annotation) for name, f in ExtractedAnswer.model_fields.items()}
    assert list(fields) == ["extracted_final_answer", "reasoning", "correct", "confidence", "strict"]
    assert fields["correct"] == "typing.Literal['yes', 'no']" and fields["strict"] == "typing.Literal[True]"


def test_fallback_without_structured_output_adds_only_its_json_instruction():
    llm = ScriptedLLM(["extracted_final_answer: RuBisCO\nreasoning: same\ncorrect: yes\nconfidence: 90"])
    g = asyncio.run(HLEJudge(llm, structured_output=False).grade("Q?", "Answer: RuBisCO", "RuBisCO"))
    request = llm.requests[0]
    assert g.correct and [m.role for m in request.messages] == ["system", "user"]
    assert request.messages[0].content == JSON_INSTRUCTION and "response_format" not in request.sampling
    assert request.messages[1].content == render_judge_prompt("Q?", "Answer: RuBisCO", "RuBisCO")


def test_the_judge_is_given_the_raw_question():
    from sciresearcher.grade.outcome import grade_outcome, judge_question
    from sciresearcher.tasks.benchmark import options_for_sample
    from sciresearcher.tasks.loaders import tasks_from_hle_rows

    raw = "Pick the peptide bond.\n\nAnswer Choices:\nA. glycosidic\nB. peptide"
    task = tasks_from_hle_rows([{"id": "h", "question": raw, "answer": "B", "answer_type": "multipleChoice"}],
                               "hle", "x")[0]
    assert task.options == ["glycosidic", "peptide"] and judge_question(task) == raw
    llm = ScriptedLLM([json.dumps(VERDICT)])
    asyncio.run(grade_outcome(task, "Answer: B", HLEJudge(llm)))
    assert f"[question]: {raw}\n\n[response]: Answer: B" in llm.requests[0].messages[0].content
    # reordered options (GPQA): the options as that sample saw them, without an answer instruction
    shuffled = task.model_copy(update={"metadata": {**task.metadata, "shuffle": True}})
    shown, order = options_for_sample(shuffled, 1)
    text = judge_question(shown)
    assert text.startswith("Pick the peptide bond.\n\nAnswer Choices:\nA. ") and "Choose" not in text
    assert f"{'AB'[order.index(1)]}. peptide" in text


def test_a_failed_judge_call_is_a_recorded_failed_grade_in_score():
    from sciresearcher.errors import ProviderError
    from sciresearcher.eval.score import score_responses
    from sciresearcher.records import Task
    from sciresearcher.tasks.benchmark import Benchmark

    bench = Benchmark("hle-bio-chem-gold", [Task(id="h1", question="Q?", answer="x"),
                                            Task(id="h2", question="Q2?", answer="y")], "mem", grader="judge")
    replies = iter([ProviderError("down", status_code=500), json.dumps({**VERDICT, "correct": "yes"})])
    judge = HLEJudge(ScriptedLLM(lambda m, t: next(replies)), retries=0)
    summary, graded = asyncio.run(score_responses(bench, [{"task_id": "h1", "response": "Answer: x"},
                                                          {"task_id": "h2", "response": "Answer: y"}], [1], judge))
    assert graded[0]["grade"]["reason"].startswith("judge failed: ") and graded[1]["grade"]["correct"]
    assert summary["grading_failures"] == {"judge_failed": 1, "task_ids": ["h1"]}
    assert summary["first_sample_accuracy"] == 0.5
