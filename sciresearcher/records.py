"""The records that pass between SciResearcher's parts (docs/architecture.md, "Records").

Message and ToolCall follow the OpenAI chat format; Document and Evidence are the knowledge layer's
currency; Task is what synthesis writes and evaluation reads; Trajectory is one agent rollout with
everything needed to train on it, grade it and inspect it. All are pydantic v2 models that reject unknown
keys, carry `schema_version`, and round-trip exactly through JSON (`model_dump_json` then
`model_validate_json` gives an equal object). Data records are frozen; a Trajectory is assembled by the
agent loop and graded afterwards, so it is not.

This module holds no I/O and no behaviour beyond conversions between these formats.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = 1

Role = Literal["system", "user", "assistant", "tool"]
AnswerType = Literal["exactMatch", "multipleChoice", "multiSelect", "numeric", "yesNo"]
EvidenceLevel = Literal["document", "paragraph", "sentence"]
TrajectoryStatus = Literal["ok", "error", "truncated", "timeout"]
# Why a trajectory did not end with a plain answer: a provider failure, the wall clock, a limit of the loop, the
# model's own max_tokens, or a bug. Tool and sandbox failures do not end a trajectory: they are tool messages
# the model can act on, counted in Counters.tool_errors / format_errors.
ErrorKind = Literal["provider", "timeout", "turn_limit", "tool_call_limit", "token_limit", "format_errors",
                    "max_tokens", "bug"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _MutableRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# --------------------------------------------------------------------------- chat


class FunctionCall(_Record):
    """A function call inside a tool call; `arguments` is a JSON string, as in the OpenAI format."""

    name: str
    arguments: str = "{}"

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; raises ValueError when they are not a JSON object."""
        value = json.loads(self.arguments or "{}")
        if not isinstance(value, dict):
            raise ValueError(f"tool-call arguments must be a JSON object, got {type(value).__name__}")  # noqa: TRY004 (caught as ValueError)
        return value


class ToolCall(_Record):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall

    @classmethod
    def make(cls, id: str, name: str, arguments: dict[str, Any] | str) -> ToolCall:
        args = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
        return cls(id=id, function=FunctionCall(name=name, arguments=args))


