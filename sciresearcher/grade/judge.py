"""The HLE judge: the official Humanity's Last Exam judge prompt, structured output and call, through any LLMClient.

Compared with HLE's own `hle_eval/run_judge_results.py` (centerforaisafety/hle at 87c92ead95bd, the file
last changed in a59048963171): `JUDGE_PROMPT` is its `JUDGE_PROMPT` byte for byte (a test holds a copy of
the official string); the verdict is its `ExtractedAnswer` model (`extracted_final_answer`, `reasoning`,
`correct` "yes"/"no", `confidence` int, `strict` true) sent as the `response_format` that the OpenAI SDK's
`beta.chat.completions.parse` builds from it (`VERDICT_SCHEMA`); the call is that prompt as the one user
message, `max_completion_tokens=4096`, no other sampling settings; the default model is
`o3-mini-2025-01-31`. The question it is given is the raw benchmark question (outcome.judge_question).

Fallback for models without structured output (`structured_output=False`; local models, servers that
refuse `response_format`): then, and only then, a system message (`JSON_INSTRUCTION`) asks for the same
fields as one JSON object, since nothing else tells the model the reply format. In both modes the reply is
read leniently (a fenced or embedded JSON object, or the `field: value` lines the prompt itself describes);
a reply without a yes/no verdict is re-asked `retries` times, then raises JudgeError. Verdicts are cached on
disk by (judge model, prompt) so re-scoring a run costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from sciresearcher.errors import JudgeError, ProviderError
from sciresearcher.llm.base import LLMClient
from sciresearcher.llm.reply_format import json_objects
from sciresearcher.records import Grade, Message

log = logging.getLogger(__name__)

DEFAULT_JUDGE_MODEL = "o3-mini-2025-01-31"
MAX_COMPLETION_TOKENS = 4096  # as the official call ("overkill for judge")

# centerforaisafety/hle, hle_eval/run_judge_results.py, JUDGE_PROMPT: verbatim, including its typo ("if there
# if there"), the two blank lines before "confidence:" and the "0|\%|" written in a plain Python string.
JUDGE_PROMPT = r"""Judge whether the following [response] to [question] is correct or not based on the precise and unambiguous [correct_answer] below.

[question]: {question}

[response]: {response}

Your judgement must be in the format and criteria specified below:

extracted_final_answer: The final exact answer extracted from the [response]. Put the extracted answer as 'None' if there is no exact, final answer to extract from the response.

[correct_answer]: {correct_answer}

reasoning: Explain why the extracted_final_answer is correct or incorrect based on [correct_answer], focusing only on if there are meaningful differences between [correct_answer] and the extracted_final_answer. Do not comment on any background to the problem, do not attempt to solve the problem, do not argue for any answer different than [correct_answer], focus only on whether the answers match.

correct: Answer 'yes' if extracted_final_answer matches the [correct_answer] given above, or is within a small margin of error for numerical problems. Answer 'no' otherwise, i.e. if there if there is any inconsistency, ambiguity, non-equivalency, or if the extracted answer is incorrect.


