"""Records: exact JSON round trips, OpenAI-format conversion, strictness, and the final-answer parser."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sciresearcher.agent.final import parse_final_answer
from sciresearcher.records import (
    SCHEMA_VERSION,
    Document,
    Evidence,
    Hop,
    Locator,
    Message,
    Provenance,
    Section,
    SolverVote,
    Task,
    ToolCall,
    Usage,
    Verification,
)


def _task() -> Task:
    ev = Evidence(doc_id="doi:10.1/x", level="sentence", text="Km is 2.5 mM.", score=0.9,
                  locator=Locator(section=1, section_title="Results", paragraph=2, sentence=0), url="https://x")
    return Task(
        id="t1", question="What is Km?", answer="2.5", answer_type="numeric", tolerance=0.05, unit="mM",
        evidence=[ev],
        provenance=Provenance(pipeline="computational", seed_entity="hexokinase",
                              hops=[Hop(anchor="hexokinase", description="the enzyme of step 1", fact="f")]),
        verification=Verification(filters_passed=["answerable"], solver_votes=[
            SolverVote(solver="s1", answer="2.5", agrees=True)]),
    )


@pytest.mark.parametrize("record", [
    _task(),
    Document(id="pmid:1", title="T", text="body", sections=[Section(title="A", text="a")], sentences=["s"],
             year=2020, metadata={"mesh": ["x"]}),
    Message(role="assistant", content=None, reasoning_content="think",
            tool_calls=[ToolCall.make("c1", "search", {"query": "ünïcode", "k": 3})]),
])
def test_json_round_trip_is_exact(record):
    again = type(record).model_validate_json(record.model_dump_json())
    assert again == record
    assert again.model_dump_json() == record.model_dump_json()


def test_schema_version_and_strictness():
    assert _task().schema_version == SCHEMA_VERSION
    with pytest.raises(ValidationError):
        Task(id="x", question="q", answer="a", answr_type="numeric")
    with pytest.raises(ValidationError):
        _task().answer = "3"  # frozen


def test_message_openai_format_and_dict_arguments():
    msg = Message.from_openai({"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]})
    assert msg.tool_calls[0].function.arguments == '{"x": 1}'
    assert msg.to_openai() == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}]}
    assert Message.tool("r", "c", "f").to_openai() == {"role": "tool", "content": "r", "tool_call_id": "c",
                                                      "name": "f"}


def test_usage_adds():
    total = Usage(prompt_tokens=1, completion_tokens=2, cost_usd=0.5) + Usage(prompt_tokens=3, cost_usd=0.25)
    assert (total.prompt_tokens, total.completion_tokens, total.total_tokens, total.cost_usd) == (4, 2, 6, 0.75)


@pytest.mark.parametrize("text,answer,conf", [
    ("Explanation: because\nAnswer: C\nConfidence: 85%", "C", 0.85),
    ("**Explanation:** x\n**Answer:** 2.5 mM\n**Confidence:** 0.7", "2.5 mM", 0.7),
    ("<think>Answer: wrong</think>Explanation: e\nExact Answer: yes\nConfidence: 100", "yes", 1.0),
    ("The result is \\boxed{\\frac{1}{2}} clearly.", "\\frac{1}{2}", None),
    ("Answer: A\nAnswer: B\nConfidence: 50%", "B", 0.5),
    ("just a sentence", "just a sentence", None),
    ("", None, None),
    ("Answer: 3 uM\nConfidence:", "3 uM", None),  # a reply cut at the label
    ("python printed 0.2825\nConfidence: ", "Confidence:", None),  # no answer label either: no crash
])
def test_parse_final_answer(text, answer, conf):
    final = parse_final_answer(text)
    assert final.answer == answer
    assert final.confidence == (pytest.approx(conf) if conf is not None else None)
