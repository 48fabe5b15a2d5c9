"""The small files in tests/eval/fixtures, one per released benchmark layout, with their golds written out
independently of the loaders, and the responses the tests grade (gold, wrong, formatting variants).

Every fixture is made up for these tests (no benchmark data); each mimics its benchmark's released layout:
TRQA-lit `{id, query, gt, category, answer_type}` with `A: text` options and multi-letter golds, the HLE
schema and an HLE `{id, query, gt}` export, a SuperGPQA export, a GPQA-Diamond CSV, LitQA2 JSONL, SciFact's
claims JSONL (integer ids), PubMedQA as JSONL and as the released ori_pqal.json (records keyed by PMID).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sciresearcher.records import Task
from sciresearcher.tasks.benchmark import options_for_sample
from sciresearcher.tasks.loaders import INSUFFICIENT, SCIFACT_OPTIONS

FIXTURES = Path(__file__).parent / "fixtures"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SUPPORT, CONTRADICT, NEI = SCIFACT_OPTIONS

# (benchmark name, fixture, {file's own id: gold}); a gold is the set of correct option TEXTS for choice
# questions (so option order and letters are the loader's business) or the answer text otherwise.
FORMS: list[tuple[str, str, dict[str, Any]]] = [
    ("trqa-lit", "trqa_lit.jsonl", {
        "trqa-lit-0001": {"Truncated guide RNAs of 17-18 nucleotides", "Engineered high-fidelity Cas9 variants",
                          "Paired Cas9 nickases"},
        "trqa-lit-0002": {"Adenine", "Guanine"},
        "trqa-lit-0003": {"Hexokinase", "Phosphofructokinase-1", "Pyruvate kinase"},
        "trqa-lit-0004": {"Mitochondrion"}}),
    ("hle-bio-chem-gold", "hle.jsonl", {
        "66f0c1a2b3d4e5f60718293a": "RuBisCO", "66f0c1a2b3d4e5f60718293b": "18.0",
        "66f0c1a2b3d4e5f60718293c": {"-78 °C"}}),
    ("hle-bio-chem-gold", "hle_query.jsonl", {
        "67a0b1c2d3e4f5061728394a": "the mitochondrial matrix", "67a0b1c2d3e4f5061728394b": {"Peptide bond"}}),
    ("supergpqa-hard-bio", "supergpqa_hard_bio.jsonl", {
        "0f1e2d3c4b5a69788796a5b4c3d2e1f0": {"0.18"}, "1a2b3c4d5e6f708192a3b4c5d6e7f809": {"Metaphase"}}),
    ("gpqa-diamond", "gpqa_diamond.csv", {
        "recT00000000000001": {"-78 °C"}, "recT00000000000002": {"Helicase"}, "recT00000000000003": {"sp"},
        "recT00000000000004": {"Glycine"}}),
    ("litqa2", "litqa2.jsonl", {
        "c0ffee00-0000-4000-8000-000000000001": {"2022"}, "c0ffee00-0000-4000-8000-000000000002": {"TP53"}}),
    ("scifact", "scifact_claims.jsonl", {"13": {SUPPORT}, "36": {CONTRADICT}, "40": {NEI}}),
    ("pubmedqa", "pubmedqa.jsonl", {"pubmedqa:90000001": "yes", "pubmedqa:90000002": "no",
                                    "pubmedqa:90000003": "maybe"}),
    ("pubmedqa", "pubmedqa_ori_pqal.json", {"90000001": "yes", "90000002": "no", "90000003": "maybe"}),
]
FORM_IDS = [f"{name}:{file}" for name, file, _ in FORMS]
assert INSUFFICIENT  # LitQA2's extra option is among the shown options, never a gold here


def fa(answer: str, confidence: int = 80) -> str:
    return f"Explanation: see the literature.\nAnswer: {answer}\nConfidence: {confidence}%"


def gold_letters(task: Task, gold: set[str]) -> str:
    """The letters, in `task`'s option order, of the options whose text is in `gold`."""
    assert task.options is not None
    letters = "".join(LETTERS[i] for i, o in enumerate(task.options) if o in gold)
    assert len(letters) == len(gold), (task.id, task.options, gold)
    return letters