confidence: The extracted confidence score between 0|\%| and 100|\%| from [response]. Put 100 if there is no confidence score available."""


# The official script's structured output (`response_format=ExtractedAnswer`). No docstring: pydantic would
# send it as the schema's "description", which the official model does not have.
class ExtractedAnswer(BaseModel):
    extracted_final_answer: str
    reasoning: str
    correct: Literal["yes", "no"]
    confidence: int
    strict: Literal[True]  # 100% reliability


# What the OpenAI SDK sends for `response_format=ExtractedAnswer` (openai.lib._parsing's
# type_to_response_format_param; a test checks this copy against the SDK when it is installed).
VERDICT_SCHEMA: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {
        "schema": {
            "properties": {
                "extracted_final_answer": {"title": "Extracted Final Answer", "type": "string"},
                "reasoning": {"title": "Reasoning", "type": "string"},
                "correct": {"enum": ["yes", "no"], "title": "Correct", "type": "string"},
                "confidence": {"title": "Confidence", "type": "integer"},
                "strict": {"const": True, "title": "Strict", "type": "boolean"},
            },
            "required": ["extracted_final_answer", "reasoning", "correct", "confidence", "strict"],
            "title": "ExtractedAnswer",
            "type": "object",
            "additionalProperties": False,
        },
        "name": "ExtractedAnswer",
        "strict": True,
    },
}

# Only without structured output (the fallback): the reply format the schema would otherwise impose.
JSON_INSTRUCTION = (
    "Return your judgement as one JSON object with exactly these keys: "
    '"extracted_final_answer" (string), "reasoning" (string), "correct" ("yes" or "no"), '
    '"confidence" (integer 0-100), "strict" (true). Output only the JSON object.'
)

_FIELDS = ("extracted_final_answer", "reasoning", "correct", "confidence")


def render_judge_prompt(question: str, response: str, correct_answer: str) -> str:
    return JUDGE_PROMPT.format(question=question, response=response, correct_answer=correct_answer)


def _line_fields(text: str) -> dict[str, Any]:
    """`field: value` lines as the prompt describes them (value runs to the next field)."""
    pattern = re.compile(rf"^[ \t*_#>-]*({'|'.join(_FIELDS)})[*_]*\s*[:：]\s*", re.IGNORECASE | re.MULTILINE)
    marks = list(pattern.finditer(text))
    out: dict[str, Any] = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out.setdefault(m.group(1).lower(), text[m.end():end].strip().strip("*").strip())
    return out


def parse_verdict(text: str) -> dict[str, Any]:
    """The verdict fields from a judge reply; raises JudgeError when there is no yes/no `correct`."""
    candidates = [obj for obj in json_objects(text or "") if "correct" in obj] or [_line_fields(text or "")]
    data = candidates[-1]
    raw_correct = str(data.get("correct", "")).strip().strip("'\"*.").lower()
    if raw_correct in ("yes", "true", "correct"):
        correct = True
    elif raw_correct in ("no", "false", "incorrect"):
        correct = False
    else:
        raise JudgeError(
            f"the judge's reply has no yes/no 'correct' field (got {raw_correct[:40]!r}); reply: {(text or '')[:300]!r}",
            hint="use a stronger judge model, or keep structured output on (judge.structured_output, "
            "--judge-structured-output) where the server supports response_format",
        )
    confidence: int | None
    try:
        confidence = round(float(re.sub(r"[^\d.]", "", str(data.get("confidence", "100"))) or "100"))
    except ValueError:
        confidence = None
    return {
        "extracted_final_answer": str(data.get("extracted_final_answer", "None")).strip(),
        "reasoning": str(data.get("reasoning", "")).strip(),
        "correct": "yes" if correct else "no",
        "confidence": confidence,
        "strict": True,
    }


class JudgeCache:
    """Verdicts on disk, one JSON file per (judge model, prompt) hash; atomic writes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(model: str, prompt: str) -> str:
        return hashlib.sha256(f"{model}\n{prompt}".encode()).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        file = self.path / f"{key}.json"
        if not file.is_file():
            return None
        try:
            return json.loads(file.read_text())
        except json.JSONDecodeError:
            log.warning("ignoring a corrupt judge cache entry %s", file)
            return None

    def put(self, key: str, verdict: dict[str, Any]) -> None:
        file = self.path / f"{key}.json"
        tmp = file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(verdict, ensure_ascii=False))
        os.replace(tmp, file)


class HLEJudge:
    """Grades a response against a gold answer with HLE's judge prompt and call.

    `structured_output=True` (the default) is the official call; False is the any-LLM fallback (module doc).
    `sampling` is merged over the official `max_completion_tokens`.
    """

    def __init__(self, llm: LLMClient, *, cache_dir: str | Path | None = None, structured_output: bool = True,
                 retries: int = 2, sampling: dict[str, Any] | None = None) -> None:
        self.llm = llm
        self.cache = JudgeCache(cache_dir) if cache_dir else None
        self.structured_output = structured_output
        self.retries = retries
        self.sampling = {"max_completion_tokens": MAX_COMPLETION_TOKENS, **(sampling or {})}

    def request(self, prompt: str) -> tuple[list[Message], dict[str, Any]]:
        """The messages and sampling of one judge call: the official ones, or the fallback's."""
        sampling = dict(self.sampling)
        if self.structured_output:
            sampling["response_format"] = VERDICT_SCHEMA
            return [Message.user(prompt)], sampling
        return [Message.system(JSON_INSTRUCTION), Message.user(prompt)], sampling

    @property
    def model(self) -> str:
        return getattr(self.llm, "model", DEFAULT_JUDGE_MODEL)

    async def verdict(self, question: str, response: str, correct_answer: str) -> tuple[dict[str, Any], bool]:
        """(verdict fields, from_cache). Raises JudgeError after `retries` unreadable replies."""
        prompt = render_judge_prompt(question, response, correct_answer)
        key = JudgeCache.key(self.model, prompt)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            return hit, True
        messages, sampling = self.request(prompt)
        last: JudgeError | None = None
        for attempt in range(self.retries + 1):
            result = await self.llm.chat(messages, **sampling)
            try:
                verdict = parse_verdict(result.message.content or "")
            except JudgeError as exc:
                last = exc
                log.warning("judge reply unreadable (attempt %d/%d): %s", attempt + 1, self.retries + 1, exc)
                continue
            verdict["judge_model"] = self.model
            if self.cache is not None:
                self.cache.put(key, verdict)
            return verdict, False
        assert last is not None
        raise last

    async def grade(self, question: str, response: str | None, correct_answer: str) -> Grade:
        """A Grade with method 'hle_judge'; an empty response is wrong without calling the judge."""
        if not response or not response.strip():
            return Grade(correct=False, score=0.0, method="hle_judge", reason="no response to judge")
        try:
            verdict, cached = await self.verdict(question, response, correct_answer)
        except ProviderError as exc:
            raise JudgeError(f"the judge model {self.model} could not be reached: {exc}") from exc
        ok = verdict["correct"] == "yes"
        return Grade(correct=ok, score=1.0 if ok else 0.0, method="hle_judge",
                     extracted=verdict["extracted_final_answer"],
                     reason=verdict["reasoning"] + (" (cached verdict)" if cached else ""),
                     judge=verdict)
