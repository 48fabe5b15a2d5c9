"""The final-answer format (HLE's Explanation / Answer / Confidence) and its parser.

HLE asks models to end with:

    Explanation: {reasoning}
    Answer: {final answer}
    Confidence: {0% to 100%}

`parse_final_answer` reads that block leniently (markdown bold, different case, `Exact Answer:`,
confidence as "85%", "0.85" or "85"), and falls back to the last `\\boxed{}` or the last line so that a
model that ignores the format still gets graded rather than dropped. `final_of(messages)` parses the last
plain assistant reply of a conversation. Grading itself lives in `grade/`.
"""

from __future__ import annotations

import re
from typing import Any

from sciresearcher.llm.reply_format import split_think
from sciresearcher.records import FinalAnswer

FINAL_FORMAT_INSTRUCTIONS = (
    "When you are done, reply without tool calls, in exactly this format:\n"
    "Explanation: {your explanation for your final answer, citing the evidence you used}\n"
    "Answer: {your succinct, final answer}\n"
    "Confidence: {your confidence score between 0% and 100% for your answer}"
)

_LABEL = r"(?:^|\n)[ \t>*_#-]*(?:\*\*|__)?\s*{name}\s*(?:\*\*|__)?\s*[:：]\s*(?:\*\*|__)?"
_EXPLANATION = re.compile(_LABEL.format(name=r"explanation"), re.IGNORECASE)
_ANSWER = re.compile(_LABEL.format(name=r"(?:exact\s+|final\s+)?answer"), re.IGNORECASE)
_CONFIDENCE = re.compile(_LABEL.format(name=r"confidence(?:\s+score)?"), re.IGNORECASE)


def _strip(value: str) -> str:
    value = value.strip()
    value = re.sub(r"^(?:\*\*|__)\s*|\s*(?:\*\*|__)$", "", value).strip()
    return value


def boxed_contents(text: str) -> list[str]:
    """Contents of every \\boxed{...} (balanced braces), in order."""
    out: list[str] = []
    start = 0
    while True:
        idx = text.find("\\boxed{", start)
        if idx < 0:
            return out
        depth, i = 0, idx + len("\\boxed")
        for j in range(i, len(text)):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    out.append(text[i + 1 : j].strip())
                    break
        start = idx + 1



def parse_confidence(value: str) -> float | None:
    """'85%' -> 0.85, '0.85' -> 0.85, '85' -> 0.85; None when there is no number in 0-100."""
    match = re.search(r"(\d+(?:\.\d+)?)\s*(%)?", value)
    if not match:
        return None
    number = float(match.group(1))
    if match.group(2) or number > 1.0:
        number /= 100.0
    return number if 0.0 <= number <= 1.0 else None


def _confidence_after(text: str, label: re.Match[str]) -> float | None:
    """The confidence on the first line after its label; None when the reply ends at the label (a cut reply)."""
    lines = text[label.end() :].strip().splitlines()
    return parse_confidence(lines[0]) if lines else None


def parse_final_answer(text: str) -> FinalAnswer:
    """Parses a final reply into a FinalAnswer; `answer` is None when nothing answer-like is found."""
    raw = text or ""
    body = split_think(raw)[1].strip()
    answers = list(_ANSWER.finditer(body))
    explanation, answer, confidence = "", None, None
    if answers:
        last = answers[-1]
        rest = body[last.end() :]
        conf = _CONFIDENCE.search(rest)
        answer = _strip(rest[: conf.start()] if conf else rest)
        if conf:
            confidence = _confidence_after(rest, conf)
        expl = _EXPLANATION.search(body[: last.start()])
        explanation = _strip(body[expl.end() : last.start()]) if expl else _strip(body[: last.start()])
        # An answer spanning several paragraphs is usually answer + chatter; keep the first paragraph.
        answer = answer.split("\n\n")[0].strip() or None
    else:
        boxed = boxed_contents(body)
        if boxed:
            answer = boxed[-1]
        elif body:
            answer = body.strip().splitlines()[-1].strip() or None
        explanation = body
        conf = _CONFIDENCE.search(body)
        if conf:
            confidence = _confidence_after(body, conf)
    return FinalAnswer(answer=answer, explanation=explanation, confidence=confidence, raw=raw)


def final_of(messages: list[dict[str, Any]]) -> FinalAnswer | None:
    """The parsed final answer of an OpenAI-format conversation: its last assistant reply without tool calls."""
    for message in reversed(messages):
        if message.get("role") == "assistant" and not message.get("tool_calls"):
            return parse_final_answer(message.get("content") or "")
    return None