def answers(task: Task, gold: Any) -> dict[str, list[str]]:
    """{"gold": [...], "wrong": [...], "variants": [...]}: Answer texts for one task as shown."""
    if isinstance(gold, set):
        letters = gold_letters(task, gold)
        texts = [task.options[LETTERS.index(ch)] for ch in letters]
        others = [ch for ch in LETTERS[: len(task.options)] if ch not in letters]
        if task.answer_type == "multiSelect":
            wrong = [others[0], letters + others[0]] + ([letters[1:]] if len(letters) > 1 else [])
            variants = [", ".join(letters.lower()), " and ".join(reversed(letters)), f"\\boxed{{{','.join(letters)}}}",
                        f"**{';'.join(letters)}**", "; ".join(texts), "\n".join(f"{ch}. {t}" for ch, t in zip(letters, texts, strict=True)),
                        f"The correct options are {' '.join(letters.lower())}."]
            return {"gold": [letters], "wrong": wrong, "variants": variants}
        (letter,), (text,) = letters, texts
        variants = [letter.lower(), f"({letter})", f"\\boxed{{{letter}}}", f"**{letter}**", text, f"{letter}. {text}",
                    f"The answer is {letter}"]
        if ":" in text:  # SciFact: the label alone
            variants.append(text.split(":")[0])
        return {"gold": [letter], "wrong": [others[0], others[-1]], "variants": variants}
    if task.answer_type == "yesNo":
        other = {"yes": "no", "no": "maybe", "maybe": "yes"}[gold]
        return {"gold": [gold], "wrong": [other], "variants": [gold.capitalize() + ".", f"**{gold}**",
                                                              f"\\boxed{{{gold}}}"]}
    return {"gold": [gold], "wrong": ["something else entirely"], "variants": [f"\\boxed{{{gold}}}", f"**{gold}**",
                                                                             gold.upper() if gold.isalpha() else gold]}


def response_rows(tasks: list[Task], golds: dict[str, Any], kind: str, seed: int = 0) -> list[dict[str, Any]]:
    """One response line per (task, answer of `kind`), each with its own sample index and shown options."""
    rows = []
    for task in tasks:
        shown_0, _ = options_for_sample(task, 0, seed)
        n = len(answers(shown_0, golds[task.id])[kind])
        for index in range(n):
            shown, _ = options_for_sample(task, index, seed)
            text = answers(shown, golds[task.id])[kind][index]
            rows.append({"task_id": task.id, "sample_index": index, "response": fa(text)})
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def gold_model(golds: dict[str, Any], questions: dict[str, str], verdicts: list[dict[str, Any]] | None = None):
    """A reply function for OpenAITestServer: answers each rendered question with its gold (letters read from
    the options as shown), and, for judge requests, says 'yes' when the response holds the correct answer."""
    def reply(body: dict[str, Any]) -> Any:
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        if user.startswith("Judge whether the following"):
            if verdicts is not None:
                verdicts.append(body)
            response = user.split("[response]: ", 1)[1].split("\n\nYour judgement", 1)[0]
            correct = user.split("[correct_answer]: ", 1)[1].split("\n\n", 1)[0]
            said = re.search(r"Answer: (.*)", response).group(1).strip()
            return json.dumps({"extracted_final_answer": said, "reasoning": "compared", "strict": True,
                               "correct": "yes" if said == correct else "no", "confidence": 80})
        task_id = next(tid for tid, q in questions.items() if q in user)
        gold = golds[task_id]
        if isinstance(gold, set):
            shown = {m.group(2).strip(): m.group(1) for m in re.finditer(r"^([A-Z])\. (.*)$", user, re.MULTILINE)}
            return fa("".join(sorted(shown[t] for t in gold)))
        return fa(gold)
    return reply
