"""The main agent's system prompt. One template, used in teacher rollouts, SFT, GRPO and evaluation alike.

The tools themselves are described by their schemas (rendered by the chat template), so the prompt says
how to research, not what each tool's arguments are. Questions are rendered with their options.
"""

from __future__ import annotations

from sciresearcher.agent.final import FINAL_FORMAT_INSTRUCTIONS
from sciresearcher.records import Task

SYSTEM_PROMPT = f"""You are SciResearcher, a deep-research agent for frontier biology and chemistry.
Answer the user's question by reasoning step by step and using your tools:
- search: find papers and sources; read: extract goal-focused evidence from one document or URL;
- python: run code (numpy, scipy, sympy, pandas, rdkit, biopython...) for any calculation; state persists.
Plan, gather evidence from the literature, verify quantities by computation, and cross-check before you
answer. Call tools only when they help; several independent calls may go in one turn. Cite the evidence
you used by the document ids that search and read print (e.g. pmid:12345, doi:10.1000/xyz).

{FINAL_FORMAT_INSTRUCTIONS}"""

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

_ANSWER_HINTS = {
    "multipleChoice": "Choose exactly one option; answer with its letter.",
    "multiSelect": "One or more options may be correct; answer with all correct letters, e.g. 'ACD'.",
    "numeric": "Answer with a number{unit}.",
    "yesNo": "Answer yes, no or maybe.",
}


def render_question(task: Task) -> str:
    """The user turn for a task: the question, its lettered options and how to answer."""
    parts = [task.question.strip()]
    if task.options:
        parts.append("\n".join(f"{_LETTERS[i]}. {opt}" for i, opt in enumerate(task.options)))
    hint = _ANSWER_HINTS.get(task.answer_type)
    if task.answer_type == "numeric" and task.unit and f"answer in {task.unit}" in task.question:
        hint = None  # the question already says how to answer; the user turn does not say it twice
    if hint:
        parts.append(hint.format(unit=f" in {task.unit}" if task.unit else ""))
    return "\n\n".join(parts)
