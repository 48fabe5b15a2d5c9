"""The model writer of the computational pipeline: quantitative evidence from papers -> a problem -> a Task.

For each document, three-level evidence selection (`knowledge.evidence`, lexical, with a quantitative goal so
sentences with numbers and units rank first) picks the sentences that report measured values. The writer model
gets them numbered and must reply with a problem that needs at least `min_values` of those values plus a
computation, the values it uses (name, number, unit, which sentence), Python that computes the answer from those
names, and the answer. `task_from_reply` refuses replies whose values are not written in the cited sentences
or whose question states the values or shares no word with a cited sentence (it must say what the values
measure); the reference solution is the cited values as named constants followed by
the writer's code, so `verify.reference_solution` runs exactly what the evidence supports.

The same verification as the offline writer follows (answerable, sandbox, solver vote). It does not check that
the problem is scientifically meaningful; the solver vote and the non-trivial check are the guard for that.
"""

from __future__ import annotations

import hashlib
import keyword
import re
import time
from typing import TYPE_CHECKING, Any

from sciresearcher.knowledge.evidence import numeric_weight
from sciresearcher.llm.base import LLMClient
from sciresearcher.records import Document, Evidence, Provenance, Task
from sciresearcher.synth.numbers import numbers_in, quantities, states
from sciresearcher.synth.structured import ask_structured

if TYPE_CHECKING:
    from sciresearcher.knowledge.evidence import EvidenceSelector

QUANT_GOAL = "measured value, concentration, rate, percentage or dose with its units"

WRITER_PROMPT = """You write quantitative research problems grounded in the literature.
Numbered sentences from {doc_id} ("{title}"):
{sentences}

Write one problem that needs at least {min_values} numeric values stated in these sentences and a computation
with them (not a lookup). Describe the study and the quantities so that a researcher could find the values in
the paper, but do not write the values themselves in the problem. Copy each value as the number it stands for
(45% -> 45 with unit "%", "eight" -> 8, a flattened "104 p.f.u." -> 10000) and say which sentence states it.
Example: from "[1] Mean HbA1c fell from 8.1% to 7.2% after 24 weeks." -> {{"question": "In the 24-week trial
of this paper, by what percentage of its baseline value did mean HbA1c fall?", "values": [{{"name": "before",
"value": 8.1, "unit": "%", "sentence": 1}}, {{"name": "after", "value": 7.2, "unit": "%", "sentence": 1}}],
"solution": "print((before - after) / before * 100)", "answer": 11.11, "unit": "%"}}
Reply with JSON only:
{{"question": "...",
  "values": [{{"name": "python_identifier", "value": 0.0, "unit": "...", "sentence": 1}}],
  "solution": "Python that uses the value names and prints the answer",
  "answer": 0.0, "unit": "..."}}"""


def _difficulty(solution: str, n_values: int) -> str:
    """By the arithmetic operations and calls of the writer's solution (not by how many values it uses)."""
    import ast

    try:
        tree = ast.parse(solution)
    except SyntaxError:
        return "medium"
    ops = sum(isinstance(n, ast.BinOp | ast.Call) for n in ast.walk(tree)) - solution.count("print(")
    return "easy" if ops < 3 else ("hard" if ops >= 6 and n_values >= 3 else "medium")


_GENERIC = frozenset(("which", "their", "there", "these", "those", "study", "studies", "value", "values", "about",
                      "after", "before", "between", "during", "first", "second", "number", "total", "using", "given",
                      "reported", "paper", "result", "results", "would", "could", "should", "where", "while"))


def _content_words(text: str) -> set[str]:
    """Words of five letters or more that say what a sentence is about (stems by their first 6 letters)."""
    return {w[:6] for w in re.findall(r"[a-z]{5,}", text.lower()) if w not in _GENERIC}


def task_id_for(doc: Document) -> str:
    return f"compllm-{hashlib.blake2b(doc.id.encode(), digest_size=6).hexdigest()}"