class Message(_Record):
    """One chat message in OpenAI format, with optional `reasoning_content` (the model's thinking)."""

    role: Role
    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    name: str | None = None
    # Opaque provider state sent back verbatim on later turns (e.g. Anthropic's signed thinking blocks,
    # which multi-turn thinking with tools requires); never rendered by to_openai, never trained on.
    provider_data: dict[str, Any] | None = None
    # An assistant turn's weight in training, as in OpenAI's fine-tuning format: 0 keeps the turn in the
    # conversation (what the model saw next depends on it) but trains nothing on it, e.g. a demonstrated mistake
    # before its correction; None or 1 trains it. SFT and GRPO's guidance read it; chat APIs are not sent it.
    weight: Literal[0, 1] | None = None

    def to_openai(self) -> dict[str, Any]:
        """A plain dict for OpenAI-compatible APIs and chat templates (unset fields left out)."""
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.reasoning_content is not None:
            out["reasoning_content"] = self.reasoning_content
        if self.tool_calls:
            out["tool_calls"] = [tc.model_dump() for tc in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            out["name"] = self.name
        if self.weight is not None:
            out["weight"] = self.weight
        return out

    @classmethod
    def from_openai(cls, data: dict[str, Any]) -> Message:
        """Accepts OpenAI-format dicts, including `arguments` given as a dict (it is re-serialised)."""
        data = dict(data)
        calls = data.get("tool_calls")
        if calls:
            fixed = []
            for call in calls:
                call = dict(call)
                fn = dict(call.get("function", {}))
                if not isinstance(fn.get("arguments", "{}"), str):
                    fn["arguments"] = json.dumps(fn["arguments"], ensure_ascii=False)
                call["function"] = fn
                fixed.append(call)
            data["tool_calls"] = fixed
        else:
            data.pop("tool_calls", None)
        return cls.model_validate(data)

    @classmethod
    def system(cls, content: str) -> Message:
        return cls(role="system", content=content)

    @classmethod
    def user(cls, content: str) -> Message:
        return cls(role="user", content=content)

    @classmethod
    def tool(cls, content: str, tool_call_id: str, name: str | None = None) -> Message:
        return cls(role="tool", content=content, tool_call_id=tool_call_id, name=name)


class Usage(_Record):
    """Token and cost accounting for one or more model calls; `+` adds them up.

    `prompt_tokens` counts every input token, cache reads and writes included; `cached_tokens` of them were
    read from the provider's prompt cache and `cache_write_tokens` written to it (Anthropic bills writes
    above the input rate). `cost_usd` is what was billed (cache and batch discounts applied),
    `list_cost_usd` what the same tokens cost at list price (no cache, no batch), `batch_saved_usd` the
    batch discount. `unpriced_calls` had no price in the table: their cost is unknown, not 0.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    list_cost_usd: float = 0.0
    batch_saved_usd: float = 0.0
    batched_calls: int = 0
    unpriced_calls: int = 0

    @model_validator(mode="before")
    @classmethod
    def _list_price_of_older_records(cls, data: Any) -> Any:
        """Records written before list prices were kept were billed at list price: say so."""
        if isinstance(data, dict) and "list_cost_usd" not in data and data.get("cost_usd"):
            data = {**data, "list_cost_usd": data["cost_usd"]}
        return data

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(**{name: getattr(self, name) + getattr(other, name) for name in Usage.model_fields})


# --------------------------------------------------------------------------- knowledge


class Section(_Record):
    title: str = ""
    text: str


class Document(_Record):
    """A source text. `id` is namespaced (`doi:`, `pmid:`, `arxiv:`, `url:`, `scifact:` ...)."""

    schema_version: int = SCHEMA_VERSION
    id: str
    title: str = ""
    text: str = ""
    sections: list[Section] | None = None
    sentences: list[str] | None = None
    doi: str | None = None
    pmid: str | None = None
    year: int | None = None
    url: str | None = None
    license: str | None = None
    source: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class Locator(_Record):
    """Where a passage sits in its document; indices are 0-based."""

    section: int | None = None
    section_title: str | None = None
    paragraph: int | None = None
    sentence: int | None = None

    def label(self) -> str:
        parts = []
        if self.section_title:
            parts.append(f"section '{self.section_title}'")
        elif self.section is not None:
            parts.append(f"section {self.section}")
        if self.paragraph is not None:
            parts.append(f"paragraph {self.paragraph}")
        if self.sentence is not None:
            parts.append(f"sentence {self.sentence}")
        return ", ".join(parts) or "document"


class Evidence(_Record):
    doc_id: str
    level: EvidenceLevel
    text: str
    score: float = 0.0
    locator: Locator = Field(default_factory=Locator)
    url: str | None = None
    title: str | None = None


# --------------------------------------------------------------------------- tasks


class Hop(_Record):
    """One anchor-based augmentation hop: `anchor` was replaced by `description`, found in `source`."""

    anchor: str
    description: str
    fact: str = ""
    source_doc_id: str | None = None


class Provenance(_Record):
    pipeline: str  # conceptual | computational | benchmark:<name> | manual
    seed_entity: str | None = None
    hops: list[Hop] = Field(default_factory=list)
    writer_model: str | None = None
    prompt_hash: str | None = None
    created: str | None = None  # ISO 8601
    extra: dict[str, Any] = Field(default_factory=dict)


class SolverVote(_Record):
    solver: str
    answer: str | None
    agrees: bool


class Verification(_Record):
    filters_passed: list[str] = Field(default_factory=list)
    filters_failed: list[str] = Field(default_factory=list)
    solver_votes: list[SolverVote] = Field(default_factory=list)
    notes: str = ""


class Task(_Record):
    """A question with its gold answer, the evidence chain that grounds it, and where it came from.

    `answer` is always a string: a letter for multipleChoice ("C"), letters for multiSelect ("BCD"),
    a number for numeric (with `unit` and relative `tolerance`), "yes"/"no"/"maybe" for yesNo.
    `options` are the option texts in letter order for choice questions.
    """

    schema_version: int = SCHEMA_VERSION
    id: str
    question: str
    answer: str
    answer_type: AnswerType = "exactMatch"
    options: list[str] | None = None
    tolerance: float | None = None
    unit: str | None = None
    category: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    provenance: Provenance | None = None
    verification: Verification | None = None
    difficulty: str | None = None
    split: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


# --------------------------------------------------------------------------- trajectories


class Policy(_Record):
    """Which model produced a trajectory and how it was sampled."""

    backend: str
    model: str
    sampling: dict[str, Any] = Field(default_factory=dict)


class Step(_Record):
    """One model call of the main agent."""

    index: int
    started_at: float  # unix seconds
    elapsed_s: float
    usage: Usage = Field(default_factory=Usage)
    finish_reason: str | None = None
    cached: bool = False


class SubCall(_Record):
    """What a frozen sub-agent did inside one tool call: kept for inspection, never trained on."""

    tool: str
    tool_call_id: str | None = None
    kind: str = "llm"  # llm | search | fetch | evidence | sandbox
    input: str = ""
    output: str = ""
    messages: list[Message] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    elapsed_s: float = 0.0
    error: str | None = None


class FinalAnswer(_Record):
    """The main agent's answer in HLE's format: Explanation, Answer, Confidence (0-1)."""

    answer: str | None
    explanation: str = ""
    confidence: float | None = None
    raw: str = ""


class Grade(_Record):
    """A grade and how it was decided (`method`: grader or judge name; `reason`: why)."""

    correct: bool
    score: float = 0.0
    method: str
    extracted: str | None = None
    reason: str = ""
    judge: dict[str, Any] | None = None


class Counters(_Record):
    turns: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    format_errors: int = 0
    truncated_outputs: int = 0
    # of tool_errors / format_errors: those of calls made in turns of weight 0 (demonstrated mistakes, which SFT
    # does not train on and rejection sampling does not hold against the trajectory)
    untrained_tool_errors: int = 0
    untrained_format_errors: int = 0


class Trajectory(_MutableRecord):
    """One rollout of the main agent on one task (or question)."""

    schema_version: int = SCHEMA_VERSION
    id: str
    task_id: str
    sample_index: int = 0
    policy: Policy
    tools: list[dict[str, Any]] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    subcalls: list[SubCall] = Field(default_factory=list)
    final: FinalAnswer | None = None
    grade: Grade | None = None
    reward: float | None = None
    status: TrajectoryStatus = "ok"
    error: str | None = None
    error_kind: ErrorKind | None = None
    counters: Counters = Field(default_factory=Counters)
    started_at: float = 0.0
    elapsed_s: float = 0.0
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def usage(self) -> Usage:
        total = Usage()
        for step in self.steps:
            total = total + step.usage
        for sub in self.subcalls:
            total = total + sub.usage
        return total

    def to_chat(self) -> list[dict[str, Any]]:
        """The conversation as OpenAI-format dicts (what a chat template or TRL takes)."""
        return [m.to_openai() for m in self.messages]

    @classmethod
    def from_chat(
        cls,
        messages: list[dict[str, Any]],
        *,
        id: str,
        task_id: str,
        policy: Policy,
        tools: list[dict[str, Any]] | None = None,
        final: FinalAnswer | None = None,
    ) -> Trajectory:
        """Builds a trajectory from OpenAI-format messages (`final`: e.g. `agent.final.final_of(messages)`)."""
        msgs = [Message.from_openai(m) for m in messages]
        return cls(id=id, task_id=task_id, policy=policy, tools=tools or [], messages=msgs, final=final)
