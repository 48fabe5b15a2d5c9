"""The main agent's prompts: how to cite evidence, and a user turn that says how to answer once."""

from __future__ import annotations

from sciresearcher.agent.prompts import SYSTEM_PROMPT, render_question
from sciresearcher.records import Task


def test_the_system_prompt_says_how_to_cite_evidence():
    assert "document ids" in SYSTEM_PROMPT and "pmid:" in SYSTEM_PROMPT


def test_the_user_turn_does_not_repeat_the_answer_instruction():
    stated = Task(id="a", question="What is the mass of 2 mol of iron atoms? Give the answer in g.", answer="111.7",
                  answer_type="numeric", unit="g")
    assert render_question(stated) == stated.question
    bare = Task(id="b", question="What is the mass of 2 mol of iron atoms?", answer="111.7", answer_type="numeric",
                unit="g")
    assert render_question(bare).endswith("Answer with a number in g.")