def quantitative_sentences(doc: Document, selector: Any, k: int = 8) -> list[Evidence]:
    """The document's sentences that best report quantities (those without a number are dropped)."""
    return [e for e in selector.sentences(QUANT_GOAL, [doc], k=k) if numeric_weight(e.text) > 0 and quantities(e.text)]


def task_from_reply(reply: dict[str, Any] | None, doc: Document, evidence: list[Evidence], min_values: int,
                    tolerance: float, writer_model: str) -> Task | str:
    """A Task from the writer's JSON, or why it was refused."""
    if reply is None or not all(k in reply for k in ("question", "values", "solution", "answer")):
        return "the writer's reply was not JSON with question, values, solution and answer"
    values = reply["values"] if isinstance(reply["values"], list) else []
    if len(values) < min_values:
        return f"the problem uses {len(values)} value(s), fewer than {min_values}"
    question = str(reply["question"]).strip()
    stated = numbers_in(question, words=False)
    variables: dict[str, Any] = {}
    cited: dict[int, Evidence] = {}
    for v in values:
        name, number, index = v.get("name"), v.get("value"), v.get("sentence")
        if not (isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)):
            return f"value name {name!r} is not a Python identifier"
        if not isinstance(number, int | float) or not isinstance(index, int) or not 1 <= index <= len(evidence):
            return f"value {name} needs a number and a sentence between 1 and {len(evidence)}"
        ev = evidence[index - 1]
        if not states(float(number), ev.text, str(v.get("unit") or "") or None):
            return f"value {name}={number} is not written in sentence {index}"
        if states(number, stated):
            return f"the question states the value of {name} ({number})"
        variables[name] = {"value": float(number), "unit": str(v.get("unit", "")), "doc_id": doc.id,
                           "locator": ev.locator.model_dump(exclude_none=True)}
        cited[index] = ev
    qwords = _content_words(question)
    for index, ev in cited.items():
        if not qwords & _content_words(ev.text):
            return f"the question does not say what the values of sentence {index} measure (no word in common)"
    try:
        answer = float(reply["answer"])
    except (TypeError, ValueError):
        return f"the answer {reply['answer']!r} is not a number"
    constants = "\n".join(f"{n} = {v['value']!r}  # {v['unit']}; {doc.id} {v['locator']}" for n, v in variables.items())
    unit = str(reply.get("unit") or "") or None
    return Task(
        id=task_id_for(doc), question=question + (f" Give the answer in {unit}." if unit else ""),
        answer=f"{answer:.4g}", answer_type="numeric", tolerance=tolerance, unit=unit,
        evidence=[cited[i] for i in sorted(cited)], difficulty=_difficulty(str(reply["solution"]), len(variables)),
        provenance=Provenance(pipeline="computational", seed_entity=doc.title or doc.id, writer_model=writer_model,
                              prompt_hash=hashlib.blake2b(WRITER_PROMPT.encode(), digest_size=6).hexdigest(),
                              created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                              extra={"template": "llm", "source_doc": doc.id}),
        metadata={"template": "llm", "variables": variables, "solution": constants + "\n\n" + str(reply["solution"])},
    )


async def write_task(doc: Document, writer: LLMClient, selector: EvidenceSelector, min_values: int, tolerance: float) -> Task | str:
    """One problem from one document, or why none was written."""
    evidence = quantitative_sentences(doc, selector)
    if len(evidence) < min_values:
        return f"fewer than {min_values} sentences with numbers"
    numbered = "\n".join(f"[{i}] {e.text}" for i, e in enumerate(evidence, 1))
    prompt = WRITER_PROMPT.format(doc_id=doc.id, title=doc.title, sentences=numbered, min_values=min_values)
    reply = await ask_structured(writer, prompt, ("question", "values", "solution", "answer"), temperature=0.7)
    if reply is not None and reply.get("declined"):
        return f"declined: {reply['declined']}"
    return task_from_reply(reply, doc, evidence, min_values, tolerance, getattr(writer, "model", "writer"))
