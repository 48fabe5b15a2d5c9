"""The HLE judge: official prompt text, verdict parsing (JSON and field lines), errors, and the cache."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from sciresearcher.errors import JudgeError
from sciresearcher.grade.judge import (
    DEFAULT_JUDGE_MODEL,
    JUDGE_PROMPT,
    HLEJudge,
    parse_verdict,
    render_judge_prompt,
)
from sciresearcher.testing import ScriptedLLM

VERDICT = {"extracted_final_answer": "RuBisCO", "reasoning": "Same enzyme.", "correct": "yes", "confidence": 85,
           "strict": True}


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


def test_structured_output_sends_response_format():
    llm = ScriptedLLM([json.dumps(VERDICT)])
    asyncio.run(HLEJudge(llm, structured_output=True).grade("Q?", "Answer: RuBisCO", "RuBisCO"))
    assert llm.requests[0].sampling["response_format"]["json_schema"]["name"] == "ExtractedAnswer"
