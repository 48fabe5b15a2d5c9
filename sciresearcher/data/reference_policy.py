"""The offline teacher: a reference policy (not a model) that solves a synthesized computational task from its
own evidence chain, through the real tools in the real agent loop.

`ReferencePolicy(tasks)` meets the `LLMClient` protocol, so `rollout.run_rollouts` drives it exactly as it
drives a model teacher. At each turn it reads the conversation so far and takes the next step a careful
researcher would:

1. search for each cited fact (the fact's sentence without its number, e.g. "standard atomic weight of
   cobalt"), all in one turn; or, with `query="question"`, search with the question itself, word for word (the
   first search many agents make), and then for the fact of any cited document those results did not list;
2. read each cited document that the search results listed, once per cited fact, with that fact as the goal;
3. compute in the sandbox: the task's formula with every cited value taken from what `read` returned (a
   value that is not in the read output ends the attempt) and the given values from the question, printing the
   answer rounded as it will be written (4 significant digits);
4. answer in the final-answer format with the printed value and its unit, citing the documents by id: the
   explanation names the documents and the printed value (not the formula, whose constants a copying student
   took for the answer), and the answer line repeats that value, the last number before it; with
   `printed="labelled"` python prints `Answer: <value>` and the answer line copies it after the same words.

With `mistakes=share`, that share of the tasks (picked by a hash of the task id) shows a recovery: the first python
call sends the code cut inside its final `print` (the unclosed call a small student writes after copying values it
has not seen), in a turn of weight 0 (kept in the conversation, never trained on: `Message.weight`); the sandbox
answers with the error, and the next turn sends the whole code. A student trained on those rows sees what to do
after an error, which it never does when every trajectory succeeds at once.

If search does not list a cited document, or read does not return its value, the policy answers that it
could not find the evidence: the trajectory is graded wrong and rejection sampling drops it. Its
trajectories are therefore real runs with real tool outputs, graded and filtered like a model teacher's.
It needs tasks that carry `metadata.variables` (name -> value, given or cited with `doc_id` and
`sentence`) and `metadata.solution` (Python ending in `answer = ...`), as the computational pipeline writes.
It does not handle conceptual or multiple-choice tasks; those need a model teacher.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any, Literal

from sciresearcher.agent.prompts import render_question
from sciresearcher.llm.base import ChatResult
from sciresearcher.records import Message, Task, ToolCall, Usage

_NUMBER = re.compile(r"[-−]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LABEL = "Answer: "  # printed="labelled": what python prints before the result, as the answer line writes it


def fact_goal(sentence: str) -> str:
    """What to search for and read about a fact, without its number (which the agent cannot know yet):

    'The standard atomic weight of cobalt is 58.93319 g/mol.' -> 'standard atomic weight of cobalt';
    'Water (CAS 7732-18-5) has the molecular formula H2O and a molar mass of 18.01528 g/mol.' -> 'molar mass of water'.
    """
    head = sentence
    for verbs in (r"is|are|was|were|equals", r"of about|of|at"):  # "factor of 3-methyl-1-butanol is 0.58"
        head = re.split(rf"\s+(?:{verbs})\s+[-−]?\d[\d.]*(?:\s|$|[,;])", sentence.strip().rstrip(".") + " ",
                        maxsplit=1)[0]
        if head != sentence.strip().rstrip(".") + " ":
            break
    head = head.strip().rstrip(".")
    if head == sentence.strip().rstrip("."):
        head = _NUMBER.split(head, maxsplit=1)[0].strip()  # no "is <number>": cut at the first number
    if " of " not in head:  # "<Entity> (...) has ... a <property>": the property of the entity
        entity = re.split(r"\s+\(|\s+has\s+|\s+is\s+", head, maxsplit=1)[0]
        prop = re.split(r"\b(?:an?|the)\s+", head)[-1]
        if prop != head and entity != head:
            head = f"{prop} of {entity.lower()}"
    text = re.sub(r"^(?:the|a|an)\s+", "", head, flags=re.IGNORECASE)
    return text or sentence


def _query(task: Task, doc_id: str, sentence: str) -> str:
    """What to search for one cited document: its fact without the number, led by the record's name when the
    question names it (`ORF-0019` in "... synthetic gene ORF-0019 ..."), as a researcher would search."""
    goal = fact_goal(sentence)
    name = doc_id.rsplit(":", 1)[-1]
    if re.search(r"\d", name) and name in task.question and name not in goal:
        return f"{name} {goal}"
    return goal


_FUNCTION_WORDS = {"of", "for", "the", "a", "an", "in", "at", "near", "to", "and", "with", "by", "on"}


def _echo(task: Task, query: str) -> str:
    """`query` led by the question's own words around its entity: the longest tail of the query the question also
    says (`iron near room temperature`), from two words before its first content word in the question, then the
    rest of the query ('density of iron near room temperature' -> 'piece of iron near room temperature density').
    A student then starts the query with words that stand right before the name in the question, and copying the
    question forward from there writes the name. A query with no tail in the question is returned as it is."""
    words = query.split()
    said = [w.strip("?,.;:()") for w in task.question.split()]
    bare = [w.lower() for w in said]
    for k in range(len(words), 0, -1):
        tail = [w.lower() for w in words[-k:]]
        content = next((j for j, w in enumerate(tail) if w not in _FUNCTION_WORDS and len(w) > 2), None)
        if content is None:
            continue
        at = next((i for i in range(len(bare) - k, -1, -1) if bare[i:i + k] == tail), None)
        if at is None:
            continue
        start = max(0, at + content - 2)
        span = said[start:at + k]
        rest = words[:-k]
        while rest and rest[-1].lower() in _FUNCTION_WORDS:
            rest = rest[:-1]
        return " ".join(span + rest)
    return query


def _first(text: str, value: float | str) -> tuple[int, float | str] | None:
    """(offset, value as written) of the first place `text` states `value` (the number read, not the task's copy
    of it), or None."""
    if isinstance(value, str):
        at = text.find(value)
        return (at, value) if at >= 0 else None
    for match in _NUMBER.finditer(text):
        try:
            number = float(match.group().replace("−", "-"))
        except ValueError:
            continue
        if math.isclose(number, value, rel_tol=1e-9, abs_tol=1e-12):
            return match.start(), number
    return None


def _expression(task: Task) -> str:
    """The answer's expression over the variable names (the solution's `answer = ...` line)."""
    match = re.search(r"^answer\s*=\s*(.+)$", str(task.metadata.get("solution", "")), flags=re.MULTILINE)
    if match is None:
        raise ValueError(f"task {task.id}: its solution has no `answer = ...` line")
    return match.group(1).strip()


def cut_print(code: str, salt: str) -> str:
    """`code` cut inside its last line's `print(f"{...}")`, after the expression's first operand and before the
    string closes (where a salted hash of `salt` says), as a student that loses its place writes it: Python then
    fails with a SyntaxError. Code without such a print is cut in the middle of its last line."""
    lines = code.rstrip("\n").split("\n")
    last = lines[-1]
    start = last.find("{") + 2 if last.startswith("print(f") and "{" in last else 1
    stop = last.find(":.4g}") if ":.4g}" in last else len(last) - 1
    stop = max(stop, start + 1)
    at = start + int.from_bytes(hashlib.blake2b(f"cut:{salt}".encode(), digest_size=8).digest(), "big") % (stop - start)
    return "\n".join([*lines[:-1], last[:at]]) + "\n"


class ReferencePolicy:
    """Solves computational tasks from their evidence chain with the real search / read / python tools."""

    backend = "reference"
    model = "reference-policy"

    def __init__(self, tasks: list[Task], query: Literal["fact", "question", "echo"] = "fact",
                 printed: Literal["plain", "labelled"] = "plain", mistakes: float = 0.0) -> None:
        """`query`: what the first search asks: each cited fact without its number ("fact"), the question
        word for word ("question": a student then copies the question, names and ids included, instead of
        composing a query around a name it has to recall), or a fact query without a record id led by the
        question's own words around the entity ("echo": 'piece of iron near room temperature density').

        `printed`: how python prints the result and the answer takes it: the bare number, repeated in the
        explanation and the answer line ("plain"), or `Answer: 4.658`, which the answer line copies after the
        same `Answer: ` ("labelled": the number's first digit then has a cue to copy from; after the bare
        `<tool_response>` it has none, and a student that misses it writes `1.41` for 21.41).

        `mistakes`: the share of tasks whose first python call is cut inside its print (weight 0) and sent again
        whole after the sandbox's error."""
        if query not in ("fact", "question", "echo"):
            raise ValueError(f"query must be 'fact', 'question' or 'echo', not {query!r}")
        if printed not in ("plain", "labelled"):
            raise ValueError(f"printed must be 'plain' or 'labelled', not {printed!r}")
        if not 0.0 <= mistakes <= 1.0:
            raise ValueError(f"mistakes is a share of the tasks, between 0 and 1, not {mistakes}")
        self._by_question = {render_question(t).strip(): t for t in tasks}
        self.query = query
        self.printed = printed
        self.mistakes = mistakes

    def shows_mistake(self, task: Task) -> bool:
        """Whether this task's trajectory shows a cut python call and its correction (a salted hash of the id, so
        the same tasks on every run)."""
        if self.mistakes <= 0:
            return False
        digest = hashlib.blake2b(f"mistake:{task.id}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64 < self.mistakes

    def _task(self, messages: list[Message]) -> Task:
        user = next((m for m in messages if m.role == "user"), None)
        task = self._by_question.get((user.content or "").strip()) if user else None
        if task is None:
            raise KeyError("the reference policy was given a question that is not one of its tasks")
        return task

    async def chat(self, messages: list[Message], tools: list[dict[str, Any]] | None = None,
                   **sampling: Any) -> ChatResult:
        task = self._task(messages)
        calls = [c for m in messages if m.role == "assistant" for c in (m.tool_calls or [])]
        results = {m.tool_call_id: m.content or "" for m in messages if m.role == "tool"}
        by_name: dict[str, list[tuple[ToolCall, str]]] = {"search": [], "read": [], "python": []}
        for call in calls:
            by_name.setdefault(call.function.name, []).append((call, results.get(call.id, "")))
        turn = sum(1 for m in messages if m.role == "assistant")
        message = self._next(task, by_name, offered={t["function"]["name"] for t in tools or []}, turn=turn)
        return ChatResult(message=message, usage=Usage(), finish_reason="tool_calls" if message.tool_calls else "stop",
                          model=self.model)

    def _next(self, task: Task, done: dict[str, list[tuple[ToolCall, str]]], offered: set[str], turn: int) -> Message:
        variables = task.metadata.get("variables") or {}
        cited = {name: v for name, v in variables.items() if not v.get("given") and v.get("doc_id")}
        sentences: dict[str, str] = {}
        for e in task.evidence:  # a document's first cited sentence names what to search for
            sentences.setdefault(e.doc_id, e.text)
        if not cited or "solution" not in task.metadata:
            return self._give_up(task, "this task has no cited values and formula to compute from")
        if not offered:
            return self._give_up(task, "no tools were offered")
        docs = list(dict.fromkeys(v["doc_id"] for v in cited.values()))
        if not done["search"]:
            if self.query == "question":
                return self._calls(turn, [("search", {"query": task.question})])
            queries = self._fact_queries(task, docs, sentences)
            if self.query == "echo":  # a query with a record id has a copyable cue already (the id's prefix)
                queries = [q if re.search(r"\d", q) else _echo(task, q) for q in queries]
            return self._calls(turn, [("search", {"query": q}) for q in dict.fromkeys(queries)])
        if not done["read"]:
            listed = " ".join(text for _, text in done["search"])
            missing = [d for d in docs if d not in listed]
            if missing and self.query == "question" and len(done["search"]) == 1:  # the question did not find all
                return self._calls(turn, [("search", {"query": q})
                                          for q in self._fact_queries(task, missing, sentences)])
            if missing:
                return self._give_up(task, f"the search results did not list {', '.join(missing)}")
            reads = dict.fromkeys((e.doc_id, fact_goal(e.text)) for e in task.evidence if e.doc_id in docs)
            return self._calls(turn, [("read", {"doc_id_or_url": d, "goal": goal}) for d, goal in reads])
        mistake = self.shows_mistake(task)
        retry = mistake and len(done["python"]) == 1  # the demonstrated cut call was answered: send it whole
        if not done["python"] or retry:
            read_text: dict[str, str] = {}
            for c, text in done["read"]:  # one read per cited fact; a document's reads taken together
                doc = json.loads(c.function.arguments)["doc_id_or_url"]
                read_text[doc] = read_text.get(doc, "") + "\n" + text
            values: dict[str, float | str] = {}
            for name, v in cited.items():
                text = read_text.get(v["doc_id"], "")
                found = _first(text, v["value"] if isinstance(v["value"], str) else float(v["value"]))
                if found is None:
                    return self._give_up(task, f"read did not return the value of {name} from {v['doc_id']}")
                values[name] = found[1]
            code = self._code(task, values, reads=[t for _, t in done["read"]],
                              label=_LABEL if self.printed == "labelled" else "")
            if mistake and not retry:
                cut = self._calls(turn, [("python", {"code": cut_print(code, task.id)})])
                return cut.model_copy(update={"weight": 0})
            return self._calls(turn, [("python", {"code": code})])
        output = done["python"][-1][1].strip()
        printed = output.splitlines()[-1].strip() if output else ""
        if self.printed == "labelled":
            printed = printed.removeprefix(_LABEL)
        if not _NUMBER.fullmatch(printed):
            return self._give_up(task, "the computation printed no number")
        docs = ", ".join(dict.fromkeys(v["doc_id"] for v in cited.values()))
        unit = f" {task.unit}" if task.unit else ""
        # the explanation says where the number came from, not the formula: the formula's constants (1000,
        # 6.022e23) sat right before "Answer:" and a copying student wrote them as its answer
        said = "python printed the answer" if self.printed == "labelled" else f"python printed {printed}"
        text = f"Explanation: from the values read from {docs}, {said}\nAnswer: {printed}{unit}\nConfidence: 90%"
        return Message(role="assistant", content=text)

    @staticmethod
    def _fact_queries(task: Task, docs: list[str], sentences: dict[str, str]) -> list[str]:
        return list(dict.fromkeys(_query(task, d, sentences.get(d, "")) for d in docs))

    @staticmethod
    def _code(task: Task, values: dict[str, float | str], reads: list[str], label: str = "") -> str:
        """The task's formula over the values read (cited) and the values the question gives, printing the
        answer already rounded as the answer is written (4 significant digits): the solution's imports and
        intermediate steps, without its comments (which quote the sources) and with the values as read.

        The values are assigned in the order the conversation states them (the question's first, then each read
        output's, in the order of the reads), so writing the code is copying numbers in the order they were seen,
        as a researcher transcribing them would, rather than jumping back and forth by name."""
        variables = task.metadata.get("variables") or {}
        given = {n: v["value"] for n, v in variables.items() if v.get("given")}
        question, seen = render_question(task), "\n".join(reads)

        def stated(item: tuple[str, float | str]) -> tuple[int, int]:
            name, value = item
            text, part = (question, 0) if name in given else (seen, 1)
            found = _first(text, value)
            return (part, found[0] if found else len(text))
        imports, steps = [], []
        for line in str(task.metadata.get("solution", "")).splitlines():
            code = line.split("  #", 1)[0].rstrip()
            name = code.split("=", 1)[0].strip() if "=" in code else ""
            if not code or code.startswith("print(") or name in variables or name == "answer":
                continue
            (imports if code.startswith(("import ", "from ")) else steps).append(code)
        ordered = sorted({**values, **given}.items(), key=stated)  # stable: ties keep the solution's order
        lines = [f"{name} = {value!r}" for name, value in ordered]
        return "\n".join([*imports, *lines, *steps, f'print(f"{label}{{{_expression(task)}:.4g}}")']) + "\n"

    @staticmethod
    def _calls(turn: int, calls: list[tuple[str, dict[str, Any]]]) -> Message:
        """One assistant turn of tool calls; ids from the turn, not a process-wide counter, so a trajectory has the
        same ids in every run."""
        return Message(role="assistant", content=None, tool_calls=[
            ToolCall.make(f"ref_{turn}_{k}", name, args) for k, (name, args) in enumerate(calls)])

    @staticmethod
    def _give_up(task: Task, why: str) -> Message:
        return Message(role="assistant", content=f"Explanation: I could not complete the research: {why}.\n"
                                                 f"Answer: unknown\nConfidence: 0%")
